"""One benchmark run: generate the sample, run and score both systems, then an incremental rerun."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.bench.scoring import Scores, load_truth, read_clusters, score
from pipelines.bench.systems import (
    SPLINK_METHODS,
    SPLINK_THRESHOLDS,
    SystemResult,
    in_child,
    run_ours,
    run_splink,
)


@dataclass
class Benchmark:
    """Everything one benchmark run measured, ready for the report."""

    entities: int
    seed: int
    date: str
    counts: dict[str, int]
    records: int
    truth_records: int
    true_pairs: int
    ours: SystemResult
    ours_scores: Scores
    splink: SystemResult | None = None
    splink_sweep: dict[tuple[str, float], Scores] = field(default_factory=dict)  # (method, threshold)
    incremental: dict[str, Any] | None = None  # 1% change: incremental vs full run times
    churn: dict[str, Any] | None = None  # churn watchlist vs the generator's churn truth
    onboarding: dict[str, float] | None = None  # POST /api/match latency on the published warehouse
    generation: dict[str, float] | None = None  # the sample generator's seconds and peak memory
    command: str | None = None  # the command line that produced it (set by the CLI, shown in the report)


def generate_sample(out: str, entities: int, seed: int) -> dict[str, Any]:
    """``mdm generate`` into ``out`` (run in a child process): the counts, its seconds and peak memory."""
    from pipelines.bench.systems import peak_rss_mb
    from pipelines.sample import generate

    t0 = time.perf_counter()
    counts = generate(Path(out), entities, seed)
    return {"counts": counts, "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def run_benchmark(
    entities: int,
    seed: int,
    out: Path,
    with_splink: bool = True,
    u_max_pairs: float = 1e7,
    with_incremental: bool = True,
) -> Benchmark:
    """Generate the sample, run both systems in child processes and score them."""
    from mdm.standardise import REGISTER_FORMATS

    sample, splink_dir = out / "sample", out / "splink"
    for d in (sample, splink_dir):
        shutil.rmtree(d, ignore_errors=True)  # a fresh warehouse: a second run would match against the first
    gen = in_child(generate_sample, str(sample), entities, seed)
    counts = gen["counts"]
    truth = load_truth(sample / "truth.csv")

    o = in_child(run_ours, str(sample / "mdm.yaml"))
    db = Path(o["warehouse"]) / "mdm.duckdb"
    con = duckdb.connect()
    try:
        con.register("truth_df", pd.DataFrame({"rid": list(truth), "entity_id": list(truth.values())}))
        con.execute("CREATE TABLE truth AS SELECT * FROM truth_df")
        con.unregister("truth_df")
        con.execute("ATTACH $db AS wh (READ_ONLY)", {"db": str(db)})
        ours_clusters = read_clusters(con, "SELECT rid, golden_id FROM wh.xref")
        ours = SystemResult(
            name="ours",
            clusters=ours_clusters,
            pairs_compared=o["candidate_pairs"] + o["deterministic_pairs"],
            seconds=o["seconds"],
            peak_rss_mb=o["peak_rss_mb"],
            stage_seconds=o["stage_seconds"],
            tree_peak_mb=o["tree_peak_mb"],
            notes=[
                f"{o['candidate_pairs']:,} candidate pairs scored + {o['deterministic_pairs']:,} "
                "deterministic identifier pairs"
            ],
        )
        ours_scores = score(con, truth, ours_clusters, "SELECT rid_a AS a, rid_b AS b FROM wh.match_pair")
        bench = Benchmark(
            entities=entities,
            seed=seed,
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            counts=counts,
            records=len(ours_clusters),
            truth_records=len(set(truth) & set(ours_clusters)),
            true_pairs=int(ours_scores.pairwise["true_pairs"]),
            ours=ours,
            ours_scores=ours_scores,
            generation={"seconds": gen["seconds"], "peak_rss_mb": gen["peak_rss_mb"]},
        )
        if with_splink:
            registers = [
                r
                for (r,) in con.execute(
                    "SELECT DISTINCT source FROM wh.organization_record "
                    "WHERE list_contains($f, source_format) ORDER BY 1",
                    {"f": sorted(REGISTER_FORMATS)},
                ).fetchall()
            ]
            s = in_child(run_splink, str(db), str(splink_dir), seed, u_max_pairs, registers)
            con.execute(
                "CREATE TEMP TABLE splink_blocked AS SELECT a, b FROM read_parquet($p)",
                {"p": str(splink_dir / "blocked.parquet")},
            )
            blocked = "SELECT a, b FROM splink_blocked"
            n_blocked = con.execute(f"SELECT count(*) FROM ({blocked})").fetchall()[0][0]
            for method in SPLINK_METHODS:
                for t in SPLINK_THRESHOLDS:
                    path = splink_dir / f"clusters_{method}_{t}.parquet"
                    clusters = read_clusters(
                        con, "SELECT unique_id, cluster_id FROM read_parquet($p)", {"p": str(path)}
                    )
                    bench.splink_sweep[(method, t)] = score(con, truth, clusters, blocked)
            bench.splink = SystemResult(
                name="splink",
                clusters={},
                pairs_compared=int(n_blocked),
                seconds=s["seconds"],
                peak_rss_mb=s["peak_rss_mb"],
                stage_seconds=s["stage_seconds"],
                tree_peak_mb=s["tree_peak_mb"],
                notes=[
                    f"estimated probability that two random records match: {s['lambda']:.3g}",
                    "duplicate-free registers: " + ", ".join(registers),
                ],
            )
    finally:
        con.close()
    from pipelines.bench.churn import watchlist_quality
    from pipelines.config import load_config

    window = load_config(sample / "mdm.yaml", check_files=False).marts.churn.window_months
    bench.churn = watchlist_quality(db, sample / "churn_truth.csv", window)
    bench.onboarding = in_child(_onboarding_latency, str(sample / "mdm.yaml"))
    if with_incremental:
        bench.incremental = measure_incremental(sample, Path(o["warehouse"]), share=0.01)
    return bench


def _onboarding_latency(config: str) -> dict[str, float]:
    """The onboarding match API's latency (pipelines.review.onboard) on the benchmark's warehouse."""
    from pipelines.config import load_config
    from pipelines.review.onboard import measure_latency

    return measure_latency(load_config(Path(config), check_files=False), queries=300)


def change_crm(sample: Path, share: float) -> int:
    """Change ``share`` of the CRM customers (a name suffix and a new city, every k-th by id): the
    kind of daily delta an incremental run is for. Returns the number of changed customers."""
    import sqlite3

    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    try:
        ids = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id")]
        step = max(1, round(1 / share))
        changed = ids[::step]
        # The CRM stamps every change, as change-data capture (config `changes`) expects.
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        con.executemany(
            "UPDATE customers SET name = name || ' Trading', city = 'Leeds', updated_at = ? WHERE source_id = ?",
            [(stamp, i) for i in changed],
        )
        con.commit()
    finally:
        con.close()
    return len(changed)


def measure_incremental(sample: Path, warehouse: Path, share: float) -> dict[str, Any]:
    """After a full run: change ``share`` of the CRM, then run incrementally, and run the same input as a
    full run from a copy of the same published state; report both times and whether clusters agree."""
    import yaml

    full_wh = warehouse.parent / "warehouse-full"
    shutil.rmtree(full_wh, ignore_errors=True)
    shutil.copytree(warehouse, full_wh, symlinks=True)
    changed = change_crm(sample, share)
    raw = yaml.safe_load((sample / "mdm.yaml").read_text(encoding="utf-8"))
    raw.update({"warehouse": str(full_wh), "incremental": False})
    full_cfg = sample / "mdm-full.yaml"
    full_cfg.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    inc = in_child(run_ours, str(sample / "mdm.yaml"))
    full = in_child(run_ours, str(full_cfg))
    con = duckdb.connect()
    try:
        con.execute("ATTACH $db AS a (READ_ONLY)", {"db": str(warehouse / "mdm.duckdb")})
        con.execute("ATTACH $db AS b (READ_ONLY)", {"db": str(full_wh / "mdm.duckdb")})
        differ = con.execute(
            "SELECT count(*) FROM a.xref FULL JOIN b.xref USING (rid) "
            "WHERE a.xref.golden_id IS DISTINCT FROM b.xref.golden_id"
        ).fetchall()[0][0]
        records = con.execute("SELECT count(*) FROM b.xref").fetchall()[0][0]
    finally:
        con.close()
    return {"changed": changed, "incremental": inc, "full": full, "records_differing": differ, "records": records}
