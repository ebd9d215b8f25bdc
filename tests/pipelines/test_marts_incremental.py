"""Incremental marts (pipelines.mart_scope, sql/publish/mart_scope.sql): an incremental publish that recomputes
only the affected golden records' mart rows gives exactly the marts of a full rebuild from the same database.

Each case starts from one published warehouse, changes its tables the way a run would before the marts are
built (golden records recomputed by survive carry this run's run id, golden/hierarchy and golden/financials
are run again), builds the marts incrementally, then rebuilds them in full from a copy of the same database
and compares every mart as a multiset (doubles within 1e-9 relative: sums depend on the order)."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines import mart_scope, runner
from pipelines.config import load_config
from pipelines.marts import build_marts
from pipelines.sample import generate
from pipelines.warehouse import run_sql
from tests.conftest import sample_config

ENTITIES, SEED = 700, 11
RUN = "20990101T000000000000-abcdef"
MARTS = (*mart_scope.SCOPED_MARTS, "segment")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(config, published database) of one full run."""
    root = tmp_path_factory.mktemp("marts_inc")
    generate(root / "sample", entities=ENTITIES, seed=SEED)
    cfg = sample_config(root / "sample", root / "wh", root / "mdm.yaml")
    runner.run(cfg)
    return cfg, (root / "wh" / "mdm.duckdb").resolve()


def _canon(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) else float(f"{v:.10g}")  # 1e-9 relative, order-free
    if isinstance(v, list):
        return tuple(_canon(x) for x in v)
    return v


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> Counter:
    return Counter(tuple(_canon(v) for v in row) for row in con.execute(f"SELECT * FROM {table}").fetchall())


def _assert_same(a: duckdb.DuckDBPyConnection, b: duckdb.DuckDBPyConnection) -> None:
    for table in MARTS:
        got, want = _rows(a, table), _rows(b, table)
        assert sum(want.values()) > 0 or table not in ("customer_month", "customer_360", "segment")
        extra, missing = got - want, want - got
        assert not extra and not missing, f"{table}: {len(extra)} rows only incremental, {len(missing)} only full"


def _close(a: tuple, b: tuple) -> bool:
    return all(
        math.isclose(x, y, rel_tol=1e-9) if isinstance(x, float) and isinstance(y, float) else x == y
        for x, y in zip(a, b, strict=True)
    )


def _golden_steps(con: duckdb.DuckDBPyConnection) -> None:
    """What publish does before the marts: the derived golden tables and the views again."""
    for step in ("hierarchy", "financials"):
        run_sql(con, f"golden/{step}", {"run": RUN, "now": "2099-01-01 00:00:00"})
    run_sql(con, "marts/views")


def _build(
    tmp: Path,
    base: tuple[Path, Path],
    change: Callable[[duckdb.DuckDBPyConnection], None],
    monkeypatch: pytest.MonkeyPatch,
    config: Path | None = None,
    reloaded: bool = True,
) -> tuple[str | None, set[str]]:
    """Apply ``change`` to a copy of the published database, build the marts incrementally, rebuild them in
    full from a copy of the same changed database, assert both agree; returns (the scope decision, scope)."""
    cfg_path, db = base
    inc, full = tmp / "inc.duckdb", tmp / "full.duckdb"
    shutil.copy(db, inc)
    seen: dict[str, Any] = {}
    real = mart_scope.choose_scope

    def spy(con: duckdb.DuckDBPyConnection, run_id: str, inputs: dict[str, str]) -> str | None:
        seen["month"] = real(con, run_id, inputs)
        full = seen["month"] is None  # a full build drops the scope
        seen["scope"] = set() if full else {r[0] for r in con.execute("SELECT golden_id FROM _mart_scope").fetchall()}
        return seen["month"]

    monkeypatch.setattr(mart_scope, "choose_scope", spy)
    cfg = load_config(config or cfg_path, check_files=False)
    con = duckdb.connect(str(inc))
    try:
        change(con)
        _golden_steps(con)
        con.execute("CHECKPOINT")
        shutil.copy(inc, full)
        if reloaded:
            con.execute("CREATE TABLE run_reloaded (table_name VARCHAR, source VARCHAR)")
        build_marts(con, cfg, RUN)
    finally:
        con.close()
    decision = dict(seen)
    con = duckdb.connect(str(full))
    try:
        con.execute("DELETE FROM mart_state")  # no recorded state: a full build
        build_marts(con, cfg, RUN)
    finally:
        con.close()
    a, b = duckdb.connect(str(inc), read_only=True), duckdb.connect(str(full), read_only=True)
    try:
        _assert_same(a, b)
    finally:
        a.close()
        b.close()
    return decision["month"], decision["scope"]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return row[0] if len(row) == 1 else row


BIG_GROUP = """SELECT group_id FROM customer_360 GROUP BY group_id
               HAVING count(*) > 2 AND sum(account_count) > 0 ORDER BY count(*) DESC, group_id LIMIT 1"""
# A golden record with accounts and balances, alone in its group, and one of its records that has accounts.
LONE_CUSTOMER = """SELECT c.golden_id, x.rid FROM customer_360 AS c
    JOIN xref AS x USING (golden_id) JOIN account AS a ON a.source = x.source AND a.source_id = x.source_id
    WHERE c.group_size = 1 AND c.total_balance > 0 {extra}
    ORDER BY c.golden_id, x.rid LIMIT 1"""


def _recompute(con: duckdb.DuckDBPyConnection, *ids: str) -> None:
    """Survive's contract: a golden record whose records changed is recomputed with this run's id."""
    con.execute(
        "UPDATE golden_organization SET run_id = $run WHERE golden_id IN (SELECT unnest($ids))",
        {"run": RUN, "ids": list(ids)},
    )


def _move(con: duckdb.DuckDBPyConnection, rid: str, to: str) -> None:
    con.execute("UPDATE xref SET golden_id = $g WHERE rid = $r", {"g": to, "r": rid})
    con.execute("UPDATE organization_record SET golden_id = $g WHERE rid = $r", {"g": to, "r": rid})


def test_nothing_changed_gives_an_empty_scope(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    month, scope = _build(tmp_path, base, lambda con: None, monkeypatch)
    assert month is not None and scope == set()


def test_a_changed_group_top_renames_its_whole_group(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    def change(con: duckdb.DuckDBPyConnection) -> None:
        top = _one(con, BIG_GROUP)
        con.execute(
            "UPDATE golden_organization SET legal_name = legal_name || ' Renamed', country = 'NZ' WHERE golden_id = $g",
            {"g": top},
        )
        _recompute(con, top)
        members = {
            r[0] for r in con.execute("SELECT golden_id FROM customer_360 WHERE group_id = $g", {"g": top}).fetchall()
        }
        change.members = members  # type: ignore[attr-defined]

    month, scope = _build(tmp_path, base, change, monkeypatch)
    assert month is not None
    assert scope == change.members  # type: ignore[attr-defined]  # the top and every member (group_name)


def test_a_record_moving_between_golden_records(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    def change(con: duckdb.DuckDBPyConnection) -> None:
        a, rid = _one(con, LONE_CUSTOMER.format(extra=""))
        b = _one(con, f"SELECT group_id FROM ({BIG_GROUP})")  # into the top of a big group
        _move(con, rid, b)
        _recompute(con, a, b)

    month, scope = _build(tmp_path, base, change, monkeypatch)
    assert month is not None and 2 < len(scope) < 100


def test_a_new_and_a_removed_golden_record(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    def change(con: duckdb.DuckDBPyConnection) -> None:
        gone, _ = _one(con, LONE_CUSTOMER.format(extra=""))
        keeper, rid2 = _one(con, LONE_CUSTOMER.format(extra=f"AND c.golden_id > '{gone}'"))
        for r in con.execute("SELECT rid FROM xref WHERE golden_id = $g", {"g": gone}).fetchall():
            _move(con, r[0], keeper)  # every record of `gone` moves: it is no golden record any more
        con.execute("DELETE FROM golden_organization WHERE golden_id = $g", {"g": gone})
        con.execute("DELETE FROM golden_attribute_lineage WHERE golden_id = $g", {"g": gone})
        new = "GNEW0000000000001"  # keeper's record with accounts gets a golden record of its own
        con.execute(
            "INSERT INTO golden_organization SELECT * REPLACE ($n AS golden_id, legal_name || ' New' AS "
            "legal_name) FROM golden_organization WHERE golden_id = $g",
            {"n": new, "g": keeper},
        )
        con.execute(
            "INSERT INTO golden_attribute_lineage SELECT * REPLACE ($n AS golden_id) "
            "FROM golden_attribute_lineage WHERE golden_id = $g",
            {"n": new, "g": keeper},
        )
        _move(con, rid2, new)
        _recompute(con, keeper, new)
        change.ids = {gone, keeper, new}  # type: ignore[attr-defined]

    month, scope = _build(tmp_path, base, change, monkeypatch)
    assert month is not None and change.ids <= scope  # type: ignore[attr-defined]


def test_a_golden_record_joining_a_group_changes_the_group_sums(
    tmp_path: Path, base: tuple[Path, Path], monkeypatch
) -> None:
    """No golden record is recomputed: only a relationship (loaded again) changes the hierarchy."""

    def change(con: duckdb.DuckDBPyConnection) -> None:
        child, child_lei = _one(
            con,
            "SELECT golden_id, lei FROM customer_360 WHERE group_size = 1 AND "
            "total_balance > 0 AND lei IS NOT NULL ORDER BY golden_id LIMIT 1",
        )
        top, top_lei = _one(
            con,
            "SELECT c.group_id, t.lei FROM customer_360 AS c JOIN customer_360 AS t "
            "ON t.golden_id = c.group_id WHERE t.lei IS NOT NULL GROUP BY ALL "
            "HAVING count(*) > 2 ORDER BY count(*) DESC, 1 LIMIT 1",
        )
        con.execute(
            "INSERT INTO relationship BY NAME SELECT 'gleif_rr' AS source, $c AS child_id, 'LEI' AS child_id_type, "
            "$p AS parent_id, 'LEI' AS parent_id_type, 'IS_DIRECTLY_CONSOLIDATED_BY' AS relationship_type, "
            "'ACTIVE' AS relationship_status, '2020-01-01' AS start_date, '2099-01-01T00:00:00Z' AS updated_at",
            {"c": child_lei, "p": top_lei},
        )
        change.ids = {child, top}  # type: ignore[attr-defined]

    month, scope = _build(tmp_path, base, change, monkeypatch)
    assert month is not None and change.ids <= scope  # type: ignore[attr-defined]


def test_review_pairs_and_invalid_identifiers_change_the_flags(
    tmp_path: Path, base: tuple[Path, Path], monkeypatch
) -> None:
    def change(con: duckdb.DuckDBPyConnection) -> None:
        a, rid_a = _one(con, LONE_CUSTOMER.format(extra="AND NOT list_contains(c.dq_flags, 'pending_review')"))
        b, rid_b = _one(con, LONE_CUSTOMER.format(extra=f"AND c.golden_id > '{a}'"))
        con.execute(
            "INSERT INTO match_pair BY NAME SELECT $a AS rid_a, $b AS rid_b, 'review' AS band, 0.5 AS score",
            {"a": rid_a, "b": rid_b},
        )
        c, rid_c = _one(con, LONE_CUSTOMER.format(extra="AND NOT list_contains(c.dq_flags, 'invalid_identifier')"))
        con.execute("UPDATE organization_record SET invalid_ids = ['lei'] WHERE rid = $r", {"r": rid_c})
        change.ids = {a, b, c}  # type: ignore[attr-defined]

    month, scope = _build(tmp_path, base, change, monkeypatch)
    assert month is not None and change.ids <= scope  # type: ignore[attr-defined]


def test_a_new_latest_month_rebuilds_every_mart(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    def change(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "INSERT INTO balance BY NAME SELECT source, account_id, strftime(CAST(max(month) OVER () || '-01' "
            "AS DATE) + INTERVAL 1 MONTH, '%Y-%m') AS month, 100.0 AS balance, 3 AS txn_count FROM balance "
            "ORDER BY source, account_id LIMIT 1"
        )

    month, scope = _build(tmp_path, base, change, monkeypatch)
    assert month is None and scope == set()


def test_new_fx_rates_rebuild_every_mart(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    import yaml

    cfg_path, _ = base
    raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    fx = Path(raw["marts"]["fx_rates"])
    lines = fx.read_text(encoding="utf-8").splitlines()
    rates = tmp_path / "fx.csv"
    rates.write_text(
        "\n".join([lines[0], *[ln.replace(",0.", ",0.5") if ln.startswith("USD,") else ln for ln in lines[1:]]]) + "\n"
    )
    assert rates.read_text() != fx.read_text()
    raw["marts"]["fx_rates"] = str(rates)
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    month, scope = _build(tmp_path, base, lambda con: None, monkeypatch, config=cfg)
    assert month is None and scope == set()


def test_without_run_reloaded_every_mart_is_rebuilt(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    month, _ = _build(tmp_path, base, lambda con: None, monkeypatch, reloaded=False)
    assert month is None


def test_a_reloaded_balance_source_rebuilds_every_mart(tmp_path: Path, base: tuple[Path, Path], monkeypatch) -> None:
    def change(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("UPDATE balance SET balance = balance + 1 WHERE month = (SELECT max(month) FROM balance)")
        con.execute("CREATE TABLE run_reloaded AS SELECT 'balance' AS table_name, 'crm' AS source")

    month, _ = _build(tmp_path, base, change, monkeypatch, reloaded=False)
    assert month is None


def test_an_incremental_run_publishes_the_marts_and_queue_of_a_full_rebuild(
    tmp_path: Path, base: tuple[Path, Path], monkeypatch
) -> None:
    """End to end: CRM customers renamed and moved to another city (bench change_crm), an incremental run
    with run_reloaded naming no table (the accounts and balances were not loaded again; the copy of the
    warehouse has new inodes, so extract would load them again), then the published marts and review queue
    against a full rebuild from the published database."""
    import pipelines.stages.publish as publish
    from pipelines.bench.run import change_crm
    from pipelines.review import queue

    cfg_path, _ = base
    root = tmp_path / "run"
    shutil.copytree(cfg_path.parent / "sample", root / "sample")
    shutil.copytree(cfg_path.parent / "wh", root / "wh", symlinks=True)  # the published warehouse folder
    cfg = sample_config(root / "sample", root / "wh", root / "mdm.yaml")
    assert change_crm(root / "sample", 0.05) > 10
    seen: dict[str, Any] = {}
    real_build, real_queue = publish.build_marts, queue.build
    real_choose, real_scoped = mart_scope.choose_scope, queue.scoped

    def choose(con: duckdb.DuckDBPyConnection, run_id: str, inputs: dict[str, str]) -> str | None:
        seen["month"] = real_choose(con, run_id, inputs)
        seen["scope"] = 0 if seen["month"] is None else con.execute("SELECT count(*) FROM _mart_scope").fetchall()[0][0]
        return seen["month"]

    def scoped(con: duckdb.DuckDBPyConnection, run_id: str, state: dict[str, str]) -> bool:
        seen["queue"] = real_scoped(con, run_id, state)
        if seen["queue"]:
            seen["queue_scope"], seen["queue_kept"] = con.execute(
                "SELECT (SELECT count(*) FROM _review_scope), (SELECT count(*) FROM _review_kept)"
            ).fetchall()[0]
        return seen["queue"]

    def unchanged(real: Callable[..., Any]) -> Callable[..., Any]:
        def build(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> Any:
            con.execute("CREATE TEMP TABLE run_reloaded (table_name VARCHAR, source VARCHAR)")
            try:
                return real(con, *args, **kwargs)
            finally:
                con.execute("DROP TABLE run_reloaded")

        return build

    monkeypatch.setattr(mart_scope, "choose_scope", choose)
    monkeypatch.setattr(queue, "scoped", scoped)
    monkeypatch.setattr(publish, "build_marts", unchanged(real_build))
    monkeypatch.setattr(queue, "build", unchanged(real_queue))
    runner.run(cfg)
    assert seen["month"] is not None and 0 < seen["scope"] < 200
    assert seen["queue"] and 0 < seen["queue_scope"] < 200 < seen["queue_kept"]
    monkeypatch.setattr(mart_scope, "choose_scope", real_choose)
    monkeypatch.setattr(queue, "build", real_queue)
    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    shutil.copy((root / "wh" / "mdm.duckdb").resolve(), inc)
    shutil.copy(inc, full)
    config = load_config(cfg, check_files=False)
    con = duckdb.connect(str(full))
    try:
        con.execute("DELETE FROM mart_state")
        build_marts(con, config, RUN)
        queue.build(con, config)  # no run id: the whole queue
    finally:
        con.close()
    a, b = duckdb.connect(str(inc), read_only=True), duckdb.connect(str(full), read_only=True)
    try:
        _assert_same(a, b)
        got, want = _rows(a, "review_item"), _rows(b, "review_item")
        assert sum(want.values()) > 0 and got == want
    finally:
        a.close()
        b.close()
