"""Match: score record pairs with the Fellegi-Sunter model (mdm.matching), partition by partition.

Blocking and identifier links are SQL over every record (sql/staging/match_*.sql), so no record list is
held in memory; the pairs to compare are cut into partitions of ``performance.batch_rows`` pairs (ranges
of their blocking key), and each partition is compared in a worker process (pipelines.parallel,
``performance.workers``) from Parquet inputs in the staging folder (pipelines.stages.match_partition).
A full run compares every partition, trains the model on the labelled pairs of all of them, then decides
each partition; an incremental run decides in the same pass with the last run's model.

The plan says whether the last model and its pairs may be reused (same thresholds, features, steward
decisions); they are reused when at most ``plan.max_changed_share`` of the records changed (observed by
standardise). An incremental match compares only the pairs that touch a new or changed record, and costs
about that: blocking pairs only the records that need candidates (the places of the cores in sorted order
are still ranked over every record), identifier links are made for the groups the change touched, the
token frequencies are the last run's (match_token_frequency) updated by the change, and only the weights of
the tokens of the records compared go to the partitions.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from mdm import matching, name_tokens
from mdm.scoring import FellegiSunter
from mdm.standardise import ID_COLUMNS
from pipelines.parallel import map_batches
from pipelines.plan import has_table
from pipelines.stages.base import StageContext, StageResult, frame_table, steward_decisions
from pipelines.stages.match_partition import (
    FREQUENCY,
    Step,
    partition_path,
    read_manifest,
    read_model,
    run_partition_job,
    train,
    write_frequencies,
    write_inputs,
)
from pipelines.warehouse import run_sql, sql_text

WORK = "match"  # the work folder of the partitions, in the staging folder


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    work = ctx.dir / WORK
    manifest = read_manifest(work)
    if manifest is None or manifest.get("run_id") != ctx.run_id:
        manifest = prepare(con, ctx)
    else:  # prepared by an earlier attempt or by the DAG's match_prepare task: keep what is done
        ctx.observe("match_incremental", manifest["incremental"])
    parts, workers = manifest["parts"], ctx.config.performance.worker_count()
    incremental = manifest["incremental"]
    compute(work, parts, "compare", workers, incremental)
    if not incremental:
        if not (work / "model.parquet").exists():  # the inputs are fixed for the run: so is the model
            train(work)
        compute(work, parts, "decide", workers, incremental)
    model = read_model(work)
    detail = _publish_pairs(con, ctx, work, parts, incremental)
    detail |= manifest["stats"] | _model_detail(model, manifest, workers) | {"incremental": incremental}
    params = model.parameters()
    params["run_id"] = ctx.run_id
    matched = con.execute("SELECT count(*) FROM new_match_pair WHERE band = 'match'").fetchall()[0][0]
    frame_table(con, "tmp_model", params, "CREATE OR REPLACE TABLE new_match_model AS SELECT * FROM tmp_model")
    shutil.rmtree(work, ignore_errors=True)
    return StageResult("match", manifest["records"], int(matched), detail=detail)


def prepare(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> dict[str, Any]:
    """Blocking, identifier links and the pairs to compare (SQL over every record), cut into partitions
    whose inputs are written to the work folder with the token weights (and the last model in an
    incremental run); returns the manifest (pipelines.stages.match_partition)."""
    records = ctx.observed["records"]
    changed_n = ctx.observed["changed_records"]
    # The last run's records of the changed and removed ids (std_replaced) come from an incremental standardise.
    incremental = (
        ctx.plan.match.incremental
        and changed_n <= ctx.plan.max_changed_share * max(records, 1)
        and has_table(con, "std_replaced")
    )
    ctx.observe("match_incremental", incremental)
    settings = ctx.config.matching.settings()
    perf = ctx.config.performance
    work = ctx.dir / WORK
    shutil.rmtree(work, ignore_errors=True)  # inputs are written whole, from the staging database
    work.mkdir(parents=True)
    stats = _block(con, settings, incremental, steward_decisions(ctx))
    run_sql(con, "staging/match_todo", {"batch": perf.batch_rows, "incremental": incremental})
    model = None
    if incremental:
        model = FellegiSunter.from_parameters(con.execute("SELECT * EXCLUDE (run_id) FROM match_model").df())
        counts = _compared_token_counts(con, work)
    else:
        counts = _count_tokens(con, perf.worker_count(), perf.batch_rows)
    manifest = {
        "run_id": ctx.run_id,
        "incremental": incremental,
        "records": records,
        "settings": [settings.match_threshold, settings.review_threshold, settings.max_block_size, settings.window],
        "stats": stats,
    }
    kept = {t: c for t, c in counts.items() if c > 0}
    parts = write_inputs(con, work, kept, name_tokens.idf_weights(kept, records), manifest, model)
    return manifest | {"parts": parts}


def compute(work: Path, parts: int, step: Step, workers: int, incremental: bool) -> None:
    """Run ``step`` over the partitions whose output is not there yet, in ``workers`` processes."""
    out = "vectors" if step == "compare" and not incremental else "scored"
    todo = [(work, k, step) for k in range(parts) if not partition_path(work, out, k).exists()]
    for _ in map_batches(run_partition_job, todo, workers):
        pass


def _block(
    con: duckdb.DuckDBPyConnection, settings: matching.MatchSettings, incremental: bool, decisions: pd.DataFrame
) -> dict[str, int]:
    """Blocking keys, candidate pairs, identifier links and steward pairs as temp tables; blocking stats.

    An incremental run makes the identifier links of the groups the change touched and the pairs that do
    not link two records scored before (match_also) first, then the candidates of the records that need
    them (sql/staging/*_changed.sql): the pairs of match_todo are the same, with the same blocking keys."""
    run_sql(con, "staging/match_alias")
    if incremental:
        run_sql(con, "staging/match_gone")  # the records that left, found once
        run_sql(con, "staging/match_identifier_link_changed", {"id_columns": list(ID_COLUMNS)})
        run_sql(con, "staging/match_also")
        run_sql(con, "staging/match_candidate_changed", {"max_block": settings.max_block_size})
    else:
        run_sql(con, "staging/match_candidate", {"max_block": settings.max_block_size})
        run_sql(con, "staging/match_identifier_link", {"id_columns": list(ID_COLUMNS)})
        con.execute("CREATE OR REPLACE TEMP TABLE match_also (rid_a VARCHAR, rid_b VARCHAR)")
    # The steward's latest decision per pair, between records of this run, ordered rid_a < rid_b.
    known = decisions[["rid_a", "rid_b", "is_match"]].copy()
    swap = known.rid_a > known.rid_b
    known.loc[swap, ["rid_a", "rid_b"]] = known.loc[swap, ["rid_b", "rid_a"]].to_numpy()
    known = known.drop_duplicates(["rid_a", "rid_b"], keep="last")
    known["is_match"] = known["is_match"].astype(bool)
    con.register("tmp_decided", known)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE match_decided AS SELECT rid_a, rid_b, is_match FROM tmp_decided "
            "WHERE rid_a IN (SELECT rid FROM std_organization) AND rid_b IN (SELECT rid FROM std_organization)"
        )
    finally:
        con.unregister("tmp_decided")
    aliases, common, candidates = con.execute(
        "SELECT (SELECT count(*) FROM match_alias), "
        "(SELECT count(*) FROM (SELECT core FROM match_alias GROUP BY core HAVING count(*) > $max_block)), "
        "(SELECT count(*) FROM match_candidate)",
        {"max_block": settings.max_block_size},
    ).fetchall()[0]
    decided = con.execute("SELECT count(*) FROM match_decided").fetchall()[0][0]
    return {
        "aliases": int(aliases),
        "skipped_common_keys": int(common),
        "candidate_pairs": int(candidates),  # an incremental run's: those of the records that need candidates
        "steward_decisions": int(decided),
    }


def _alias_batches(con: duckdb.DuckDBPyConnection, rows: int) -> Iterator[list[list[str]]]:
    reader = con.sql("SELECT aliases FROM std_organization").to_arrow_reader(rows)
    assert reader is not None  # a SELECT always has a result
    for batch in reader:
        yield [a or [] for a in batch.column(0).to_pylist()]


def _count_tokens(con: duckdb.DuckDBPyConnection, workers: int, rows: int) -> Counter[str]:
    """Name-token document frequencies over every record, counted by batches in the workers."""
    counts: Counter[str] = Counter()
    for part in map_batches(name_tokens.token_counts, _alias_batches(con, rows), workers):
        counts.update(part)
    return counts


def _token_delta(con: duckdb.DuckDBPyConnection) -> Counter[str]:
    """Per name token, the records holding it now minus before, over the records that are new, changed or
    gone (their last standardised aliases, std_replaced): added to the last run's document
    frequencies, it gives the count over all records again."""
    old = con.execute("SELECT aliases FROM std_replaced").fetchall()
    new = con.execute("SELECT aliases FROM std_organization WHERE rid IN (SELECT rid FROM run_changed)").fetchall()
    delta = name_tokens.token_counts(a or [] for (a,) in new)
    delta.subtract(name_tokens.token_counts(a or [] for (a,) in old))
    return delta


def _compared_token_counts(con: duckdb.DuckDBPyConnection, work: Path) -> dict[str, int]:
    """An incremental run's token frequencies: all of them (the last run's updated by :func:`_token_delta`)
    into the work folder for new_match_token_frequency; returned, those of the tokens of the records to
    compare (match_todo) and of one rarest token, whose weight is the top that weights are measured against
    (mdm.comparison): their weights are all that comparing the pairs reads. Counted in DuckDB and Arrow: no
    Python loop over every token."""
    delta = _token_delta(con)
    con.register(
        "tmp_token_delta",
        pa.table({"token": pa.array(list(delta), pa.string()), "delta": pa.array(list(delta.values()), pa.int64())}),
    )
    try:
        counts = con.sql(sql_text("staging/match_token_counts")).to_arrow_table()  # no parameter
    finally:
        con.unregister("tmp_token_delta")
    write_frequencies(work, counts)
    aliases = con.execute(
        "SELECT aliases FROM std_organization "
        "WHERE rid IN (SELECT rid_a FROM match_todo UNION SELECT rid_b FROM match_todo)"
    ).fetchall()
    needed = pa.array(sorted(name_tokens.token_counts(a or [] for (a,) in aliases)), type=pa.string())
    keep = pc.is_in(counts.column("token"), value_set=needed).to_numpy(zero_copy_only=False)
    if counts.num_rows:  # the first (in token order) of the tokens held by the fewest records
        keep[int(np.argmin(counts.column("records").to_numpy()))] = True
    taken = counts.filter(pa.array(keep))
    return dict(zip(taken.column("token").to_pylist(), taken.column("records").to_pylist(), strict=True))


def _publish_pairs(
    con: duckdb.DuckDBPyConnection, ctx: StageContext, work: Path, parts: int, incremental: bool
) -> dict[str, object]:
    """This run's scored pairs into new_match_pair (with the kept pairs of an incremental run) and the
    token frequencies into new_match_token_frequency; returns the figures of the pairs.

    The scored pairs are read by DuckDB's own Parquet reader, straight from the partition files, in each
    statement: not through a registered Arrow dataset (whose scan buffers sit outside DuckDB's memory limit and
    stay with the transaction) nor copied to a temp table, so the pairs held in memory stay within the limit
    (DuckDB spills the sort of new_match_pair) however many there are."""
    tokens = work / (FREQUENCY if incremental else "idf.parquet")  # an incremental run's idf: compared tokens only
    con.register("tmp_tokens", ds.dataset(str(tokens), format="parquet"))
    try:
        run_sql(con, "staging/new_match_token_frequency")
    finally:
        con.unregister("tmp_tokens")
    files: dict[str, object] = {"files": [str(partition_path(work, "scored", k)) for k in range(parts)]}
    scored = "read_parquet($files)"  # the relation of this run's scored pairs (bound: the files)
    if parts == 0:  # no pair to compare: an empty table with the pair columns
        frame_table(
            con, "tmp_pairs", _empty_pairs(), "CREATE OR REPLACE TEMP TABLE tmp_scored AS SELECT * FROM tmp_pairs"
        )
        scored, files = "tmp_scored", {}
    compared, det, match, non_match = con.execute(
        "SELECT count(*), count(*) FILTER (rule <> 'score'), count(*) FILTER (label = 1), "
        f"count(*) FILTER (label = 0) FROM {scored}",
        files,
    ).fetchall()[0]
    bands = con.execute(f"SELECT band, count(*) FROM {scored} WHERE rule = 'score' GROUP BY band ORDER BY band", files)
    detail: dict[str, object] = {
        "compared_pairs": compared,
        "deterministic_pairs": det,
        "labelled_pairs": {"match": match, "non_match": non_match},
        "bands": dict(bands.fetchall()),
    }
    # The pairs scored in this run: the clustering of an incremental run starts from their records.
    con.execute(f"CREATE OR REPLACE TABLE run_rescored AS SELECT rid_a, rid_b FROM {scored}", files)
    run = files | {"run": ctx.run_id}
    if incremental:
        # In place (the run's private copy): the kept pairs stay, this run's pairs are added.
        run_sql(con, "staging/match_gone")  # no-op when prepare made it on this connection
        run_sql(con, "staging/match_pair_kept")
        detail["reused_pairs"] = con.execute("SELECT count(*) FROM match_pair").fetchall()[0][0]
        con.execute(f"INSERT INTO match_pair BY NAME SELECT *, $run AS run_id FROM {scored}", run)
        con.execute("DROP TABLE IF EXISTS new_match_pair")
        con.execute("ALTER TABLE match_pair RENAME TO new_match_pair")
    else:
        con.execute(
            f"CREATE OR REPLACE TABLE new_match_pair AS SELECT *, $run AS run_id FROM {scored} ORDER BY rid_a, rid_b",
            run,
        )
    con.execute("DROP TABLE IF EXISTS tmp_scored")
    return detail


def _empty_pairs() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in matching.PAIR_COLUMNS})
    for c in ("score", *matching.FEATURES, "branch"):
        frame[c] = frame[c].astype(float)
    frame["label"] = frame["label"].astype("int8")
    return frame


def _model_detail(model: FellegiSunter, manifest: dict[str, Any], workers: int) -> dict[str, object]:
    return {
        "pairs_per_record": round(manifest["stats"]["candidate_pairs"] / max(manifest["records"], 1), 3),
        "model": model.trained_on,
        "em_iterations": model.iterations,
        "lambda": round(model.lam, 6),
        "partitions": manifest["parts"],
        "workers": workers,
    }
