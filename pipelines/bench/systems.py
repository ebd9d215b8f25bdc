"""The two benchmarked systems, ours and Splink 5, each run in a freshly spawned child process."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

# Splink clusters at this match probability by default; the others are tried and the best F1 is
# reported as "tuned" (tuned on the truth itself, so an upper bound, not a fair default).
SPLINK_DEFAULT_THRESHOLD = 0.9
SPLINK_THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
SPLINK_PREDICT_FLOOR = 0.01  # pairs below this probability are never clustered by any threshold above
# Clustering methods: connected components of the pairs above the threshold ("cc"), and single best links
# with every register duplicate-free ("sbl": at most one record per register in a cluster).
SPLINK_METHODS = {"cc": "connected components", "sbl": "single best links, registers duplicate-free"}


@dataclass
class SystemResult:
    """What one system did: its clusters, the pairs it compared and its cost."""

    name: str
    clusters: dict[str, str]  # rid -> cluster id (ours; Splink's clusterings are in the sweep)
    pairs_compared: int
    seconds: float
    peak_rss_mb: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    tree_peak_mb: float | None = None  # the process and its workers together (sampled PSS, see bench.memory)
    compared_sql: str = ""  # a query over the bench connection giving the compared pairs (a, b)
    notes: list[str] = field(default_factory=list)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports kibibytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """Largest peak resident set size among this process' ended children (worker processes), in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a freshly spawned process (its own interpreter, so its own memory peak)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# -- the two systems (each runs in a child process) ------------------------------------------------------


def run_ours(config: str) -> dict[str, Any]:
    """Run the whole pipeline on ``config``; returns timings, peak memory (this process; its worker processes;
    the whole tree, sampled) and the match stage's counts."""
    from pipelines import runner
    from pipelines.bench.memory import TreeMemory

    stage_seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with TreeMemory() as tree:
        summary = runner.run(Path(config), on_stage=lambda r: stage_seconds.__setitem__(r["stage"], r["seconds"]))
    seconds = time.perf_counter() - t0
    match = next(s for s in summary.stages if s.stage == "match").detail
    return {
        "seconds": seconds,
        "stage_seconds": stage_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "workers_peak_rss_mb": children_peak_rss_mb(),
        "tree_peak_mb": tree.peak_mb,
        "warehouse": str(summary.warehouse),
        "candidate_pairs": int(match.get("candidate_pairs", 0)),
        "deterministic_pairs": int(match.get("deterministic_pairs", 0)),
    }


def splink_input(db_path: str) -> pd.DataFrame:
    """The standardised records of the published warehouse as Splink input (one row per source record).

    Empty strings become NULL (Splink treats '' as a value). ``name_en_core`` is the English name through
    the same core function (legal form and noise removed) as ``name_core``; ``name_first``/``name_last``
    are the first/last token of the core, for blocking.
    """
    from mdm.standardise import name_core

    con = duckdb.connect(db_path, read_only=True)
    try:
        df = con.execute(
            "SELECT rid AS unique_id, source, nullif(name_core, '') AS name_core, name_en, "
            "nullif(split_part(name_core, ' ', 1), '') AS name_first, "
            "nullif(split_part(name_core, ' ', -1), '') AS name_last, "
            "nullif(country_iso, '') AS country_iso, nullif(city_norm, '') AS city_norm, "
            "nullif(postal_norm, '') AS postal_norm, "
            "id_LEI AS lei, id_USCC AS uscc, id_GB_COH AS gb_coh "
            "FROM organization_record ORDER BY rid"
        ).df()
    finally:
        con.close()
    df["name_en_core"] = [name_core(n) or None if isinstance(n, str) and n else None for n in df["name_en"]]
    return df.drop(columns=["name_en"])


def run_splink(db_path: str, out_dir: str, seed: int, u_max_pairs: float, registers: list[str]) -> dict[str, Any]:
    """Train and run Splink 5 (DuckDB backend) as a dedupe of the records in ``db_path`` (link_and_dedupe
    over one table per source, which scores exactly the pairs a dedupe_only of all records would).

    ``registers`` are the sources whose records are distinct entities (duplicate-free for single best links).
    Model: Fellegi-Sunter with name core (exact with term frequencies, Damerau-Levenshtein <= 1,
    Jaro-Winkler 0.95/0.88/0.80), English name core (Jaro-Winkler), country, city (term frequencies),
    postcode (exact / Levenshtein 1), LEI, USCC and Companies House number (exact). u by random sampling,
    lambda from deterministic identifier rules, m by EM on two blocking rules. Predicts the pairs of
    probability >= SPLINK_PREDICT_FLOOR and clusters them at SPLINK_DEFAULT_THRESHOLD (the timed part),
    then writes the blocked pairs (``blocked.parquet``: a, b) and the clusters at every threshold of
    SPLINK_THRESHOLDS (``clusters_<t>.parquet``: unique_id, cluster_id) to ``out_dir``; returns timings
    and peak memory.
    """
    import logging

    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from pipelines.bench.memory import TreeMemory

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tree = TreeMemory().start()  # stopped at the end of the timed section
    t0 = time.perf_counter()
    records = splink_input(db_path)
    t_prepared = time.perf_counter()

    name = cl.CustomComparison(
        output_column_name="name_core",
        comparison_levels=[
            cll.NullLevel("name_core"),
            cll.ExactMatchLevel("name_core", term_frequency_adjustments=True),
            cll.DamerauLevenshteinLevel("name_core", 1),
            cll.JaroWinklerLevel("name_core", 0.95),
            cll.JaroWinklerLevel("name_core", 0.88),
            cll.JaroWinklerLevel("name_core", 0.80),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="link_and_dedupe",
        unique_id_column_name="unique_id",
        comparisons=[
            name,
            cl.JaroWinklerAtThresholds("name_en_core", [0.95, 0.88]),
            cl.ExactMatch("country_iso"),
            cl.ExactMatch("city_norm").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("postal_norm", [1]),
            cl.ExactMatch("lei"),
            cl.ExactMatch("uscc"),
            cl.ExactMatch("gb_coh"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name_core"),
            block_on("name_en_core"),
            block_on("lei"),
            block_on("uscc"),
            block_on("gb_coh"),
            block_on("name_first", "country_iso"),
            block_on("postal_norm", "name_first"),
            block_on("postal_norm", "name_last"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    splink_con = duckdb.connect()
    splink_con.execute("SET enable_progress_bar = false")
    db_api = DuckDBAPI(splink_con)
    # One input table per source: scoring is the same as a dedupe of all records, and Splink then knows which
    # records come from a register whose keys are distinct entities (for single-best-links clustering).
    inputs = [
        db_api.register(frame.drop(columns=["source"]).reset_index(drop=True), dataset_display_name=str(src))
        for src, frame in records.groupby("source")
    ]
    linker = Linker(inputs, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("lei"), block_on("uscc"), block_on("gb_coh")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_core"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postal_norm"))
    t_trained = time.perf_counter()
    # Blocked pairs are cached by the linker and reused by predict(): computing them here costs nothing extra.
    blocked = linker.inference.compute_blocked_pairs_for_predict().as_duckdbpyrelation()
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_PREDICT_FLOOR)
    t_predicted = time.perf_counter()

    def cluster(method: str, threshold: float) -> None:
        if method == "cc":
            c = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            )
        else:
            c = linker.clustering.cluster_using_single_best_links(
                predictions, duplicate_free_datasets=registers, threshold_match_probability=threshold
            )
        c.as_duckdbpyrelation().select("unique_id, cluster_id").write_parquet(
            str(out / f"clusters_{method}_{threshold}.parquet")
        )

    for method in SPLINK_METHODS:
        cluster(method, SPLINK_DEFAULT_THRESHOLD)
    t_clustered = time.perf_counter()
    seconds = t_clustered - t0
    peak = peak_rss_mb()
    tree.stop()

    # Outside the timed section: the blocked pairs (for blocking recall) and the other thresholds.
    blocked.select(
        "split_part(join_key_l, '-__-', 2) AS a, split_part(join_key_r, '-__-', 2) AS b"
    ).distinct().write_parquet(str(out / "blocked.parquet"))
    for method in SPLINK_METHODS:
        for threshold in SPLINK_THRESHOLDS:
            if threshold != SPLINK_DEFAULT_THRESHOLD:
                cluster(method, threshold)
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "tree_peak_mb": tree.peak_mb,
        "records": len(records),
        "stage_seconds": {
            "prepare": t_prepared - t0,
            "train": t_trained - t_prepared,
            "predict": t_predicted - t_trained,
            "cluster": t_clustered - t_predicted,
        },
        "lambda": linker._settings_obj._probability_two_random_records_match,
    }
