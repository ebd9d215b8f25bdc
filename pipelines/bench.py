"""Benchmark: our matching pipeline against Splink 5 on the same generated sample.

``python -m pipelines.bench --entities N --seed S --out DIR [--no-splink] [--report docs/benchmarks.md]``

1. generates N legal entities (``pipelines.generate``) into ``DIR/sample``, with ``truth.csv``;
2. runs the whole pipeline (``pipelines.runner.run``) in a child process: per-stage and total wall time,
   peak resident memory of that process, pairs compared;
3. runs Splink 5 (DuckDB backend) in another child process on the very same standardised records
   (``organization_record`` of the published warehouse, one row per source record);
4. scores both against the truth: pairwise and B-cubed precision/recall/F1, and blocking recall (the share
   of true matching pairs that were compared or ended up in the same cluster);
5. prints a Markdown section and, with ``--report``, replaces the section for this N in that file.

Each system runs in its own freshly spawned process so the two peaks of memory are not shared; the
reported peak is the process' ``ru_maxrss`` (interpreter and imports included, DuckDB included).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mdm.evaluation import bcubed, pairwise

# Splink clusters at this match probability by default; the others are tried and the best F1 is
# reported as "tuned" (tuned on the truth itself, so an upper bound, not a fair default).
SPLINK_DEFAULT_THRESHOLD = 0.9
SPLINK_THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
SPLINK_PREDICT_FLOOR = 0.01  # pairs below this probability are never clustered by any threshold above
# Clustering methods: connected components of the pairs above the threshold ("cc"), and single best links
# with every register duplicate-free ("sbl": at most one record per register in a cluster).
SPLINK_METHODS = {"cc": "connected components", "sbl": "single best links, registers duplicate-free"}
PACKAGES = ("duckdb", "splink", "recordlinkage", "pandas")


@dataclass
class SystemResult:
    """What one system did: its clusters, the pairs it compared and its cost."""

    name: str
    clusters: dict[str, str]  # rid -> cluster id (ours; Splink's clusterings are in the sweep)
    pairs_compared: int
    seconds: float
    peak_rss_mb: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    compared_sql: str = ""  # a query over the bench connection giving the compared pairs (a, b)
    notes: list[str] = field(default_factory=list)


@dataclass
class Scores:
    """Accuracy of one clustering against the truth."""

    pairwise: dict[str, float]
    bcubed: dict[str, float]
    blocking_recall: float
    clusters: int


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports kibibytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a freshly spawned process (its own interpreter, so its own memory peak)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# -- the two systems (each runs in a child process) ------------------------------------------------------

def run_ours(config: str) -> dict[str, Any]:
    """Run the whole pipeline on ``config``; returns timings, peak memory and the match stage's counts."""
    from pipelines import runner

    stage_seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    summary = runner.run(Path(config), on_stage=lambda r: stage_seconds.__setitem__(r["stage"], r["seconds"]))
    seconds = time.perf_counter() - t0
    match = next(s for s in summary.stages if s.stage == "match").detail
    return {"seconds": seconds, "stage_seconds": stage_seconds, "peak_rss_mb": peak_rss_mb(),
            "warehouse": str(summary.warehouse), "candidate_pairs": int(match.get("candidate_pairs", 0)),
            "deterministic_pairs": int(match.get("deterministic_pairs", 0))}


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
            "FROM organization_record ORDER BY rid").df()
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

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
        ])
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
    inputs = [db_api.register(frame.drop(columns=["source"]).reset_index(drop=True),
                              dataset_display_name=str(src)) for src, frame in records.groupby("source")]
    linker = Linker(inputs, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("lei"), block_on("uscc"), block_on("gb_coh")], recall=0.7)
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
                predictions, threshold_match_probability=threshold)
        else:
            c = linker.clustering.cluster_using_single_best_links(
                predictions, duplicate_free_datasets=registers, threshold_match_probability=threshold)
        c.as_duckdbpyrelation().select("unique_id, cluster_id").write_parquet(
            str(out / f"clusters_{method}_{threshold}.parquet"))

    for method in SPLINK_METHODS:
        cluster(method, SPLINK_DEFAULT_THRESHOLD)
    t_clustered = time.perf_counter()
    seconds = t_clustered - t0
    peak = peak_rss_mb()

    # Outside the timed section: the blocked pairs (for blocking recall) and the other thresholds.
    blocked.select("split_part(join_key_l, '-__-', 2) AS a, split_part(join_key_r, '-__-', 2) AS b").distinct() \
        .write_parquet(str(out / "blocked.parquet"))
    for method in SPLINK_METHODS:
        for threshold in SPLINK_THRESHOLDS:
            if threshold != SPLINK_DEFAULT_THRESHOLD:
                cluster(method, threshold)
    return {"seconds": seconds, "peak_rss_mb": peak, "records": len(records),
            "stage_seconds": {"prepare": t_prepared - t0, "train": t_trained - t_prepared,
                              "predict": t_predicted - t_trained, "cluster": t_clustered - t_predicted},
            "lambda": linker._settings_obj._probability_two_random_records_match}


# -- scoring ---------------------------------------------------------------------------------------------

def load_truth(path: Path) -> dict[str, str]:
    """``truth.csv`` (source, source_id, entity_id) as rid (``source:source_id``) -> entity id."""
    with path.open(encoding="utf-8", newline="") as f:
        return {f"{r['source']}:{r['source_id']}": r["entity_id"] for r in csv.DictReader(f)}


def blocking_recall(con: duckdb.DuckDBPyConnection, clusters: Mapping[str, str], compared_sql: str) -> float:
    """Share of true matching pairs (same entity id in the ``truth`` table of ``con``, over records that
    were clustered) that were compared (a row of ``compared_sql`` with columns a, b, in either order) or
    ended up in the same cluster."""
    con.register("clu", pd.DataFrame({"rid": list(clusters), "cid": list(clusters.values())}))
    try:
        total, found = con.execute(f"""
            WITH t AS (SELECT t.rid, t.entity_id, c.cid FROM truth t JOIN clu c USING (rid)),
            tp AS (SELECT a.rid AS a, b.rid AS b, a.cid = b.cid AS same
                   FROM t a JOIN t b ON a.entity_id = b.entity_id AND a.rid < b.rid),
            cmp AS (SELECT DISTINCT least(a, b) AS a, greatest(a, b) AS b FROM ({compared_sql}))
            SELECT count(*), count(*) FILTER (WHERE tp.same OR cmp.a IS NOT NULL)
            FROM tp LEFT JOIN cmp ON tp.a = cmp.a AND tp.b = cmp.b""").fetchall()[0]
    finally:
        con.unregister("clu")
    return found / total if total else 1.0


def score(con: duckdb.DuckDBPyConnection, truth: Mapping[str, str], clusters: Mapping[str, str],
          compared_sql: str) -> Scores:
    """Pairwise and B-cubed scores of ``clusters`` against ``truth``, and blocking recall."""
    return Scores(pairwise(clusters, truth), bcubed(clusters, truth), blocking_recall(con, clusters, compared_sql),
                  len(set(clusters.values())))


def read_clusters(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, str]:
    """rid -> cluster id from a query returning those two columns (values as bound ``params``)."""
    return {str(r): str(c) for r, c in con.execute(sql, params).fetchall()}


# -- the benchmark -------------------------------------------------------------------------------------

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
    incremental: dict[str, Any] | None = None   # 1% change: incremental vs full run times


def run_benchmark(entities: int, seed: int, out: Path, with_splink: bool = True,
                  u_max_pairs: float = 1e7, with_incremental: bool = True) -> Benchmark:
    """Generate the sample, run both systems in child processes and score them."""
    from pipelines.generate import generate
    from mdm.standardise import REGISTER_FORMATS

    sample, splink_dir = out / "sample", out / "splink"
    for d in (sample, splink_dir):
        shutil.rmtree(d, ignore_errors=True)  # a fresh warehouse: a second run would match against the first
    counts = generate(sample, entities, seed)
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
            name="ours", clusters=ours_clusters, pairs_compared=o["candidate_pairs"] + o["deterministic_pairs"],
            seconds=o["seconds"], peak_rss_mb=o["peak_rss_mb"], stage_seconds=o["stage_seconds"],
            notes=[f"{o['candidate_pairs']:,} candidate pairs scored + {o['deterministic_pairs']:,} "
                   "deterministic identifier pairs"])
        ours_scores = score(con, truth, ours_clusters, "SELECT rid_a AS a, rid_b AS b FROM wh.match_pair")
        bench = Benchmark(
            entities=entities, seed=seed, date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            counts=counts, records=len(ours_clusters), truth_records=len(set(truth) & set(ours_clusters)),
            true_pairs=int(ours_scores.pairwise["true_pairs"]), ours=ours, ours_scores=ours_scores)
        if with_splink:
            registers = [r for r, in con.execute("SELECT DISTINCT source FROM wh.organization_record "
                                                 "WHERE list_contains($f, source_format) ORDER BY 1",
                                                 {"f": sorted(REGISTER_FORMATS)}).fetchall()]
            s = in_child(run_splink, str(db), str(splink_dir), seed, u_max_pairs, registers)
            con.execute("CREATE TEMP TABLE splink_blocked AS SELECT a, b FROM read_parquet($p)",
                        {"p": str(splink_dir / "blocked.parquet")})
            blocked = "SELECT a, b FROM splink_blocked"
            n_blocked = con.execute(f"SELECT count(*) FROM ({blocked})").fetchall()[0][0]
            for method in SPLINK_METHODS:
                for t in SPLINK_THRESHOLDS:
                    path = splink_dir / f"clusters_{method}_{t}.parquet"
                    clusters = read_clusters(con, "SELECT unique_id, cluster_id FROM read_parquet($p)", {"p": str(path)})
                    bench.splink_sweep[(method, t)] = score(con, truth, clusters, blocked)
            bench.splink = SystemResult(
                name="splink", clusters={}, pairs_compared=int(n_blocked), seconds=s["seconds"],
                peak_rss_mb=s["peak_rss_mb"], stage_seconds=s["stage_seconds"],
                notes=[f"estimated probability that two random records match: {s['lambda']:.3g}",
                       "duplicate-free registers: " + ", ".join(registers)])
    finally:
        con.close()
    if with_incremental:
        bench.incremental = measure_incremental(sample, Path(o["warehouse"]), share=0.01)
    return bench


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
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        con.executemany("UPDATE customers SET name = name || ' Trading', city = 'Leeds', updated_at = ? "
                        "WHERE source_id = ?", [(stamp, i) for i in changed])
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
        differ = con.execute("SELECT count(*) FROM a.xref FULL JOIN b.xref USING (rid) "
                             "WHERE a.xref.golden_id IS DISTINCT FROM b.xref.golden_id").fetchall()[0][0]
        records = con.execute("SELECT count(*) FROM b.xref").fetchall()[0][0]
    finally:
        con.close()
    return {"changed": changed, "incremental": inc, "full": full, "records_differing": differ, "records": records}


# -- the report ------------------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    """CPU model, cores, RAM, Python and the versions of the packages that matter here."""
    cpu = "unknown"
    mem_kb = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": str(os.cpu_count()), "ram": f"{mem_kb / 1024 ** 2:.1f} GiB",
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}"}
    for pkg in PACKAGES:
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = "not installed"
    return info


def _f(x: float) -> str:
    return f"{x:.4f}"


def _mb(x: float) -> str:
    return f"{x:,.0f} MiB"


def section_title(entities: int) -> str:
    """The heading that identifies the report section of one N (used to replace it on a rerun)."""
    return f"## N = {entities:,} entities"


def render(b: Benchmark, info: Mapping[str, str]) -> str:
    """The Markdown section of one benchmark run."""
    lines = [section_title(b.entities), "",
             f"Seed {b.seed}, run {b.date}. Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, "
             f"{info['os']}; Python {info['python']}, " + ", ".join(f"{p} {info[p]}" for p in PACKAGES) + ".", "",
             f"{b.records:,} source records of {b.entities:,} entities "
             f"({', '.join(f'{s} {b.counts[s]:,}' for s in ('gleif', 'cn_registry', 'uk_registry', 'sec', 'crm'))}); "
             f"{b.truth_records:,} of them in truth.csv, {b.true_pairs:,} true matching pairs.", ""]
    ours, o = b.ours, b.ours_scores
    match_secs = sum(ours.stage_seconds.get(s, 0.0) for s in ("standardise", "match", "cluster"))
    cols: list[tuple[str, SystemResult, Scores]] = [("ours", ours, o)]
    if b.splink is not None:
        best = max(b.splink_sweep, key=lambda k: b.splink_sweep[k].pairwise["f1"])
        for method in SPLINK_METHODS:
            cols.append((f"Splink 5 {method}, p ≥ {SPLINK_DEFAULT_THRESHOLD}", b.splink,
                         b.splink_sweep[(method, SPLINK_DEFAULT_THRESHOLD)]))
        cols.append((f"Splink 5 tuned ({best[0]}, p ≥ {best[1]})", b.splink, b.splink_sweep[best]))
    rows: list[tuple[str, list[str]]] = [
        ("pairwise precision", [_f(s.pairwise["precision"]) for _, _, s in cols]),
        ("pairwise recall", [_f(s.pairwise["recall"]) for _, _, s in cols]),
        ("pairwise F1", [_f(s.pairwise["f1"]) for _, _, s in cols]),
        ("B-cubed precision", [_f(s.bcubed["precision"]) for _, _, s in cols]),
        ("B-cubed recall", [_f(s.bcubed["recall"]) for _, _, s in cols]),
        ("B-cubed F1", [_f(s.bcubed["f1"]) for _, _, s in cols]),
        ("clusters", [f"{s.clusters:,}" for _, _, s in cols]),
        ("pairs compared", [f"{r.pairs_compared:,}" for _, r, _ in cols]),
        ("pairs per record", [f"{r.pairs_compared / max(b.records, 1):.2f}" for _, r, _ in cols]),
        ("blocking recall", [_f(s.blocking_recall) for _, _, s in cols]),
        ("total wall time", [f"{r.seconds:.1f} s" for _, r, _ in cols]),
        ("matching wall time", [f"{match_secs:.1f} s"] + [f"{r.seconds:.1f} s" for _, r, _ in cols[1:]]),
        ("peak memory (RSS)", [_mb(r.peak_rss_mb) for _, r, _ in cols]),
    ]
    lines += ["| | " + " | ".join(c[0] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(vals) + " |" for label, vals in rows]
    lines += ["", "Our total time is the whole pipeline (extract, validation, survivorship, publish); matching time is "
              "standardise + match + cluster. " + "; ".join(ours.notes) + "."]
    lines += ["", "Our stages: " + ", ".join(f"{st} {sec:.1f} s" for st, sec in ours.stage_seconds.items()) + "."]
    if b.splink is not None:
        lines += ["", "Splink stages: " + ", ".join(f"{st} {sec:.1f} s" for st, sec in b.splink.stage_seconds.items())
                  + " (cluster = both clusterings at the default threshold); " + "; ".join(b.splink.notes) + ". "
                  + "; ".join(f"{m} = {d}" for m, d in SPLINK_METHODS.items()) + ". Tuned = the best pairwise F1 "
                  "over the sweep below, chosen on the truth itself (an upper bound, not a deployable setting).", "",
                  "| Splink clustering | threshold | pairwise P | pairwise R | pairwise F1 | B-cubed F1 | clusters |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {m} | {t} | {_f(s.pairwise['precision'])} | {_f(s.pairwise['recall'])} | "
                  f"{_f(s.pairwise['f1'])} | {_f(s.bcubed['f1'])} | {s.clusters:,} |"
                  for (m, t), s in b.splink_sweep.items()]
    else:
        lines += ["", "Splink was not run (--no-splink)."]
    if b.incremental is not None:
        inc, full = b.incremental["incremental"], b.incremental["full"]
        lines += ["", f"Incremental run after changing {b.incremental['changed']:,} CRM customers (1%): "
                  f"{inc['seconds']:.1f} s against {full['seconds']:.1f} s for a full run of the same input from the "
                  f"same published state ({inc['seconds'] / max(full['seconds'], 1e-9):.0%}). Records whose golden "
                  f"id differs between the two: {b.incremental['records_differing']:,} of "
                  f"{b.incremental['records']:,} (the full run retrains the matching model on the changed data; "
                  f"the incremental run keeps the last one).", "",
                  "| stage | incremental | full |", "|---|---|---|"]
        lines += [f"| {st} | {inc['stage_seconds'].get(st, 0):.1f} s | {sec:.1f} s |"
                  for st, sec in full["stage_seconds"].items()]
        lines += [f"| peak memory | {_mb(inc['peak_rss_mb'])} | {_mb(full['peak_rss_mb'])} |"]
    return "\n".join(lines) + "\n"


def write_report(path: Path, section: str, entities: int) -> None:
    """Put ``section`` into the Markdown file ``path``: replace the section of the same N, or append.

    Everything before the first section (the hand-written preamble) and the sections of other N stay.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    head, *sections = text.split("\n## ")
    sections = ["## " + s.rstrip("\n") + "\n" for s in sections]
    title = section_title(entities)
    replaced = False
    for i, s in enumerate(sections):
        if s.splitlines()[0] == title:
            sections[i] = section
            replaced = True
    if not replaced:
        sections.append(section)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(sections), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, required=True, help="legal entities to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="work folder (sample, warehouse, Splink output)")
    parser.add_argument("--no-splink", action="store_true", help="run only our pipeline")
    parser.add_argument("--report", type=Path, help="Markdown file whose section for this N is replaced")
    parser.add_argument("--u-max-pairs", type=float, default=1e7, help="Splink: pairs sampled to estimate u")
    parser.add_argument("--no-incremental", action="store_true", help="skip the 1%% change incremental run")
    args = parser.parse_args(argv)
    bench = run_benchmark(args.entities, args.seed, args.out, with_splink=not args.no_splink,
                          u_max_pairs=args.u_max_pairs, with_incremental=not args.no_incremental)
    section = render(bench, machine())
    print(section)
    if args.report:
        write_report(args.report, section, args.entities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
