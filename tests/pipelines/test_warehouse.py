"""The published warehouse's helpers (pipelines.warehouse) that the runner tests do not reach directly."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import pipelines.warehouse as warehouse
from pipelines.warehouse import KEEP_DOCS_RUNS, Warehouse, arrow_sql, query_sql, unordered


def test_seed_docs_keeps_the_results_of_the_latest_runs(tmp_path: Path) -> None:
    """A run's Data Docs start from the published results of the last KEEP_DOCS_RUNS runs only, so the
    site (and the time to render it) does not grow with every run ever made."""
    results = tmp_path / "wh" / "docs" / "_results"
    runs = [f"202611{day:02d}T120000000000-abc{day:03d}" for day in range(1, KEEP_DOCS_RUNS + 6)]
    for run in runs:
        for suite in (("sql",), ("sql", "row")):
            f = results.joinpath(*suite, run, "20261101T120000.000000Z", "mdm-crm.json")
            f.parent.mkdir(parents=True)
            f.write_text("{}")
    (results / ".ge_store_backend_id").write_text("store-id")
    site = tmp_path / "wh" / "docs"
    for run in runs:  # the rendered pages of the same runs
        page = site / "validations" / "sql" / run / "20261101T120000.000000Z" / "mdm-crm.html"
        page.parent.mkdir(parents=True)
        page.write_text("<html/>")
    (site / "index.html").write_text("<html/>")
    (site / "expectations").mkdir()
    (site / "expectations" / "sql.html").write_text("<html/>")
    docs = tmp_path / "run-docs"
    Warehouse(tmp_path / "wh").seed_docs(docs)
    copied = {p.relative_to(docs / "_results").parts[-3] for p in (docs / "_results").rglob("*.json")}
    assert copied == set(runs[-KEEP_DOCS_RUNS:])
    assert len(list((docs / "_results" / "sql" / "row").iterdir())) == KEEP_DOCS_RUNS
    assert (docs / "_results" / ".ge_store_backend_id").read_text() == "store-id"
    pages = {p.parts[-3] for p in (docs / "validations").rglob("*.html")}
    assert pages == set(runs[-KEEP_DOCS_RUNS:])
    assert (docs / "index.html").is_file() and (docs / "expectations" / "sql.html").is_file()


def test_seed_docs_without_published_docs_does_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "run-docs"
    Warehouse(tmp_path / "wh").seed_docs(docs)
    assert not docs.exists()


def _ordered(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0])


def test_unordered_writes_unordered_and_puts_the_order_back(tmp_path: Path) -> None:
    """Inside, inserts may reorder (the setting is global: every cursor sees it); after, even after a failed
    statement, the database keeps insertion order again, as DuckDB's default."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    cursor = con.cursor()
    assert _ordered(con)
    with unordered(con):
        assert not _ordered(con) and not _ordered(cursor)
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    assert _ordered(con) and _ordered(cursor)
    with pytest.raises(duckdb.CatalogException), unordered(con):
        con.execute("INSERT INTO missing SELECT 1")
    assert _ordered(con)
    assert con.execute("SELECT count(*), sum(i) FROM t").fetchall() == [(1000, sum(range(1000)))]


def test_arrow_sql_runs_a_files_one_query_with_bound_values_into_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "names.sql").write_text("SELECT id, name FROM t WHERE name <> $skip ORDER BY id;\n")
    (tmp_path / "q" / "two.sql").write_text("SELECT 1; SELECT 2;\n")
    monkeypatch.setattr(warehouse, "SQL_DIR", tmp_path)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'Acme'), (2, 'O''Brien & Co'), (3, NULL)) v(id, name)")
    table = arrow_sql(con, "q/names", {"skip": "Acme", "unused": 1})
    assert table.to_pydict() == {"id": [2], "name": ["O'Brien & Co"]}  # the value bound, NULL <> x is unknown
    assert table.to_pandas().equals(query_sql(con, "q/names", {"skip": "Acme"}).df())
    with pytest.raises(KeyError, match="skip"):
        arrow_sql(con, "q/names")
    with pytest.raises(ValueError, match="exactly one statement"):
        arrow_sql(con, "q/two")
