"""The review queue (sql/review/review_item.sql) on a crafted warehouse: which pairs could merge, weak
clusters, survivorship conflicts, the order by business impact, and decided items left out."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from mdm import decisions as dm
from pipelines.config import Config
from pipelines.review import inputs, queue

REC_COLUMNS = (
    "rid",
    "source",
    "source_id",
    "source_format",
    "golden_id",
    "name",
    "name_core",
    "name_cjk",
    "address",
    "address_norm",
    "lei",
    "uscc",
    "ein",
    "id_LEI",
    "id_USCC",
    "id_CN_REG",
    "id_GB_COH",
    "id_CIK",
)
LEI_A, LEI_B = "5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55"


def rec(rid: str, fmt: str, golden: str, name: str, lei: str | None = None, address: str | None = None) -> dict:
    source, source_id = rid.split(":", 1)
    core = name.lower().replace(" ltd", "").replace(" limited", "")
    return {
        "rid": rid,
        "source": source,
        "source_id": source_id,
        "source_format": fmt,
        "golden_id": golden,
        "name": name,
        "name_core": core,
        "name_cjk": False,
        "address": address,
        "address_norm": address.lower() if address else None,
        "lei": lei,
        "uscc": None,
        "ein": None,
        "id_LEI": lei,
        "id_USCC": None,
        "id_CN_REG": None,
        "id_GB_COH": None,
        "id_CIK": None,
    }


RECORDS = [
    rec("gleif:" + LEI_A, "gleif_lei_xml", "G1", "Northwind Trading Ltd", LEI_A, "1 High Street"),
    rec("crm:C1", "sql", "G1", "Northwind Trading Limited", None, "9 Low Road"),  # address conflict in G1
    rec("gleif:" + LEI_B, "gleif_lei_xml", "G2", "Northwind Traders Ltd", LEI_B),
    rec("crm:C2", "sql", "G3", "Northwind Trading UK Ltd"),
    rec("crm:C3", "sql", "G4", "Bluefin Shipping Ltd"),
    rec("crm:C4", "sql", "G4", "Bluefin Shipping Limited"),  # weakly held in G4
    rec("crm:C5", "sql", "G5", "Bluefin Shipping Ltd"),
]
PAIRS = [  # rid_a, rid_b, rule, band, score
    ("crm:C1", "gleif:" + LEI_A, "score", "match", 0.999),
    ("crm:C2", "gleif:" + LEI_A, "score", "review", 0.70),  # G3 vs G1: could merge
    ("gleif:" + LEI_A, "gleif:" + LEI_B, "score", "review", 0.60),  # two LEIs / two GLEIF keys: never
    ("crm:C1", "gleif:" + LEI_B, "score", "review", 0.55),  # G1 holds LEI_A, G2 LEI_B: never
    ("crm:C3", "crm:C4", "score", "match", 0.91),  # weak link holding G4
    ("crm:C4", "crm:C5", "score", "review", 0.52),  # G4 vs G5: could merge
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.register("r", pd.DataFrame(RECORDS, columns=list(REC_COLUMNS)))
    c.execute("CREATE TABLE organization_record AS SELECT * FROM r")
    c.execute("CREATE TABLE xref AS SELECT source, source_id, golden_id, rid FROM r")
    c.execute("CREATE TABLE golden_organization AS SELECT DISTINCT golden_id FROM r")
    c.register("p", pd.DataFrame(PAIRS, columns=["rid_a", "rid_b", "rule", "band", "score"]))
    c.execute("CREATE TABLE match_pair AS SELECT * FROM p")
    c.execute(
        "CREATE TABLE account AS SELECT * FROM (VALUES ('crm', 'A1', 'C5'), ('crm', 'A2', 'C2')) "
        "t(source, account_id, source_id)"
    )
    c.execute(
        "CREATE TABLE balance AS SELECT * FROM (VALUES ('crm', 'A1', '2026-09', 50.0), "
        "('crm', 'A1', '2026-10', 500.0), ('crm', 'A2', '2026-10', 100.0)) t(source, account_id, month, balance)"
    )
    yield c
    c.close()


def config(tmp_path) -> Config:
    return Config(
        warehouse=tmp_path / "wh",
        sources=[{"name": "crm", "format": "sql", "url": "sqlite:///x.db", "queries": {"customers": "SELECT 1"}}],
    )


def live(*ds: dm.Decision) -> pd.DataFrame:
    return inputs.live_frame(dm.resolve(ds))


def test_queue_holds_mergeable_pairs_weak_clusters_and_conflicts_ordered_by_impact(con, tmp_path):
    n = queue.build(con, config(tmp_path), live())
    q = con.execute("SELECT * FROM review_item ORDER BY priority").df()
    assert n == len(q)
    got = [(k, s) for k, s in zip(q["kind"], q["subject"])]
    # G5 has the largest balance (latest month 500), G3 the next (100); then items without accounts.
    assert got[0] == ("pair", "crm:C4|crm:C5") and q.at[0, "balance"] == 500.0 and q.at[0, "accounts"] == 1
    assert got[1] == ("pair", "crm:C2|gleif:" + LEI_A) and q.at[1, "balance"] == 100.0
    assert set(got[2:]) == {("weak_cluster", "G4"), ("conflict", "G1|address")}
    # Pairs that can never merge are not queued: two GLEIF keys, and clusters holding different LEIs.
    assert "gleif:" + LEI_A + "|gleif:" + LEI_B not in set(q["subject"])
    assert "crm:C1|gleif:" + LEI_B not in set(q["subject"])
    # Names differing only by legal form are no conflict.
    assert not ((q["kind"] == "conflict") & (q["subject"].str.endswith("legal_name"))).any()
    weak = q[q["kind"] == "weak_cluster"].iloc[0]
    assert weak["score"] == pytest.approx(0.91) and {weak["rid_a"], weak["rid_b"]} == {"crm:C3", "crm:C4"}
    assert list(q["priority"]) == list(range(1, len(q) + 1))
    assert all(i == dm.item_id(k, s) for i, k, s in zip(q["item_id"], q["kind"], q["subject"]))


def test_decided_items_are_left_out(con, tmp_path):
    decided = live(
        dm.Decision("D1", 1, "no_match", "r", "u", "t", rid_a="crm:C4", rid_b="crm:C5"),
        dm.Decision("D2", 2, "override", "r", "u", "t", golden_id="G1", attribute="address", value="1 High Street"),
        dm.Decision("D3", 3, "match", "r", "u", "t", rid_a="crm:C3", rid_b="crm:C4"),
    )
    queue.build(con, config(tmp_path), decided)
    q = con.execute("SELECT kind, subject FROM review_item ORDER BY priority").fetchall()
    # The no-match answers its pair, the override the conflict, the match makes G4's link certain.
    assert q == [("pair", "crm:C2|gleif:" + LEI_A)]


def test_undone_decision_brings_its_item_back(con, tmp_path):
    ds = [
        dm.Decision("D1", 1, "no_match", "r", "u", "t", rid_a="crm:C4", rid_b="crm:C5"),
        dm.Decision("D2", 2, "undo", "r", "u", "t", target_id="D1"),
    ]
    queue.build(con, config(tmp_path), live(*ds))
    subjects = {s for (s,) in con.execute("SELECT subject FROM review_item").fetchall()}
    assert "crm:C4|crm:C5" in subjects


def test_conflicts_need_two_sources_and_count_the_distinct_values(tmp_path):
    """Records of one source disagreeing are no conflict; three sources with three addresses are one conflict
    of three values (uncertainty 2/3) whose detail lists each source's value once; names without a script
    flag (NULL name_cjk) are compared among themselves."""
    extra = [
        rec("crm:C7", "sql", "G7", "Harbour Mills Ltd", None, "1 Quay"),
        rec("crm:C8", "sql", "G7", "Harbour Mills Ltd", None, "2 Quay"),  # same source: no conflict
        rec("crm:C9", "sql", "G8", "Kestrel Foods Ltd", None, "1 Mill Lane"),
        rec("core:K9", "sql", "G8", "Kestrel Foods Ltd", None, "2 Mill Lane"),
        rec("core:K10", "sql", "G8", "Kestrel Foods Ltd", None, "1 Mill Lane"),
        rec("gleif:" + LEI_B, "gleif_lei_xml", "G8", "Kestrel Foods Ltd", LEI_B, "3 Mill Lane"),
        rec("crm:C11", "sql", "G9", "Osprey Tools Ltd"),
        rec("core:K11", "sql", "G9", "Osprey Instruments Ltd"),
    ]
    for r in extra[-2:]:
        r["name_cjk"] = None
    c = duckdb.connect()
    c.register("r", pd.DataFrame(extra, columns=list(REC_COLUMNS)))
    c.execute("CREATE TABLE organization_record AS SELECT * FROM r")
    c.execute("CREATE TABLE xref AS SELECT source, source_id, golden_id, rid FROM r")
    c.execute("CREATE TABLE match_pair (rid_a VARCHAR, rid_b VARCHAR, rule VARCHAR, band VARCHAR, score DOUBLE)")
    c.execute("CREATE TABLE account (source VARCHAR, account_id VARCHAR, source_id VARCHAR)")
    c.execute("CREATE TABLE balance (source VARCHAR, account_id VARCHAR, month VARCHAR, balance DOUBLE)")
    queue.build(c, config(tmp_path), live())
    got = c.execute(
        "SELECT subject, uncertainty, detail FROM review_item WHERE kind = 'conflict' ORDER BY subject"
    ).fetchall()
    c.close()
    assert [s for s, _, _ in got] == ["G8|address", "G9|legal_name"]
    _, uncertainty, detail = got[0]
    assert uncertainty == pytest.approx(2 / 3)
    assert json.loads(detail) == [
        {"source": "core", "value": "1 Mill Lane"},
        {"source": "core", "value": "2 Mill Lane"},
        {"source": "crm", "value": "1 Mill Lane"},
        {"source": "gleif", "value": "3 Mill Lane"},
    ]


# -- incremental builds (pipelines.review.queue.scoped) ---------------------------------------------------------


def _publish_first(con: duckdb.DuckDBPyConnection, tmp_path) -> None:
    """The last run's state: golden records with their run id and a queue built (in full) with review_state."""
    con.execute("CREATE TABLE golden_organization_run AS SELECT DISTINCT golden_id, 'R1' AS run_id FROM xref")
    con.execute("DROP TABLE golden_organization")
    con.execute("ALTER TABLE golden_organization_run RENAME TO golden_organization")
    queue.build(con, config(tmp_path), live(), run_id="R1")
    # What an incremental run leaves for publish: clustering was incremental, no account or balance reloaded.
    con.execute("CREATE TABLE run_reclustered (rid VARCHAR, golden_id VARCHAR)")
    con.execute("CREATE TABLE run_reloaded (table_name VARCHAR, source VARCHAR)")


def _second_run(con: duckdb.DuckDBPyConnection) -> None:
    """crm:C2 joins G1 (G3 is gone: its pair with G1 is no review item any more), crm:C5 is renamed (G5 is
    recomputed: the pair C4|C5 of the unchanged G4 shows the new name), G1 recomputed."""
    con.execute("UPDATE xref SET golden_id = 'G1' WHERE rid = 'crm:C2'")
    con.execute("UPDATE organization_record SET golden_id = 'G1' WHERE rid = 'crm:C2'")
    con.execute("UPDATE organization_record SET name = 'Bluefin Marine Ltd' WHERE rid = 'crm:C5'")
    con.execute("DELETE FROM golden_organization WHERE golden_id = 'G3'")
    con.execute("UPDATE golden_organization SET run_id = 'R2' WHERE golden_id IN ('G1', 'G5')")


def _queue(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * FROM review_item ORDER BY priority").fetchall()


def _spy(monkeypatch) -> tuple[list[bool], list[set[str]]]:
    """Records each decision of queue.scoped and, after an incremental one, its scope."""
    seen: list[bool] = []
    scopes: list[set[str]] = []
    real = queue.scoped

    def spy(con, *args):
        seen.append(real(con, *args))
        if seen[-1]:
            scopes.append({g for (g,) in con.execute("SELECT golden_id FROM _review_scope").fetchall()})
        return seen[-1]

    monkeypatch.setattr(queue, "scoped", spy)
    return seen, scopes


def test_an_incremental_build_gives_the_full_builds_queue(con, tmp_path, monkeypatch):
    _publish_first(con, tmp_path)
    before = {r[2]: r for r in _queue(con)}
    _second_run(con)
    seen, scopes = _spy(monkeypatch)
    queue.build(con, config(tmp_path), live(), run_id="R2")
    incremental = _queue(con)
    assert seen == [True] and scopes[-1] == {"G1", "G5"}
    queue.build(con, config(tmp_path), live())  # no run id: a full build
    assert incremental == _queue(con)
    subjects = {r[2]: r for r in incremental}
    assert "crm:C2|gleif:" + LEI_A not in subjects and "crm:C2|gleif:" + LEI_A in before
    assert json.loads(subjects["crm:C4|crm:C5"][-1])["b"] == "Bluefin Marine Ltd"
    assert subjects["G4"] == (*before["G4"][:3], subjects["G4"][3], *before["G4"][4:])  # kept (priority aside)


def test_changed_decisions_or_reloaded_balances_rebuild_the_whole_queue(con, tmp_path, monkeypatch):
    _publish_first(con, tmp_path)
    _second_run(con)
    seen, _ = _spy(monkeypatch)
    decided = live(dm.Decision("D1", 1, "no_match", "r", "u", "t", rid_a="crm:C4", rid_b="crm:C5"))
    queue.build(con, config(tmp_path), decided, run_id="R2")
    assert "crm:C4|crm:C5" not in {r[2] for r in _queue(con)}
    con.execute("INSERT INTO run_reloaded VALUES ('balance', 'crm')")
    queue.build(con, config(tmp_path), decided, run_id="R3")
    con.execute("DELETE FROM run_reloaded")
    queue.build(con, config(tmp_path), decided, run_id="R4")
    assert seen == [False, False, True]
