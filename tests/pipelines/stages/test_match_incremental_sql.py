"""The incremental match's SQL (sql/staging/*_changed.sql, match_also.sql) finds exactly the pairs and rules
the full SQL gives for the pairs an incremental run compares, on real company names: the candidates of the
records that need them, with the same blocking keys, and the identifier links of the groups a change
touched."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mdm.matching import MATCH_COLUMNS
from mdm.schema import ORGANIZATION
from mdm.standardise import ID_COLUMNS, standardise_records
from pipelines.stages.base import arrow_with_lists
from pipelines.warehouse import run_sql


@pytest.fixture(scope="module")
def std(realdata: Path) -> pd.DataFrame:
    from pipelines.bench import realset

    records = realset.load(realdata)
    return standardise_records(records[list(ORGANIZATION)].copy())[list(MATCH_COLUMNS)]


def _con(std: pd.DataFrame, changed: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("std_df", arrow_with_lists(std))
    con.execute("CREATE TABLE std_organization AS SELECT * FROM std_df")
    con.unregister("std_df")
    con.execute("CREATE TABLE run_changed AS SELECT unnest($r::VARCHAR[]) AS rid", {"r": changed})
    run_sql(con, "staging/match_alias")
    return con


@pytest.mark.parametrize("max_block", [200, 3])
def test_candidates_of_the_records_that_need_them_are_the_full_candidates_touching_them(
    std: pd.DataFrame, max_block: int
) -> None:
    rids = sorted(std["rid"])
    changed = rids[::23]
    con = _con(std, changed)
    run_sql(con, "staging/match_candidate", {"max_block": max_block})
    full = con.execute("SELECT rid_a, rid_b, block_key FROM match_candidate").fetchall()
    # Two pairs of unchanged records that need comparing again (match_also): both their records need candidates.
    also = [(rids[1], rids[2]), (rids[5], rids[400])]
    con.execute(
        "CREATE TEMP TABLE match_also AS SELECT unnest($a::VARCHAR[]) AS rid_a, unnest($b::VARCHAR[]) AS rid_b",
        {"a": [a for a, _ in also], "b": [b for _, b in also]},
    )
    run_sql(con, "staging/match_candidate_changed", {"max_block": max_block})
    part = con.execute("SELECT rid_a, rid_b, block_key FROM match_candidate").fetchall()
    hot = set(changed) | {r for p in also for r in p}
    expected = {p for p in full if p[0] in hot or p[1] in hot}
    assert len(part) == len(set(part)) and set(part) == expected
    assert len(expected) > 100 and len(expected) < len(full) / 5


def test_identifier_links_of_the_touched_groups_give_the_pairs_to_compare(std: pd.DataFrame) -> None:
    """Last run: every record with its identifiers (organization_record) and every link scored (match_pair).
    Now: some records left, some changed their identifiers, some are new; the links made only for the
    groups this touched, with match_also, give the full run's links to compare, with the same rules."""
    # Real LEIs, each also quoted by two other records (as a bank's CRM quotes its customers' LEIs): groups of 3.
    old = std.copy()
    holders = old[old["id_LEI"].notna()].sort_values("rid")
    others = old.loc[old["id_LEI"].isna(), "rid"].sort_values().tolist()
    groups = []
    for k in range(3):
        hub, lei = holders["rid"].iloc[k], holders["id_LEI"].iloc[k]
        mates = others[2 * k : 2 * k + 2]
        old.loc[old["rid"].isin(mates), "id_LEI"] = lei
        groups.append((sorted([hub, *mates]), lei))
    # Now: the hub (smallest record) of group 0 leaves, a record of group 1 takes group 0's LEI, a new record
    # joins group 2.
    hub_gone = groups[0][0][0]
    mover = groups[1][0][-1]
    new = old[old["rid"] == groups[2][0][0]].copy()
    new["rid"] = "new:" + new["rid"]
    now = pd.concat([old[old["rid"] != hub_gone], new], ignore_index=True)
    now.loc[now["rid"] == mover, "id_LEI"] = groups[0][1]
    changed = [mover, new["rid"].iloc[0]]

    con = _con(now, changed)
    con.register("old_df", arrow_with_lists(old))
    con.execute("CREATE TABLE organization_record AS SELECT * FROM old_df")
    # What an incremental standardise keeps of the last run's changed and removed records (std_replaced.sql).
    con.execute(
        "CREATE TABLE std_replaced AS SELECT rid, aliases, COLUMNS('^id_') FROM organization_record "
        "WHERE rid IN (SELECT unnest($c::VARCHAR[])) OR rid NOT IN (SELECT rid FROM std_organization)",
        {"c": changed},
    )
    old_con = duckdb.connect()
    old_con.register("std_df", arrow_with_lists(old))
    old_con.execute("CREATE TABLE std_organization AS SELECT * FROM std_df")
    run_sql(old_con, "staging/match_identifier_link", {"id_columns": list(ID_COLUMNS)})
    last = old_con.execute("SELECT rid_a, rid_b, rule FROM match_identifier_link").df()
    con.register("last_df", last)
    con.execute("CREATE TABLE match_pair AS SELECT * FROM last_df")

    run_sql(con, "staging/match_identifier_link", {"id_columns": list(ID_COLUMNS)})
    full = set(con.execute("SELECT rid_a, rid_b, rule FROM match_identifier_link").fetchall())
    run_sql(con, "staging/match_gone")  # the records that left (the hub of group 0), as the stage finds them
    run_sql(con, "staging/match_identifier_link_changed", {"id_columns": list(ID_COLUMNS)})
    run_sql(con, "staging/match_also")
    part = set(con.execute("SELECT rid_a, rid_b, rule FROM match_identifier_link").fetchall())
    also = set(con.execute("SELECT rid_a, rid_b FROM match_also").fetchall())

    scored = set(zip(last.rid_a, last.rid_b, strict=True))
    touching = {p for p in full if p[0] in changed or p[1] in changed}
    unscored = {p for p in full if p[0] not in changed and p[1] not in changed and p[:2] not in scored}
    assert unscored, "the hub that left leaves links between its mates unscored"
    assert also == {p[:2] for p in unscored}
    assert touching and touching <= part and unscored <= part
    assert part <= full  # and the rest of the full links were scored before
    assert full - part <= {p for p in full if p[:2] in scored}
