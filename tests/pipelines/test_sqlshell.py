"""The analyst's side of the warehouse on a small generated sample: ``mdm sql`` (one-shot queries in
three formats, the shell on piped input, writes refused by the read-only connection) and the data
dictionary (pipelines/schema_doc.py: every table, view, macro and column described; docs/schema.md)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines import runner, schema_doc
from pipelines.cli import app
from pipelines.sample import generate

cli = CliRunner()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config of a published generated sample (every source format, so every table is filled)."""
    out = tmp_path_factory.mktemp("sqlshell") / "sample"
    generate(out, entities=60, seed=9)
    runner.run(out / "mdm.yaml")
    return out / "mdm.yaml"


def db_of(cfg: Path) -> Path:
    return cfg.parent / "warehouse" / "mdm.duckdb"


def query(cfg: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_of(cfg)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_help_has_an_example() -> None:
    res = cli.invoke(app, ["sql", "--help"])
    assert res.exit_code == 0
    assert "Example:" in res.output and "mdm sql" in res.output


def test_one_shot_query_prints_a_table(sample: Path) -> None:
    (n,) = query(sample, "SELECT count(*) FROM golden_organization")[0]
    res = cli.invoke(
        app, ["sql", "--config", str(sample), "SELECT count(*) AS golden_records FROM golden_organization"]
    )
    assert res.exit_code == 0, res.output
    assert "golden_records" in res.stdout and str(n) in res.stdout and "1 row" in res.stdout


def test_csv_and_json_formats_hold_the_query_result(sample: Path) -> None:
    sql = "SELECT golden_id, legal_name, record_count FROM golden_organization ORDER BY golden_id LIMIT 7"
    expected = query(sample, sql)
    res = cli.invoke(app, ["sql", "--config", str(sample), "--format", "csv", sql])
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["golden_id", "legal_name", "record_count"]
    assert [tuple(r) for r in rows[1:]] == [(g, name, str(c)) for g, name, c in expected]
    res = cli.invoke(app, ["sql", "--config", str(sample), "-f", "json", sql])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [
        {"golden_id": g, "legal_name": name, "record_count": c} for g, name, c in expected
    ]


def test_writes_are_refused_cleanly(sample: Path) -> None:
    before = query(sample, "SELECT count(*) FROM xref")
    for sql in ("CREATE TABLE scratch (a INTEGER)", "DELETE FROM xref", "DROP VIEW v_golden_organization"):
        res = cli.invoke(app, ["sql", "--config", str(sample), sql])
        assert res.exit_code == 1
        assert "read-only" in res.stderr and "Traceback" not in res.output
    assert query(sample, "SELECT count(*) FROM xref") == before
    assert not query(sample, "SELECT * FROM information_schema.tables WHERE table_name = 'scratch'")


def test_bad_sql_and_missing_warehouse_exit_1(sample: Path, tmp_path: Path) -> None:
    res = cli.invoke(app, ["sql", "--config", str(sample), "SELEC 1"])
    assert res.exit_code == 1 and "syntax error" in res.stderr.lower()
    res = cli.invoke(app, ["sql", "--config", str(sample), "SELECT * FROM no_such_table"])
    assert res.exit_code == 1 and "no_such_table" in res.stderr
    empty = tmp_path / "mdm.yaml"
    empty.write_text(
        f"warehouse: {tmp_path / 'nowhere'}\nsources:\n  - {{name: g, format: gleif_lei_xml, path: x.xml}}\n",
        encoding="utf-8",
    )
    res = cli.invoke(app, ["sql", "--config", str(empty), "SELECT 1"])
    assert res.exit_code == 1 and "no published warehouse" in res.stderr


def test_shell_reads_piped_statements_and_dot_commands(sample: Path) -> None:
    (n,) = query(sample, "SELECT count(*) FROM xref")[0]
    script = (
        "-- a comment line is part of the next statement\n"
        ".tables\n"
        "SELECT count(*) AS xref_rows\n"
        "  FROM xref;\n"
        ".schema v_organization_group\n"
        ".schema golden_organization_as_of\n"
        "SELECT 41 + 1 AS answer; SELECT 'two statements' AS second;\n"
        ".quit\n"
        "SELECT 'after quit' AS never;\n"
    )
    res = cli.invoke(app, ["sql", "--config", str(sample), "--format", "csv"], input=script)
    assert res.exit_code == 0, res.output
    out = res.stdout
    for name in (
        "golden_organization,table",
        "golden_organization_history,table",
        "v_organization_group,view",
        "golden_organization_as_of,table macro",
    ):
        assert name in out
    assert f"xref_rows\n{n}\n" in out
    assert "group_id,VARCHAR" in out and "depth,INTEGER" in out
    assert "golden_organization_as_of(ts)" in out
    assert "answer\n42\n" in out and "second\ntwo statements\n" in out
    assert "after quit" not in out


def test_shell_goes_on_after_an_error_and_reports_it_in_the_exit_code(sample: Path) -> None:
    script = "DELETE FROM golden_organization;\nSELECT count(*) AS still_there FROM golden_organization;\n.nope\n"
    res = cli.invoke(app, ["sql", "--config", str(sample)], input=script)
    assert res.exit_code == 1
    assert "read-only" in res.stderr and "unknown command .nope" in res.stderr
    assert "still_there" in res.stdout
    (n,) = query(sample, "SELECT count(*) FROM golden_organization")[0]
    assert n > 0 and str(n) in res.stdout


def test_as_of_macro_through_the_shell(sample: Path) -> None:
    (n,) = query(sample, "SELECT count(*) FROM golden_organization")[0]
    res = cli.invoke(
        app,
        [
            "sql",
            "--config",
            str(sample),
            "-f",
            "json",
            "SELECT count(*) AS n FROM golden_organization_as_of(now()::TIMESTAMP)",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"n": n}]


# --- the data dictionary --------------------------------------------------------------------------------


def test_every_table_view_macro_and_column_is_documented(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "schema.md"
    text, missing = schema_doc.generate(db_of(sample), out)
    assert missing == [], "describe these in pipelines/schema_doc.py: " + ", ".join(missing)
    assert out.read_text(encoding="utf-8") == text
    con = duckdb.connect(str(db_of(sample)), read_only=True)
    try:
        rels = schema_doc.catalogue(con)
    finally:
        con.close()
    names = {r.name for r in rels}
    assert {
        "golden_organization_history",
        "golden_hierarchy",
        "golden_financial_fact",
        "v_golden_organization",
        "v_organization_group",
        "v_hierarchy",
        "v_golden_financials_latest",
        "v_financial_latest",
        "golden_organization_as_of",
    } <= names
    for r in rels:
        assert f"## {r.name}\n" in text
        if r.kind != "table macro":
            for col, _ in r.columns:
                assert f"| `{col}` |" in text
    assert "(undocumented)" not in text


def test_an_undocumented_column_is_reported() -> None:
    rels = [
        schema_doc.Relation("golden_organization", "table", [("golden_id", "VARCHAR"), ("shoe_size", "INTEGER")]),
        schema_doc.Relation("v_golden_organization", "view", [("shoe_size", "INTEGER")]),
        schema_doc.Relation("mystery", "table", [("run_id", "VARCHAR")]),
        schema_doc.Relation("mystery_macro", "table macro", [("x", "")]),
    ]
    assert schema_doc.undocumented(rels) == [
        "golden_organization.shoe_size",
        "v_golden_organization.shoe_size",
        "mystery",
        "mystery_macro",
    ]


def test_schema_doc_command_and_the_committed_docs(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "schema.md"
    assert schema_doc.main(["--config", str(sample), "--out", str(out)]) == 0
    committed = schema_doc.DOC_PATH.read_text(encoding="utf-8")
    # docs/schema.md names every relation of a current warehouse (regenerate it when one is added)
    for line in out.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            assert line + "\n" in committed, f"docs/schema.md lacks {line}; run python -m pipelines.schema_doc"
