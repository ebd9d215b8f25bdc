"""The scaling curve: our pipeline alone at several sizes, one table in ``docs/benchmarks.md``.

``python -m pipelines.bench --scaling 10000,100000,1000000 --out DIR --report docs/benchmarks.md``

For every size N: generate the sample (``DIR/n<N>/sample``, in a child process), run the whole pipeline on
it in a fresh child process (a full run into a new warehouse), and record source records, pairs compared,
seconds per stage, the total, and peak memory (the run's own process, and the run with its worker
processes). The table keeps rows of other sizes from earlier invocations (each row carries its date; the
commands and machines are listed under the table), so the 1M row can be measured in a run of its own.
Each size's folder is removed after it was measured unless ``keep`` (a 1M sample is several GB).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.bench.run import generate_sample
from pipelines.bench.systems import in_child, run_ours

ORGANISATION_SOURCES = ("gleif", "cn_registry", "uk_registry", "sec", "crm")  # generator counts of source records
SECTION = "## Scaling: our pipeline at several sizes"
COMMANDS_HEAD = "Commands:"
FIXED_HEAD = ("entities", "source records", "pairs compared", "generate")
KEEP_COMMANDS = 10  # command lines listed under the table (the latest ones)
TAIL_HEAD = ("total run", "peak memory, run process", "peak memory, with workers", "date")


@dataclass
class ScalePoint:
    """One size of the curve."""

    entities: int
    records: int
    pairs: int
    generate_seconds: float
    stage_seconds: dict[str, float]
    seconds: float
    peak_rss_mb: float
    tree_peak_mb: float | None
    generated_records: int = 0  # organisation records the generator wrote (its own count, a cross-check)
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def parse_sizes(text: str) -> list[int]:
    """``"10000,100000,1e6"`` -> ``[10000, 100000, 1000000]`` (ValueError on anything else)."""
    sizes = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part:
            continue
        value = float(part)
        if value != int(value) or value < 1:
            raise ValueError(f"not a positive whole number of entities: {part!r}")
        sizes.append(int(value))
    if not sizes:
        raise ValueError("no sizes given")
    return sizes


def measure(entities: int, seed: int, out: Path, keep: bool = False) -> ScalePoint:
    """Generate N entities and run the pipeline on them once (each in its own child process)."""
    folder = out / f"n{entities}"
    shutil.rmtree(folder, ignore_errors=True)
    sample = folder / "sample"
    gen = in_child(generate_sample, str(sample), entities, seed)
    o = in_child(run_ours, str(sample / "mdm.yaml"))
    con = duckdb.connect(str(Path(o["warehouse"]) / "mdm.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM xref").fetchone()
    finally:
        con.close()
    point = ScalePoint(
        entities=entities,
        records=int(row[0]) if row else 0,
        pairs=o["candidate_pairs"] + o["deterministic_pairs"],
        generate_seconds=gen["seconds"],
        stage_seconds=o["stage_seconds"],
        seconds=o["seconds"],
        peak_rss_mb=o["peak_rss_mb"],
        tree_peak_mb=o["tree_peak_mb"],
        generated_records=sum(gen["counts"][s] for s in ORGANISATION_SOURCES),
    )
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return point


def run_scaling(sizes: Sequence[int], seed: int, out: Path, keep: bool = False) -> list[ScalePoint]:
    return [measure(n, seed, out, keep) for n in sizes]


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} MiB"


def row_cells(p: ScalePoint) -> dict[str, str]:
    """The cells of one table row, by column name."""
    cells = {
        "entities": f"{p.entities:,}",
        "source records": f"{p.records:,}",
        "pairs compared": f"{p.pairs:,}",
        "generate": f"{p.generate_seconds:.1f} s",
    }
    cells.update({st: f"{sec:.1f} s" for st, sec in p.stage_seconds.items()})
    cells.update(
        {
            "total run": f"{p.seconds:.1f} s",
            "peak memory, run process": _mb(p.peak_rss_mb),
            "peak memory, with workers": _mb(p.tree_peak_mb),
            "date": p.date,
        }
    )
    return cells


def _split_row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_section(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Rows (cells by column name) and command lines of an existing scaling section of a report."""
    rows: list[dict[str, str]] = []
    commands: list[str] = []
    if SECTION not in text:
        return rows, commands
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    table = [line for line in body.splitlines() if line.startswith("|")]
    if len(table) >= 2:
        header = _split_row(table[0])
        rows = [dict(zip(header, _split_row(line), strict=False)) for line in table[2:]]
    if COMMANDS_HEAD in body:
        commands = [line for line in body.split(COMMANDS_HEAD, 1)[1].splitlines() if line.startswith("- ")]
    return rows, commands


def _entities_key(cells: Mapping[str, str]) -> int:
    try:
        return int(cells.get("entities", "0").replace(",", ""))
    except ValueError:
        return 0


def render_scaling(
    points: Sequence[ScalePoint],
    info: Mapping[str, str],
    command: str,
    previous: str = "",
) -> str:
    """The scaling section: the new points, and rows of other sizes kept from ``previous`` (a report's text)."""
    old_rows, old_commands = parse_section(previous)
    new_rows = [row_cells(p) for p in points]
    sizes = {_entities_key(r) for r in new_rows}
    rows = sorted([r for r in old_rows if _entities_key(r) not in sizes] + new_rows, key=_entities_key)
    stages: list[str] = []
    for r in rows:
        for col in r:
            if col not in FIXED_HEAD and col not in TAIL_HEAD and col not in stages:
                stages.append(col)
    head = [*FIXED_HEAD, *stages, *TAIL_HEAD]
    when = points[0].date if points else datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; Python {info['python']}, "
        f"duckdb {info.get('duckdb', '?')}"
    )
    this = f"- {when}, sizes {', '.join(f'{p.entities:,}' for p in points)} on {machine}: `{command}`"
    lines = [
        SECTION,
        "",
        "Our pipeline alone (no Splink), a full run into a fresh warehouse for every size, each in its own "
        "spawned process after generating the sample with `mdm generate` (its time is not part of the run's). "
        "Pairs compared are the candidate pairs scored plus the deterministic identifier pairs. Peak memory of "
        'the run process is its `ru_maxrss`; "with workers" is the largest sum of the proportional set sizes '
        "of the run and the worker processes it started, sampled every 0.5 s (shared pages counted once, so it "
        "can be below the run process' RSS). Times on a shared machine are "
        "upper bounds; each row carries the date it was measured, the commands are listed below.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(r.get(c, "–") for c in head) + " |" for r in rows]
    lines += ["", COMMANDS_HEAD, "", *old_commands[-(KEEP_COMMANDS - 1) :], this]
    return "\n".join(lines) + "\n"
