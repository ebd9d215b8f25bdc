"""Survive in batches (pipelines.survive_batch, sql/golden/survive_input.sql): batches of whole clusters,
in worker processes or not, give exactly the golden records and lineage of one pass over every record."""

from __future__ import annotations

import random

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from mdm.schema import ORGANIZATION
from mdm.standardise import standardise_records
from mdm.survivorship import DEFAULT_SPEC, survive
from pipelines.parallel import map_batches
from pipelines.survive_batch import GOLDEN_SCHEMA, INPUT_COLUMNS, LINEAGE_SCHEMA, Rules, survive_batch
from pipelines.warehouse import query_sql, run_sql

SOURCES = {"gleif": "gleif_lei_xml", "ch": "companies_house_csv", "crm": "sql", "crm2": "sql"}
PRIORITY = {"gleif": 1, "ch": 2, "crm": 9, "crm2": 9}
NAMES = ["Acme Holdings plc", "ACME HOLDINGS PLC", "Acme Hldgs", "Globex Ltd", "  ", "Initech GmbH"]
CITIES = ["London", "LONDON", "Leeds", None, "", "Berlin"]
STAMPS = ["2024-06-01", "2023-01-01T10:00:00Z", "2024-12-31", None, "not a date", "2024-06-01"]


def _records(n_clusters: int, seed: int) -> pd.DataFrame:
    """Standardised records of ``n_clusters`` clusters (1-6 records each) with clashing, blank and missing
    values, so that every rule and the tie-break decide somewhere."""
    rnd = random.Random(seed)
    rows = []
    for g in range(n_clusters):
        for k in range(rnd.randint(1, 6)):
            source = rnd.choice(list(SOURCES))
            rows.append(
                {c: None for c in ORGANIZATION}
                | {
                    "golden_id": f"G{g:04d}",
                    "source": source,
                    "source_format": SOURCES[source],
                    "source_id": f"{g}-{k}",
                    "name": rnd.choice(NAMES),
                    "city": rnd.choice(CITIES),
                    "phone": rnd.choice(["+44 20 0000 0001", None, "+44 20 0000 0002"]),
                    "status": rnd.choice(["active", "ACTIVE", None, "closed"]),
                    "industry_code": rnd.choice(["6201", "6202", None, "6201 "]),
                    "updated_at": rnd.choice(STAMPS),
                }
            )
    return standardise_records(pd.DataFrame(rows, dtype=object))


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    return pa.Table.from_pandas(frame, preserve_index=False).cast(schema).to_pandas()


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_of_whole_clusters_give_the_one_pass_result(workers: int) -> None:
    records = _records(120, seed=5)
    overrides = pd.DataFrame(
        [{"golden_id": "G0003", "attribute": "city", "value": "York", "steward": "ann", "decided_at": "2025-01-01"}]
    )
    golden, lineage = survive(records, PRIORITY, DEFAULT_SPEC, overrides)
    golden["run_id"] = lineage["run_id"] = "R"
    gids = sorted(records["golden_id"].unique())
    cuts = [gids[i : i + 17] for i in range(0, len(gids), 17)]  # batches of consecutive golden ids
    rules = Rules(PRIORITY, DEFAULT_SPEC, overrides, "R")
    jobs = [(records[records["golden_id"].isin(c)][INPUT_COLUMNS].reset_index(drop=True), rules) for c in cuts]
    parts = list(map_batches(survive_batch, jobs, workers))
    assert len(parts) == len(cuts) > 5
    got_golden = pa.concat_tables([g for g, _ in parts]).to_pandas()
    got_lineage = pa.concat_tables([lin for _, lin in parts]).to_pandas()
    pd.testing.assert_frame_equal(got_golden, _arrow(golden, GOLDEN_SCHEMA))
    pd.testing.assert_frame_equal(got_lineage, _arrow(lineage, LINEAGE_SCHEMA))
    assert (got_lineage["rule"] == "steward_override").sum() == 1
    assert set(got_lineage["rule"]) >= {"source_priority", "most_recent", "tie_break"}


def test_a_batch_where_an_attribute_has_no_value_keeps_the_column_types() -> None:
    records = _records(3, seed=1)
    records["city"] = None
    golden, lineage = survive_batch((records[INPUT_COLUMNS], Rules(PRIORITY, DEFAULT_SPEC, None, "R")))
    assert golden.schema == GOLDEN_SCHEMA and lineage.schema == LINEAGE_SCHEMA
    assert golden.column("city").null_count == golden.num_rows


def test_survive_input_never_splits_a_cluster_and_bounds_the_batches() -> None:
    con = duckdb.connect()
    sizes = [1, 3, 2, 700, 5, 1, 1, 400, 2, 2, 600, 1]  # records per golden id; two clusters larger than a batch
    rows = [(f"r{g:02d}-{i:04d}", f"G{g:02d}") for g, n in enumerate(sizes) for i in range(n)]
    con.execute("CREATE TABLE new_xref (rid VARCHAR, golden_id VARCHAR)")
    con.executemany("INSERT INTO new_xref VALUES (?, ?)", rows)
    con.execute("CREATE TABLE std_organization AS SELECT rid, 'x' AS name, 'y' AS unused FROM new_xref")
    run_sql(con, "golden/survive_input", {"columns": INPUT_COLUMNS, "batch_rows": 500})
    assert [c for c in con.table("survive_input").columns] == ["rid", "name", "golden_id", "batch"]
    per_gid = con.execute("SELECT golden_id, count(DISTINCT batch) FROM survive_input GROUP BY ALL").fetchall()
    assert len(per_gid) == len(sizes) and {n for _, n in per_gid} == {1}
    batches = query_sql(con, "golden/survive_batches").fetchall()
    assert sum(n for _, n in batches) == sum(sizes)
    # A batch is a run of consecutive golden ids ending where the running record count passes a multiple of
    # batch_rows: at most batch_rows records beyond those of its first cluster.
    for batch, n in batches:
        gids = sorted(
            g
            for (g,) in con.execute(
                "SELECT DISTINCT golden_id FROM survive_input WHERE batch = $b", {"b": batch}
            ).fetchall()
        )
        assert n < 500 + sizes[int(gids[0][1:])], (batch, n, gids)
    first = query_sql(con, "golden/survive_batch", {"batch": batches[0][0]}).df()
    assert list(first.columns) == ["rid", "name", "golden_id"] and list(first["rid"]) == sorted(first["rid"])
