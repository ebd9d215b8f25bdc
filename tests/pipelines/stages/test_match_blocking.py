"""The match stage's SQL blocking and identifier links give exactly the pairs of the in-memory reference
(mdm.matching: recordlinkage's Block + SortedNeighbourhood, pandas identifier stars), on real company
names and on a generated sample."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import yaml

from mdm.matching import MATCH_COLUMNS, MatchSettings, candidate_pairs, deterministic_pairs
from mdm.schema import ORGANIZATION
from mdm.standardise import ID_COLUMNS, standardise_records
from pipelines.stages.base import arrow_with_lists
from pipelines.warehouse import run_sql
from tests.pipelines.test_runner import generated, published, sample  # noqa: F401 - module fixtures


def _sql_pairs(std: pd.DataFrame, max_block: int) -> tuple[set[tuple[str, str]], pd.DataFrame]:
    con = duckdb.connect()
    con.register("std_df", arrow_with_lists(std[list(MATCH_COLUMNS)]))
    con.execute("CREATE TABLE std_organization AS SELECT * FROM std_df")
    run_sql(con, "staging/match_alias")
    run_sql(con, "staging/match_candidate", {"max_block": max_block})
    run_sql(con, "staging/match_identifier_link", {"id_columns": list(ID_COLUMNS)})
    cand = set(con.execute("SELECT rid_a, rid_b FROM match_candidate").fetchall())
    det = con.execute("SELECT rid_a, rid_b, rule FROM match_identifier_link ORDER BY rid_a, rid_b").df()
    return cand, det


def _check(std: pd.DataFrame, max_block: int) -> int:
    ref, _ = candidate_pairs(std, MatchSettings(max_block_size=max_block))
    cand, det = _sql_pairs(std, max_block)
    assert all(a < b for a, b in cand)
    assert cand == set(zip(ref.rid_a, ref.rid_b))
    ref_det = deterministic_pairs(std).sort_values(["rid_a", "rid_b"], ignore_index=True)
    pd.testing.assert_frame_equal(det, ref_det[["rid_a", "rid_b", "rule"]], check_dtype=False)
    return len(cand)


def test_sql_blocking_equals_recordlinkage_on_real_company_names(realdata: Path) -> None:
    from pipelines.bench import realset

    records = realset.load(realdata)
    std = standardise_records(records[list(ORGANIZATION)].copy())
    # Several block sizes, so that skipping common keys (and the ranks around them) is compared too.
    assert _check(std, 200) > 1000
    assert _check(std, 3) > 100


def test_sql_blocking_equals_recordlinkage_on_a_generated_sample(published: tuple[Path, object]) -> None:
    cfg, _ = published
    wh = Path(yaml.safe_load(cfg.read_text(encoding="utf-8"))["warehouse"])
    con = duckdb.connect(str(wh / "mdm.duckdb"), read_only=True)
    try:
        std = con.execute(f"SELECT {', '.join(MATCH_COLUMNS)} FROM organization_record").df()
    finally:
        con.close()
    std["aliases"] = std["aliases"].map(list)
    assert _check(std, 200) > 100
    assert _check(std, 4) > 10
