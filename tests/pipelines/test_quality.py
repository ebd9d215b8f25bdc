"""The validate stage on a generated sample, through pipelines.runner.run: row-level quarantine,
batch-level failures that publish nothing (row count change, missing names, duplicate keys, schema
drift), per-source limits, the published quality tables, Data Docs, the scorecard and ``mdm quality``."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mdm.quality import RULES
from pipelines import runner
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.errors import MdmError
from pipelines.quality import ValidationFailed, scorecard
from pipelines.sample import generate
from pipelines.warehouse import Warehouse
from tests.pipelines.test_runner import query, write_config

ENTITIES = 300
SEED = 11
ENTITY_SOURCES = ("gleif", "cn_registry", "uk_registry", "sec", "crm")  # sources landing organisations
ALL_SOURCES = (*ENTITY_SOURCES, "gleif_rr")
CN_NAME, CN_CODE, CN_DATE, CN_ADDRESS = "企业名称", "统一社会信用代码", "注册日期", "注册地址"

cli = CliRunner()


# --- helpers ---------------------------------------------------------------------------------------


def warehouse_state(warehouse: Path) -> dict[str, str]:
    """sha256 of mdm.duckdb and of every file under parquet/ and docs/ (through their symlinks), plus
    the symlink targets: the published state a failed run must leave byte for byte as it was."""
    state = {"mdm.duckdb": hashlib.sha256((warehouse / "mdm.duckdb").read_bytes()).hexdigest()}
    for link in ("parquet", "docs"):
        root = warehouse / link
        state[f"{link} ->"] = str(root.resolve())
        for f in sorted(root.rglob("*")):
            if f.is_file():
                state[f"{link}/{f.relative_to(root)}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return state


def read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and the line each data row starts on."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows, lines = [], []
        start = reader.line_num + 1
        for row in reader:
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
    return header, rows, lines


def write_rows(path: Path, header: list[str], rows: list[list[str]], *, crlf: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(
            fh, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL if crlf else csv.QUOTE_ALL
        ).writerows([header, *rows])
    return path


def cn_file(sample: Path) -> Path:
    return sample / "registry" / "cn_registry.csv"


def uk_file(sample: Path) -> Path:
    return sample / "registry" / "uk_basiccompany.csv"


def rewrite_uk(sample: Path, dest: Path, edit) -> Path:
    """A copy of the Companies House file with ``edit(header, rows) -> rows`` applied."""
    header, rows, _ = read_rows(uk_file(sample))
    return write_rows(dest, header, edit([h.strip() for h in header], rows), crlf=False)


def copy_warehouse(src: Path, dest: Path) -> Path:
    """A private copy of a published warehouse (relative symlinks kept) for a test that publishes, with
    the key file of its config folder (the copy's config is written beside it)."""
    shutil.copytree(src, dest, symlinks=True)
    if (src.parent / ".mdm-keys").is_dir():  # a key file beside the warehouse (none with MDM_ENCRYPTION_KEY)
        shutil.copytree(src.parent / ".mdm-keys", dest.parent / ".mdm-keys", dirs_exist_ok=True)
    return dest


def failed_reports(warehouse: Path) -> set[str]:
    return {p.name for p in (warehouse / ".runs").iterdir()}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, entities=ENTITIES, seed=SEED)
    return out


@pytest.fixture(scope="module")
def base(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.RunSummary]:
    """One good run into a fresh warehouse; tests must leave it as it is (failed runs do)."""
    root = tmp_path_factory.mktemp("base")
    cfg = write_config(sample, root / "wh", root / "mdm.yaml")
    return cfg, runner.run(cfg)


@pytest.fixture(scope="module")
def quarantined(sample: Path, base: tuple[Path, runner.RunSummary], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A second run on a copy of the base warehouse whose Chinese register has one row without a name
    and one with an impossible registration date."""
    root = tmp_path_factory.mktemp("quarantine")
    wh = copy_warehouse(base[1].warehouse, root / "wh")
    header, rows, lines = read_rows(cn_file(sample))
    name_i, date_i = header.index(CN_NAME), header.index(CN_DATE)
    no_name, bad_date = 3, 7
    rows[no_name][name_i] = ""
    rows[bad_date][date_i] = "2020-13-45"
    bad = write_rows(root / "in" / "cn_registry.csv", header, rows, crlf=True)
    cfg = write_config(sample, wh, root / "mdm.yaml", cn_registry=str(bad))
    summary = runner.run(cfg)
    code_i = header.index(CN_CODE)
    return {
        "cfg": cfg,
        "summary": summary,
        "file": str(bad),
        "base_run": base[1].run_id,
        "rows": len(rows),
        "no_name": (rows[no_name][code_i].upper(), lines[no_name]),
        "bad_date": (rows[bad_date][code_i].upper(), lines[bad_date]),
    }


# --- row-level quarantine --------------------------------------------------------------------------


def test_row_without_name_is_quarantined_and_the_run_succeeds(quarantined: dict) -> None:
    s = quarantined["summary"]
    wh = s.warehouse
    assert s.ok and s.quarantined == 1
    key, line = quarantined["no_name"]
    rows = query(wh, 'SELECT run_id, source, source_id, file, line, rule, "column", value FROM quarantine')
    assert rows == [(s.run_id, "cn_registry", key, quarantined["file"], line, "name_not_null", "name", None)]
    # The quarantined row is not loaded; every other row is.
    assert query(wh, f"SELECT count(*) FROM xref WHERE source = 'cn_registry' AND source_id = '{key}'")[0][0] == 0
    assert query(wh, "SELECT count(*) FROM xref WHERE source = 'cn_registry'")[0][0] == quarantined["rows"] - 1
    assert (
        query(wh, "SELECT count(*) FROM organization_record WHERE source = 'cn_registry'")[0][0]
        == quarantined["rows"] - 1
    )
    assert s.records_per_source["cn_registry"] == quarantined["rows"] - 1
    # Not reported a second time as a missing name by the loader.
    assert query(wh, f"SELECT count(*) FROM load_issue WHERE run_id = '{s.run_id}' AND key = '{key}'")[0][0] == 0


def test_impossible_date_is_nulled_with_a_warning_not_quarantined(quarantined: dict) -> None:
    """The adapter repairs an impossible 注册日期 (NULL + bad_date warning), so no row rule sees it."""
    s = quarantined["summary"]
    key, line = quarantined["bad_date"]
    assert query(
        s.warehouse,
        f"SELECT incorporated_on FROM organization_record WHERE source = 'cn_registry' AND source_id = '{key}'",
    ) == [(None,)]
    issues = query(
        s.warehouse,
        "SELECT source, file, line, key, code, message FROM load_issue "
        f"WHERE run_id = '{s.run_id}' AND code = 'bad_date'",
    )
    assert len(issues) == 1
    source, file, iline, ikey, _, message = issues[0]
    assert (source, file, iline, ikey) == ("cn_registry", quarantined["file"], line, key)
    assert "2020-13-45" in message
    assert query(s.warehouse, f"SELECT count(*) FROM quarantine WHERE source_id = '{key}'")[0][0] == 0


def test_quarantine_keeps_earlier_runs_and_is_per_run(quarantined: dict) -> None:
    s = quarantined["summary"]
    assert query(s.warehouse, "SELECT run_id, count(*) FROM quarantine GROUP BY 1") == [(s.run_id, 1)]
    assert query(s.warehouse, f"SELECT count(*) FROM validation_result WHERE run_id = '{quarantined['base_run']}'")[0][
        0
    ] == len(ALL_SOURCES)
    (failed,) = query(
        s.warehouse, f"SELECT failed_rows FROM validation_result WHERE run_id = '{s.run_id}' AND batch = 'cn_registry'"
    )[0]
    assert failed == 1


# --- batch-level failures --------------------------------------------------------------------------


def _half_uk(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    return rows[: len(rows) // 3]  # two thirds gone: beyond the default +-50%


def _uk_names_missing(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    i = header.index("CompanyName")
    for r in rows[:5]:
        r[i] = ""
    return rows


def _uk_duplicates(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    return rows + [list(r) for r in rows[:3]]


def _cn_address_blank(sample: Path, dest: Path) -> Path:
    header, rows, _ = read_rows(cn_file(sample))
    i = header.index(CN_ADDRESS)
    for r in rows:
        r[i] = ""
    return write_rows(dest, header, rows, crlf=True)


BATCH_FAILURES = {
    # case: (source, how to break it, what the message must say)
    "row_count_change": (
        "uk_registry",
        _half_uk,
        [r"expectation expect_table_row_count_to_be_between failed: observed 24\b", "'min_value': 36"],
    ),
    "names_null": (
        "uk_registry",
        _uk_names_missing,
        [
            r"expectation expect_column_values_to_not_be_null on column 'name' failed: observed 6\.9",
            "5 of 72 values unexpected",
        ],
    ),
    "duplicate_keys": (
        "uk_registry",
        _uk_duplicates,
        [
            r"expectation expect_column_values_to_be_unique on column 'source_id' failed: observed 8\.0",
            "6 of 75 values unexpected",
        ],
    ),
    "schema_drift": (
        "cn_registry",
        None,
        [
            r"schema drift: column\(s\) address had values in the previous load \(run {base}\) "
            r"and are empty in this one"
        ],
    ),
}


def _break(case: str, sample: Path, dest: Path) -> tuple[str, Path]:
    source, edit, _ = BATCH_FAILURES[case]
    if edit is None:
        return source, _cn_address_blank(sample, dest / "cn_registry.csv")
    return source, rewrite_uk(sample, dest / "uk_basiccompany.csv", edit)


@pytest.mark.parametrize("case", list(BATCH_FAILURES))
def test_batch_failure_publishes_nothing(
    sample: Path, base: tuple[Path, runner.RunSummary], tmp_path: Path, case: str
) -> None:
    wh = base[1].warehouse
    before = warehouse_state(wh)
    runs_before = failed_reports(wh)
    raw_before = sorted(p.relative_to(wh) for p in (wh / "raw").rglob("*"))
    source, bad = _break(case, sample, tmp_path / "in")
    cfg = write_config(sample, wh, tmp_path / "mdm.yaml", **{source: str(bad)})
    with pytest.raises(MdmError) as exc:
        runner.run(cfg)
    assert type(exc.value) is ValidationFailed
    msg = str(exc.value)
    assert "nothing was published" in msg
    assert f"source '{source}'" in msg
    for pattern in BATCH_FAILURES[case][2]:
        assert re.search(pattern.format(base=base[1].run_id), msg), (pattern, msg)
    # Only the failing source is named.
    assert [s for s in ALL_SOURCES if f"source '{s}'" in msg] == [source]
    # Byte for byte as before; only the failure report and the failed run's Data Docs are new.
    assert warehouse_state(wh) == before
    assert sorted(p.relative_to(wh) for p in (wh / "raw").rglob("*")) == raw_before
    assert Warehouse(wh).latest_run() == base[1].run_id
    new = failed_reports(wh) - runs_before
    (report,) = [n for n in new if n.endswith(".failed.json")]
    failed_id = report.removesuffix(".failed.json")
    assert new == {report, f"{failed_id}.docs"}
    assert (wh / ".runs" / f"{failed_id}.docs" / "index.html").is_file()
    reason = json.loads((wh / ".runs" / report).read_text())["reason"]
    assert reason.startswith("ValidationFailed") and source in reason
    for t in ("quality_metrics", "identifier_quality", "source_load", "validation_result", "quarantine", "run_log"):
        assert query(wh, f"SELECT count(*) FROM {t} WHERE run_id = '{failed_id}'")[0][0] == 0, t


def test_exactly_half_the_rows_is_within_the_default_limit(
    sample: Path, base: tuple[Path, runner.RunSummary], tmp_path: Path
) -> None:
    """The bounds are inclusive: 36 of the previous 72 rows is a change of exactly 50%."""
    wh = copy_warehouse(base[1].warehouse, tmp_path / "wh")
    bad = rewrite_uk(sample, tmp_path / "in" / "uk.csv", lambda h, rows: rows[: len(rows) // 2])
    summary = runner.run(write_config(sample, wh, tmp_path / "mdm.yaml", uk_registry=str(bad)))
    assert query(wh, "SELECT count(*) FROM xref WHERE source = 'uk_registry'")[0][0] == 36
    assert summary.records_per_source["uk_registry"] == 36


@pytest.fixture(scope="module")
def allowed(sample: Path, base: tuple[Path, runner.RunSummary], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The row-count-change run of the failure test, on a copy of the base warehouse, with a per-source
    limit that allows it."""
    root = tmp_path_factory.mktemp("allowed")
    wh = copy_warehouse(base[1].warehouse, root / "wh")
    bad = rewrite_uk(sample, root / "in" / "uk_basiccompany.csv", _half_uk)
    cfg = write_config(
        sample, wh, root / "mdm.yaml", limits={"uk_registry": {"max_row_count_change": 0.8}}, uk_registry=str(bad)
    )
    return {"cfg": cfg, "summary": runner.run(cfg), "base_run": base[1].run_id}


def test_a_per_source_limit_lets_the_same_change_pass(allowed: dict) -> None:
    s = allowed["summary"]
    assert s.ok
    assert query(s.warehouse, "SELECT count(*) FROM xref WHERE source = 'uk_registry'")[0][0] == 24
    assert Warehouse(s.warehouse).latest_run() == s.run_id
    assert query(
        s.warehouse, f"SELECT rows FROM source_load WHERE run_id = '{s.run_id}' AND source = 'uk_registry'"
    ) == [(24,)]
    assert load_config(allowed["cfg"]).limits("uk_registry").max_row_count_change == 0.8
    assert load_config(allowed["cfg"]).limits("cn_registry").max_row_count_change == 0.5


def test_a_good_run_after_a_failed_one_publishes(
    sample: Path, base: tuple[Path, runner.RunSummary], tmp_path: Path
) -> None:
    wh = copy_warehouse(base[1].warehouse, tmp_path / "wh")
    _, bad = _break("duplicate_keys", sample, tmp_path / "in")
    with pytest.raises(ValidationFailed):
        runner.run(write_config(sample, wh, tmp_path / "bad.yaml", uk_registry=str(bad)))
    good = runner.run(write_config(sample, wh, tmp_path / "good.yaml"))
    assert good.ok and Warehouse(wh).latest_run() == good.run_id
    runs = [r for (r,) in query(wh, "SELECT DISTINCT run_id FROM validation_result ORDER BY run_id")]
    assert runs == [base[1].run_id, good.run_id]
    assert query(wh, "SELECT DISTINCT run_id FROM xref") == [(good.run_id,)]
    # The good run compares itself with the last published load, not with the failed one.
    assert query(wh, f"SELECT rows FROM source_load WHERE run_id = '{good.run_id}' AND source = 'uk_registry'") == [
        (72,)
    ]


# --- published quality tables ----------------------------------------------------------------------


def test_quality_metrics_cover_every_entity_source_and_attribute(base: tuple[Path, runner.RunSummary]) -> None:
    _, s = base
    rows = query(
        s.warehouse,
        "SELECT source, attribute, completeness, validity, uniqueness, rows "
        f"FROM quality_metrics WHERE run_id = '{s.run_id}'",
    )
    got = {(r[0], r[1]) for r in rows}
    assert got == {(src, attr) for src in ENTITY_SOURCES for attr in RULES}
    assert len(rows) == len(got)
    for src, attr, *values, _ in rows:
        assert all(v is None or 0 <= v <= 1 for v in values), (src, attr, values)
    # Every metric row counts the rows the source landed (before deduplication).
    landed = dict(query(s.warehouse, f"SELECT source, rows FROM source_load WHERE run_id = '{s.run_id}'"))
    assert {(src, n) for src, _, *_, n in rows} == {(src, landed[src]) for src in ENTITY_SOURCES}
    by = {(r[0], r[1]): r for r in rows}
    # Register keys are all present, valid and unique; an attribute the source never fills is empty.
    for src in ("gleif", "cn_registry", "uk_registry", "sec"):
        assert by[(src, "source_id")][2:5] == (1.0, 1.0, 1.0), src
    assert by[("cn_registry", "lei")][2:5] == (0.0, None, None)
    assert by[("crm", "source_id")][3] is None  # no rule for an internal key


def test_identifier_quality_adds_up_to_the_landed_rows(base: tuple[Path, runner.RunSummary]) -> None:
    _, s = base
    landed = dict(query(s.warehouse, f"SELECT source, rows FROM source_load WHERE run_id = '{s.run_id}'"))
    sums = query(
        s.warehouse,
        f"SELECT source, attribute, sum(rows) FROM identifier_quality WHERE run_id = '{s.run_id}' GROUP BY ALL",
    )
    assert {(src, attr) for src, attr, _ in sums} >= {
        ("gleif", "lei"),
        ("cn_registry", "uscc"),
        ("crm", "uscc"),
        ("crm", "lei"),
    }
    for src, attr, n in sums:
        assert n == landed[src], (src, attr)
    classes = dict(
        ((a, c), n)
        for a, c, n in query(
            s.warehouse,
            "SELECT attribute, class, rows FROM identifier_quality "
            f"WHERE run_id = '{s.run_id}' AND source = 'cn_registry'",
        )
    )
    assert classes == {("uscc", "uscc"): landed["cn_registry"]}


def test_identifier_quality_after_quarantine_counts_the_loaded_rows(quarantined: dict) -> None:
    s = quarantined["summary"]
    (landed,) = query(
        s.warehouse, f"SELECT rows FROM source_load WHERE run_id = '{s.run_id}' AND source = 'cn_registry'"
    )[0]
    assert landed == quarantined["rows"]
    (total,) = query(
        s.warehouse, f"SELECT sum(rows) FROM identifier_quality WHERE run_id = '{s.run_id}' AND source = 'cn_registry'"
    )[0]
    assert total == landed - 1


def test_validation_result_has_one_row_per_source_per_run(quarantined: dict) -> None:
    s = quarantined["summary"]
    rows = query(s.warehouse, "SELECT run_id, batch, suite, success, evaluated, detail FROM validation_result")
    runs = {quarantined["base_run"], s.run_id}
    assert sorted((r[0], r[1]) for r in rows) == sorted((run, src) for run in runs for src in ALL_SOURCES)
    fmt = {src.name: src.format for src in load_config(quarantined["cfg"]).sources}
    for _, batch, suite, success, evaluated, detail in rows:
        assert suite == fmt[batch]
        assert success is True and evaluated > 0
        assert json.loads(detail) == {"batch_failures": []}


def test_data_docs_are_published_with_every_run(base: tuple[Path, runner.RunSummary], quarantined: dict) -> None:
    first = base[1]
    html = (first.warehouse / "docs" / "index.html").read_text(encoding="utf-8")
    assert first.run_id in html
    assert "cn_registry_csv" in html
    s = quarantined["summary"]
    docs = s.warehouse / "docs"
    assert docs.is_symlink() and docs.resolve().parent.name == s.run_id
    html = (docs / "index.html").read_text(encoding="utf-8")
    assert s.run_id in html and quarantined["base_run"] in html  # the site covers every run
    for suite in ("gleif_lei_xml", "companies_house_csv", "sql", "organization_record", "golden_organization"):
        assert suite in html, suite


def test_scorecard_reports_the_change_against_the_previous_run(allowed: dict) -> None:
    s = allowed["summary"]
    card = scorecard(load_config(allowed["cfg"]))
    assert card.run_id == s.run_id and card.previous_run_id == allowed["base_run"]
    m = card.metrics
    assert {"d_rows", "d_completeness", "d_validity", "d_uniqueness"} <= set(m.columns)
    uk = m[(m["source"] == "uk_registry") & (m["attribute"] == "source_id")].iloc[0]
    assert (uk["rows"], uk["d_rows"]) == (24, 24 - 72)
    cn = m[(m["source"] == "cn_registry") & (m["attribute"] == "source_id")].iloc[0]
    assert cn["d_rows"] == 0 and cn["d_completeness"] == 0
    ids = card.identifiers.set_index(["source", "attribute", "class"])
    assert ids.loc[("cn_registry", "uscc", "uscc"), "d_rows"] == 0
    assert set(card.validations["batch"]) == set(ALL_SOURCES)
    assert card.docs == allowed["summary"].warehouse / "docs" / "index.html"


def test_scorecard_of_a_first_run_has_no_previous_run(base: tuple[Path, runner.RunSummary]) -> None:
    card = scorecard(load_config(base[0]))
    assert card.run_id == base[1].run_id and card.previous_run_id is None
    assert card.metrics["d_rows"].isna().all()
    assert card.quarantine.empty


# --- mdm quality --------------------------------------------------------------------------------------


def test_mdm_quality_prints_the_scorecard(quarantined: dict) -> None:
    s = quarantined["summary"]
    res = cli.invoke(app, ["quality", "--config", str(quarantined["cfg"])])
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"Quality of run {s.run_id} (change against run {quarantined['base_run']})" in out
    for src in ENTITY_SOURCES:
        assert f"{src}: " in out, src
    assert f"cn_registry: {quarantined['rows'] - 1} rows (-1)" in out
    for section in ("Identifiers", "Quarantined rows", "Load warnings", "Great Expectations"):
        assert section in out, section
    assert "name_not_null" in out and "bad_date" in out
    assert "uscc_bad_check" in out  # the crm source carries a few bad USCCs
    assert "Data Docs: " in out
    assert str(s.warehouse / "docs" / "index.html") in out.replace("\n", "")


def test_mdm_quality_without_a_warehouse_exits_1_without_traceback(sample: Path, tmp_path: Path) -> None:
    cfg = write_config(sample, tmp_path / "nowhere", tmp_path / "mdm.yaml")
    res = cli.invoke(app, ["quality", "--config", str(cfg)])
    assert res.exit_code == 1
    assert "no warehouse at" in res.output and "mdm run --config" in res.output
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit)


def test_mdm_quality_help_has_an_example() -> None:
    res = cli.invoke(app, ["quality", "--help"])
    assert res.exit_code == 0
    assert "Example:" in res.output and "mdm quality --config" in res.output
