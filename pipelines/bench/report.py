"""The Markdown report of a benchmark run and its place in ``docs/benchmarks.md``."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from pipelines.bench.run import Benchmark
from pipelines.bench.scoring import Scores
from pipelines.bench.systems import (
    SPLINK_DEFAULT_THRESHOLD,
    SPLINK_METHODS,
    SystemResult,
)

PACKAGES = ("duckdb", "splink", "recordlinkage", "pandas")
# Our stages that do what Splink does (Splink is given the standardised records, so standardise counts on our side).
MATCHING_STAGES = ("standardise", "match", "cluster")


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
    info = {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024**2:.1f} GiB",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }
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


def _mb_or_dash(x: float | None) -> str:
    return "–" if x is None else _mb(x)


def matching_seconds(stage_seconds: Mapping[str, float]) -> float:
    """Our matching wall time: the stages that correspond to what Splink does."""
    return sum(stage_seconds.get(s, 0.0) for s in MATCHING_STAGES)


def comparison_line(b: Benchmark) -> str:
    """The one sentence issue 15 asks for: our matching stages against Splink, measured in this run."""
    ours = matching_seconds(b.ours.stage_seconds)
    parts = " + ".join(f"{st} {b.ours.stage_seconds.get(st, 0.0):.1f} s" for st in MATCHING_STAGES)
    if b.splink is None:
        return f"Matching stages vs Splink: {ours:.1f} s vs not measured (--no-splink); ours = {parts}."
    theirs = b.splink.seconds
    verdict = "no longer than Splink" if ours <= theirs else "longer than Splink"
    return (
        f"Matching stages vs Splink: {ours:.1f} s vs {theirs:.1f} s, measured in this run: ours {verdict} "
        f"({ours / max(theirs, 1e-9):.0%} of Splink's time); ours = {parts}; Splink = reading the records, "
        "training, predicting and clustering at the default threshold."
    )


def section_title(entities: int) -> str:
    """The heading that identifies the report section of one N (used to replace it on a rerun)."""
    return f"## N = {entities:,} entities"


def render(b: Benchmark, info: Mapping[str, str]) -> str:
    """The Markdown section of one benchmark run."""
    lines = [
        section_title(b.entities),
        "",
        f"Seed {b.seed}, run {b.date}. Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, "
        f"{info['os']}; Python {info['python']}, " + ", ".join(f"{p} {info[p]}" for p in PACKAGES) + ".",
        "",
    ]
    if b.command:
        lines += [f"Command: `{b.command}`", ""]
    generated = ""
    if b.generation is not None:
        generated = (
            f" The sample was generated in {b.generation['seconds']:.1f} s "
            f"(peak memory {_mb(b.generation['peak_rss_mb'])})."
        )
    lines += [
        f"{b.records:,} source records of {b.entities:,} entities "
        f"({', '.join(f'{s} {b.counts[s]:,}' for s in ('gleif', 'cn_registry', 'uk_registry', 'sec', 'crm'))}); "
        f"{b.truth_records:,} of them in truth.csv, {b.true_pairs:,} true matching pairs.{generated}",
        "",
        comparison_line(b),
        "",
    ]
    ours, o = b.ours, b.ours_scores
    match_secs = matching_seconds(ours.stage_seconds)
    cols: list[tuple[str, SystemResult, Scores]] = [("ours", ours, o)]
    if b.splink is not None:
        best = max(b.splink_sweep, key=lambda k: b.splink_sweep[k].pairwise["f1"])
        for method in SPLINK_METHODS:
            cols.append(
                (
                    f"Splink 5 {method}, p ≥ {SPLINK_DEFAULT_THRESHOLD}",
                    b.splink,
                    b.splink_sweep[(method, SPLINK_DEFAULT_THRESHOLD)],
                )
            )
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
        ("peak memory, with worker processes", [_mb_or_dash(r.tree_peak_mb) for _, r, _ in cols]),
    ]
    lines += ["| | " + " | ".join(c[0] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(vals) + " |" for label, vals in rows]
    lines += [
        "",
        "Our total time is the whole pipeline (extract, validation, survivorship, publish); matching time is "
        "standardise + match + cluster. Peak memory (RSS) is the run's own process (`ru_maxrss`); "
        '"with worker processes" is the largest sum of the proportional set sizes of that process and every '
        "process it started, sampled every 0.5 s (PSS shares pages such as loaded libraries out among the "
        "processes that map them, so without workers it can be below the RSS). " + "; ".join(ours.notes) + ".",
    ]
    lines += ["", "Our stages: " + ", ".join(f"{st} {sec:.1f} s" for st, sec in ours.stage_seconds.items()) + "."]
    if b.splink is not None:
        lines += [
            "",
            "Splink stages: "
            + ", ".join(f"{st} {sec:.1f} s" for st, sec in b.splink.stage_seconds.items())
            + " (cluster = both clusterings at the default threshold); "
            + "; ".join(b.splink.notes)
            + ". "
            + "; ".join(f"{m} = {d}" for m, d in SPLINK_METHODS.items())
            + ". Tuned = the best pairwise F1 "
            "over the sweep below, chosen on the truth itself (an upper bound, not a deployable setting).",
            "",
            "| Splink clustering | threshold | pairwise P | pairwise R | pairwise F1 | B-cubed F1 | clusters |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {m} | {t} | {_f(s.pairwise['precision'])} | {_f(s.pairwise['recall'])} | "
            f"{_f(s.pairwise['f1'])} | {_f(s.bcubed['f1'])} | {s.clusters:,} |"
            for (m, t), s in b.splink_sweep.items()
        ]
    else:
        lines += ["", "Splink was not run (--no-splink)."]
    if b.churn is not None:
        c = b.churn
        lines += [
            "",
            f"Churn watchlist against the generator's churn truth (golden records): precision "
            f"{c['precision']:.3f}, recall {c['recall']:.3f} ({c['true_positives']:,} of {c['positives']:,} "
            f"declining customers found, {c['predicted']:,} on the watchlist); the truth's reason among the "
            f"watchlist's reasons for {c['right_reason']:.1%} of the hits.",
        ]
    if b.onboarding is not None:
        ob = b.onboarding
        lines += [
            "",
            f"Onboarding match API (`POST /api/match`, `mdm match`) on this warehouse: {int(ob['queries'])} queries "
            f"(published names, half with a typo, a quarter with their LEI) over {int(ob['records']):,} records: "
            f"p50 {ob['p50_ms']:.0f} ms, p95 {ob['p95_ms']:.0f} ms, max {ob['max_ms']:.0f} ms; index built once in "
            f"{ob['index_seconds']:.1f} s.",
        ]
    if b.incremental is not None:
        inc, full = b.incremental["incremental"], b.incremental["full"]
        lines += [
            "",
            f"Incremental run after changing {b.incremental['changed']:,} CRM customers (1%): "
            f"{inc['seconds']:.1f} s against {full['seconds']:.1f} s for a full run of the same input from the "
            f"same published state ({inc['seconds'] / max(full['seconds'], 1e-9):.0%}). Records whose golden "
            f"id differs between the two: {b.incremental['records_differing']:,} of "
            f"{b.incremental['records']:,} (the full run retrains the matching model on the changed data; "
            f"the incremental run keeps the last one).",
            "",
            "| stage | incremental | full |",
            "|---|---|---|",
        ]
        lines += [
            f"| {st} | {inc['stage_seconds'].get(st, 0):.1f} s | {sec:.1f} s |"
            for st, sec in full["stage_seconds"].items()
        ]
        lines += [f"| peak memory | {_mb(inc['peak_rss_mb'])} | {_mb(full['peak_rss_mb'])} |"]
        lines += [
            f"| peak memory, with worker processes | {_mb_or_dash(inc.get('tree_peak_mb'))} | "
            f"{_mb_or_dash(full.get('tree_peak_mb'))} |"
        ]
    return "\n".join(lines) + "\n"


def write_report(path: Path, section: str, entities: int | None = None) -> None:
    """Put ``section`` into the Markdown file ``path``: replace the section of the same N (or, without N, of
    the same heading), or append.

    Everything before the first section (the hand-written preamble) and the sections of other N stay.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    head, *sections = text.split("\n## ")
    sections = ["## " + s.rstrip("\n") + "\n" for s in sections]
    title = section_title(entities) if entities is not None else section.splitlines()[0]
    replaced = False
    for i, s in enumerate(sections):
        if s.splitlines()[0] == title:
            sections[i] = section
            replaced = True
    if not replaced:
        sections.append(section)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(sections), encoding="utf-8")
