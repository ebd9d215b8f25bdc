"""The pipeline config: loading, resolving relative paths, and rejecting bad configs before any work.

Every bad config must raise :class:`ConfigError` whose message names the offending key and the config
file, and ``runner.run`` on it must fail the same way without creating the warehouse.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipelines.config import DEFAULT_FORMAT_PRIORITY, load_config
from pipelines.errors import ConfigError


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _sqlite(path: Path) -> Path:
    """A real, tiny SQLite CRM database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (source_id TEXT, name TEXT)")
    con.execute("INSERT INTO customers VALUES ('C1', 'Acme Ltd')")
    con.commit()
    con.close()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config folder holding small input files referenced by relative paths."""
    root = tmp_path / "project"
    _write(root / "data" / "lei.xml", "<x/>")
    _write(root / "data" / "rr.xml", "<x/>")
    _write(root / "data" / "ch.csv", "CompanyName,CompanyNumber\nAcme Ltd,00000001\n")
    _write(root / "data" / "cn.csv", "企业名称,统一社会信用代码\n某某有限公司,91110000100000000X\n")
    (root / "data" / "sec").mkdir(parents=True)
    _sqlite(root / "db" / "crm.sqlite")
    return root


GOOD = """\
warehouse: out/wh
sources:
  - {name: gleif, format: gleif_lei_xml, path: data/lei.xml}
  - {name: rr, format: gleif_rr_xml, path: ./data/rr.xml}
  - {name: uk, format: companies_house_csv, path: data/ch.csv, chunk_size: 10}
  - {name: cn, format: cn_registry_csv, path: data/cn.csv, encoding: gb18030}
  - {name: sec, format: sec_fsds, path: data/sec}
  - name: crm
    format: sql
    url: sqlite:///db/crm.sqlite
    queries: {customers: "SELECT source_id, name FROM customers"}
    priority: 1
matching: {match_threshold: 0.95}
"""


def test_valid_config_resolves_relative_paths_against_its_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_file = _write(project / "conf" / ".." / "mdm.yaml", GOOD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # resolution must not depend on the working directory
    cfg = load_config(cfg_file)
    root = project.resolve()
    assert cfg.config_path == (project / "mdm.yaml").resolve()
    assert cfg.warehouse == root / "out" / "wh"
    assert [s.name for s in cfg.sources] == ["gleif", "rr", "uk", "cn", "sec", "crm"]
    assert cfg.source("gleif").path == root / "data" / "lei.xml"
    assert cfg.source("rr").path == root / "data" / "rr.xml"
    assert cfg.source("sec").path == root / "data" / "sec"
    assert all(s.path is None or s.path.is_absolute() for s in cfg.sources)
    assert cfg.source("crm").url == f"sqlite:///{root / 'db' / 'crm.sqlite'}"
    assert cfg.source("crm").path is None
    assert cfg.source("uk").chunk_size == 10
    assert cfg.source("cn").encoding == "gb18030"
    assert cfg.source("gleif").encoding == "utf-8" and cfg.source("gleif").chunk_size == 50_000
    assert cfg.matching.match_threshold == 0.95
    assert cfg.matching.review_threshold == 0.50  # the default
    # The warehouse is not created by loading a config.
    assert not (root / "out").exists()


def test_absolute_and_memory_sqlite_urls_are_kept(project: Path) -> None:
    db = (project / "db" / "crm.sqlite").resolve()
    cfg_file = _write(
        project / "abs.yaml",
        f"""\
warehouse: {project / "wh"}
sources:
  - {{name: a, format: sql, url: "sqlite:///{db}", queries: {{customers: "SELECT 1"}}}}
  - {{name: m, format: sql, url: "sqlite:///:memory:", queries: {{customers: "SELECT 1"}}}}
  - {{name: p, format: sql, url: "postgresql+psycopg://u:pw@db.example:5432/crm", queries: {{customers: "SELECT 1"}}}}
""",
    )
    cfg = load_config(cfg_file)
    assert cfg.source("a").url == f"sqlite:///{db}"
    assert cfg.source("m").url == "sqlite:///:memory:"
    assert cfg.source("p").url == "postgresql+psycopg://u:pw@db.example:5432/crm"
    assert cfg.warehouse == project / "wh"


def test_relative_sqlite_url_with_driver_resolves_against_config_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_file = _write(
        project / "drv.yaml",
        """\
warehouse: wh
sources:
  - {name: crm, format: sql, url: "sqlite+pysqlite:///db/crm.sqlite", queries: {customers: "SELECT 1"}}
""",
    )
    monkeypatch.chdir(tmp_path)
    cfg = load_config(cfg_file)
    assert cfg.source("crm").url == f"sqlite+pysqlite:///{(project / 'db' / 'crm.sqlite').resolve()}"


def test_default_priority_puts_registers_first_and_explicit_priority_wins(project: Path) -> None:
    cfg = load_config(_write(project / "mdm.yaml", GOOD))
    ranks = {s.name: cfg.priority(s.name) for s in cfg.sources}
    assert ranks["crm"] == 1.0  # explicit
    by_default = sorted((n for n in ranks if n != "crm"), key=ranks.__getitem__)
    assert by_default == sorted(by_default, key=lambda n: DEFAULT_FORMAT_PRIORITY.index(cfg.source(n).format))
    assert by_default[0] == "gleif" and by_default[-1] == "rr"


def test_check_files_false_skips_existence_checks(tmp_path: Path) -> None:
    cfg_file = _write(
        tmp_path / "c.yaml",
        """\
warehouse: wh
sources:
  - {name: uk, format: companies_house_csv, path: nowhere.csv}
  - {name: crm, format: sql, url: "sqlite:///nowhere.sqlite", queries: {customers: "SELECT 1"}}
""",
    )
    cfg = load_config(cfg_file, check_files=False)
    assert cfg.source("uk").path == tmp_path.resolve() / "nowhere.csv"
    with pytest.raises(ConfigError, match="file not found"):
        load_config(cfg_file)


def _src(line: str) -> str:
    return f"warehouse: wh\nsources:\n  - {line}\n"


UK = "{name: uk, format: companies_house_csv, path: data/ch.csv}"
# (case id, config text, substrings the message must hold besides the file name)
BAD: list[tuple[str, str | bytes, list[str]]] = [
    ("unknown_top_level_key", f"warehouse: wh\nwarehous: typo\nsources:\n  - {UK}\n", ["warehous", "not permitted"]),
    (
        "unknown_source_key",
        _src("{name: uk, format: companies_house_csv, path: data/ch.csv, delimiter: ';'}"),
        ["sources.uk.delimiter"],
    ),
    (
        "unknown_format",
        _src("{name: uk, format: companies_house_xlsx, path: data/ch.csv}"),
        ["sources.uk.format", "companies_house_csv"],
    ),
    ("missing_path_key", _src("{name: uk, format: companies_house_csv}"), ["sources.uk", "needs 'path'"]),
    (
        "missing_path_file",
        _src("{name: uk, format: companies_house_csv, path: data/missing.csv}"),
        ["sources.uk.path", "missing.csv", "not found"],
    ),
    (
        "sql_without_queries",
        _src("{name: crm, format: sql, url: 'sqlite:///db/crm.sqlite'}"),
        ["sources.crm", "queries", "customers"],
    ),
    (
        "sql_without_customers",
        _src("{name: crm, format: sql, url: 'sqlite:///db/crm.sqlite', queries: {accounts: 'SELECT 1'}}"),
        ["sources.crm", "customers"],
    ),
    (
        "sql_unknown_query",
        _src(
            "{name: crm, format: sql, url: 'sqlite:///db/crm.sqlite', queries: {customers: 'SELECT 1', loans: 'SELECT 1'}}"
        ),
        ["sources.crm", "loans"],
    ),
    (
        "sql_with_path",
        _src(
            "{name: crm, format: sql, url: 'sqlite:///db/crm.sqlite', path: data/ch.csv, "
            "queries: {customers: 'SELECT 1'}}"
        ),
        ["sources.crm", "path"],
    ),
    (
        "bad_sqlalchemy_url",
        _src("{name: crm, format: sql, url: 'not a url', queries: {customers: 'SELECT 1'}}"),
        ["sources.crm.url", "SQLAlchemy URL"],
    ),
    (
        "missing_sqlite_file",
        _src("{name: crm, format: sql, url: 'sqlite:///db/absent.sqlite', queries: {customers: 'SELECT 1'}}"),
        ["sources.crm.url", "absent.sqlite", "not found"],
    ),
    (
        "changes_for_unknown_query",
        _src(
            "{name: crm, format: sql, url: 'sqlite:///db/crm.sqlite', queries: {customers: 'SELECT 1'}, "
            "changes: {accounts: updated_at}}"
        ),
        ["sources.crm", "changes", "'accounts'"],
    ),
    (
        "changes_column_not_a_name",
        _src(
            "{name: crm, format: sql, url: 'sqlite:///db/crm.sqlite', queries: {customers: 'SELECT 1'}, "
            "changes: {customers: 'updated_at\\\" OR 1=1 --'}}"
        ),
        ["sources.crm", "changes.customers", "plain column name"],
    ),
    (
        "changes_on_a_file_source",
        _src("{name: uk, format: companies_house_csv, path: data/ch.csv, changes: {customers: updated_at}}"),
        ["sources.uk", "changes"],
    ),
    ("duplicate_source_names", f"warehouse: wh\nsources:\n  - {UK}\n  - {UK}\n", ["sources", "duplicate", "'uk'"]),
    (
        "bad_encoding",
        _src("{name: uk, format: companies_house_csv, path: data/ch.csv, encoding: utf-9}"),
        ["sources.uk.encoding", "utf-9"],
    ),
    (
        "bad_source_name",
        _src("{name: 'my source', format: companies_house_csv, path: data/ch.csv}"),
        ["sources.my source.name"],
    ),
    (
        "zero_chunk_size",
        _src("{name: uk, format: companies_house_csv, path: data/ch.csv, chunk_size: 0}"),
        ["sources.uk.chunk_size"],
    ),
    (
        "threshold_out_of_range",
        f"warehouse: wh\nsources:\n  - {UK}\nmatching: {{match_threshold: 1.5}}\n",
        ["matching.match_threshold"],
    ),
    ("no_sources", "warehouse: wh\nsources: []\n", ["sources", "at least one source"]),
    ("missing_warehouse", f"sources:\n  - {UK}\n", ["warehouse", "required"]),
    ("not_yaml", "warehouse: wh\nsources: [\n  - {name: uk\n", ["not valid YAML"]),
    ("yaml_not_a_mapping", "- just\n- a list\n", ["expected a mapping"]),
    ("empty_file", "", ["expected a mapping"]),
    ("not_utf8", "warehouse: caf\xe9\n".encode("latin-1") + f"sources:\n  - {UK}\n".encode(), ["not UTF-8"]),
]


@pytest.mark.parametrize(("text", "needles"), [pytest.param(t, n, id=i) for i, t, n in BAD])
def test_bad_config_raises_config_error_naming_key_and_file(
    project: Path, text: str | bytes, needles: list[str]
) -> None:
    cfg_file = _write(project / "bad.yaml", text)
    with pytest.raises(ConfigError) as exc:
        load_config(cfg_file)
    msg = str(exc.value)
    assert str(cfg_file) in msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    assert "Traceback" not in msg


@pytest.mark.parametrize(("text", "needles"), [pytest.param(t, n, id=i) for i, t, n in BAD[:6]])
def test_runner_rejects_bad_config_before_any_work(project: Path, text: str | bytes, needles: list[str]) -> None:
    from pipelines import runner

    cfg_file = _write(project / "bad.yaml", text)
    with pytest.raises(ConfigError):
        runner.run(cfg_file)
    with pytest.raises(ConfigError):
        runner.start_run(cfg_file)
    assert not (project / "wh").exists()


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as exc:
        load_config(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(exc.value)


def test_config_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert str(tmp_path) in str(exc.value)
