"""An incremental clustering reads of the golden id registry only what assigning ids to the clusters it
made again needs (pipelines.stages.cluster._assign), with the result of reading the whole registry: the
minted order of the previous ids, and the issued ids a new cluster's id could collide with, however
many of a key's ids were issued before."""

from __future__ import annotations

import duckdb
import pandas as pd

from mdm import golden_ids
from pipelines.stages import cluster


def _registry(ids: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE golden_id_registry AS SELECT unnest($ids::VARCHAR[]) AS golden_id, "
        "unnest(range(1, len($ids) + 1)) AS minted_seq",
        {"ids": ids},
    )
    return con


def test_scoped_registry_gives_the_assignment_of_the_whole_registry() -> None:
    # Previous run: crm:1 and gleif:1 in one golden record (GOLD-A), uk:7 in another (GOLD-B, minted first).
    previous = {"crm:1": "GOLD-A", "gleif:1": "GOLD-A", "uk:7": "GOLD-B"}
    # Now the three are one cluster (the older GOLD-B survives, GOLD-A is retired into it), and crm:5 and the
    # new uk:9 form a new cluster whose key's first two ids were issued before (to clusters long retired).
    clusters = pd.DataFrame(
        {"rid": ["crm:1", "gleif:1", "uk:7", "crm:5", "uk:9"], "cluster_key": ["crm:1"] * 3 + ["crm:5"] * 2}
    )
    first, second = golden_ids.mint("crm:5", set()), golden_ids.mint("crm:5", {golden_ids.mint("crm:5", set())})
    others = [f"G{n:016X}" for n in range(5000)]
    con = _registry(["GOLD-B", *others[:2500], first, "GOLD-A", second, *others[2500:], "GOLD-C"])
    reg = con.execute("SELECT golden_id, minted_seq FROM golden_id_registry").fetchall()
    expected = golden_ids.assign(clusters, previous, dict(reg), {g for g, _ in reg})

    assert cluster._issued(con, clusters["cluster_key"]) == {first, second}
    assigned, redirects = cluster._assign(con, clusters, previous, scoped=True)
    pd.testing.assert_frame_equal(assigned, expected[0])
    pd.testing.assert_frame_equal(redirects, expected[1])
    ids = dict(zip(assigned["rid"], assigned["golden_id"], strict=True))
    assert ids["crm:1"] == ids["gleif:1"] == ids["uk:7"] == "GOLD-B"
    assert ids["crm:5"] == ids["uk:9"] == golden_ids.mint("crm:5", {first, second}) not in {first, second}
    assert redirects.values.tolist() == [["GOLD-A", "GOLD-B", "merge"]]
