"""The ``mdm`` command line, driven through typer's CliRunner: help texts, errors without tracebacks,
``mdm generate``, ``mdm run`` and ``mdm demo`` on small generated samples."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

cli = CliRunner()


def flat(output: str) -> str:
    """The output with the line breaks a narrow console inserts removed."""
    return output.replace("\n", "")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "sample"
    res = cli.invoke(app, ["generate", "--out", str(out), "--entities", "120", "--seed", "5"])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("command", ["run", "generate", "demo"])
def test_help_of_each_command_has_an_example(command: str) -> None:
    res = cli.invoke(app, [command, "--help"])
    assert res.exit_code == 0
    assert "Example:" in res.output
    assert f"mdm {command}" in res.output


def test_top_level_help_lists_the_commands() -> None:
    res = cli.invoke(app, ["--help"])
    assert res.exit_code == 0
    for command in ("run", "generate", "demo"):
        assert command in res.output


def test_generate_writes_the_sample(sample: Path) -> None:
    for rel in (
        "mdm.yaml",
        "truth.csv",
        "registry/gleif_lei2.xml",
        "registry/gleif_rr.xml",
        "registry/cn_registry.csv",
        "registry/uk_basiccompany.csv",
        "financials/sub.txt",
        "financials/num.txt",
        "internal/crm.sqlite",
    ):
        assert (sample / rel).is_file() and (sample / rel).stat().st_size > 0, rel
    assert len((sample / "truth.csv").read_text(encoding="utf-8").splitlines()) > 120


def test_generate_prints_counts_and_the_next_command(tmp_path: Path) -> None:
    out = tmp_path / "s"
    res = cli.invoke(app, ["generate", "-o", str(out), "-n", "20", "-s", "1"])
    assert res.exit_code == 0, res.output
    text = flat(res.output)
    assert "entities" in text and "mdm run --config" in text
    assert str(out / "mdm.yaml") in text


def test_generate_rejects_zero_entities(tmp_path: Path) -> None:
    res = cli.invoke(app, ["generate", "--out", str(tmp_path / "s"), "--entities", "0"])
    assert res.exit_code != 0
    assert not (tmp_path / "s").exists()


def test_generate_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "mdm.yaml").write_text("warehouse: /data/prod\n", encoding="utf-8")
    res = cli.invoke(app, ["generate", "--out", str(out), "--entities", "20"])
    assert res.exit_code == 1
    assert res.exception is None or isinstance(res.exception, SystemExit)
    text = flat(res.output)
    assert str(out) in text and "not empty" in text and "--force" in text and "Traceback" not in text
    assert (out / "mdm.yaml").read_text(encoding="utf-8") == "warehouse: /data/prod\n"
    assert sorted(p.name for p in out.iterdir()) == ["mdm.yaml"]  # nothing written


def test_generate_refuses_a_file_as_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "a-file"
    out.write_text("x", encoding="utf-8")
    res = cli.invoke(app, ["generate", "--out", str(out), "--entities", "20"])
    assert res.exit_code == 1 and "not a folder" in flat(res.output)
    assert out.read_text(encoding="utf-8") == "x"


def test_generate_into_an_existing_empty_folder(tmp_path: Path) -> None:
    res = cli.invoke(app, ["generate", "--out", str(tmp_path), "--entities", "20"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "mdm.yaml").is_file()


def test_generate_force_overwrites_a_non_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "mdm.yaml").write_text("warehouse: /data/prod\n", encoding="utf-8")
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    res = cli.invoke(app, ["generate", "--out", str(out), "--entities", "20", "--force"])
    assert res.exit_code == 0, res.output
    assert "sources:" in (out / "mdm.yaml").read_text(encoding="utf-8")
    assert (out / "internal" / "crm.sqlite").is_file()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_demo_runs_again_on_its_own_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    for _ in range(2):
        res = cli.invoke(app, ["demo", "--out", str(out), "--entities", "20", "--seed", "3"])
        assert res.exit_code == 0, res.output
        assert "golden records:" in flat(res.output)


def test_run_prints_the_summary(sample: Path) -> None:
    res = cli.invoke(app, ["run", "--config", str(sample / "mdm.yaml")])
    assert res.exit_code == 0, res.output
    db = sample / "warehouse" / "mdm.duckdb"
    assert db.is_file()
    con = duckdb.connect(str(db), read_only=True)
    try:
        golden = con.execute("SELECT count(*) FROM golden_organization").fetchone()[0]
    finally:
        con.close()
    text = flat(res.output)
    assert f"golden records: {golden:,}" in text
    assert str(db) in text
    assert "example query" in text and "mdm sql --config" in text and "FROM customer_360" in text
    assert not re.search(r"(^|\s)duckdb\s", text)  # no duckdb binary suggested
    for stage in ("extract", "standardise", "match", "cluster", "survive", "publish"):
        assert stage in text
    assert "Traceback" not in res.output


def test_run_full_reads_and_recomputes_everything(sample: Path) -> None:
    """After a first run, a plain rerun is incremental (the CRM by change-data capture); --full is not."""
    import json

    def details(run_id: str) -> dict[str, dict]:
        con = duckdb.connect(str(sample / "warehouse" / "mdm.duckdb"), read_only=True)
        try:
            rows = con.execute("SELECT stage, detail FROM run_log WHERE run_id = ?", [run_id]).fetchall()
        finally:
            con.close()
        return {stage: json.loads(d) for stage, d in rows if d}

    def latest() -> str:
        con = duckdb.connect(str(sample / "warehouse" / "mdm.duckdb"), read_only=True)
        try:
            return con.execute("SELECT max(run_id) FROM run_log").fetchone()[0]
        finally:
            con.close()

    for args in ([], [], ["--full"]):
        res = cli.invoke(app, ["run", "--config", str(sample / "mdm.yaml"), *args])
        assert res.exit_code == 0, res.output
        if not args:
            incremental = details(latest())
    assert "crm" in incremental["extract"]["changes"] and incremental["extract"]["reused_loads"]
    assert incremental["standardise"]["incremental"] is True
    full = details(latest())
    assert full["extract"]["changes"] == {} and full["extract"]["reused_loads"] == {}
    assert full["standardise"]["incremental"] is False and full["match"]["incremental"] is False


def test_run_prints_paths_unbroken(tmp_path: Path) -> None:
    out = tmp_path / ("x" * 200) / ("y" * 200)
    assert cli.invoke(app, ["generate", "--out", str(out), "--entities", "20"]).exit_code == 0
    res = cli.invoke(app, ["run", "--config", str(out / "mdm.yaml")])
    assert res.exit_code == 0, res.output
    assert str(out / "warehouse" / "mdm.duckdb") in res.output


def test_run_with_bad_config_exits_with_the_error_and_no_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "warehouse: wh\nsources:\n  - {name: uk, format: companies_house_xlsx, path: x.csv}\n", encoding="utf-8"
    )
    res = cli.invoke(app, ["run", "--config", str(cfg)])
    assert res.exit_code == 1
    assert isinstance(res.exception, SystemExit)
    text = flat(res.output)
    assert "error" in text and str(cfg) in text and "sources.uk.format" in text
    assert "Traceback" not in res.output
    assert not (tmp_path / "wh").exists()


def test_run_with_missing_config_file(tmp_path: Path) -> None:
    res = cli.invoke(app, ["run", "--config", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 1
    assert "config file not found" in flat(res.output)
    assert "Traceback" not in res.output


def test_run_with_unreadable_source_names_it_and_keeps_the_warehouse(sample: Path, tmp_path: Path) -> None:
    xml = tmp_path / "lei.xml"
    data = (sample / "registry" / "gleif_lei2.xml").read_bytes()
    xml.write_bytes(data[: len(data) // 2])
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(
        f'warehouse: wh\nsources:\n  - {{name: lei, format: gleif_lei_xml, path: "{xml}"}}\n', encoding="utf-8"
    )
    res = cli.invoke(app, ["run", "--config", str(cfg)])
    assert res.exit_code == 1
    text = flat(res.output)
    assert "source 'lei'" in text and str(xml) in text
    assert "left as it was" in text
    assert "Traceback" not in res.output
    assert not (tmp_path / "wh" / "mdm.duckdb").exists()


def test_run_with_a_folder_as_config(tmp_path: Path) -> None:
    res = cli.invoke(app, ["run", "--config", str(tmp_path)])
    assert res.exit_code == 1
    assert isinstance(res.exception, SystemExit)
    assert str(tmp_path) in flat(res.output)


def test_demo_generates_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = cli.invoke(app, ["demo", "--out", str(out), "--entities", "30", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert (out / "mdm.yaml").is_file() and (out / "warehouse" / "mdm.duckdb").is_file()
    assert "golden records:" in flat(res.output)
