"""Arguments of ``python -m pipelines.bench`` (and ``make bench BENCH_ARGS="..."``)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.bench import realset
from pipelines.bench.report import machine, render, write_report
from pipelines.bench.run import run_benchmark
from pipelines.bench.scaling import parse_sizes, render_scaling, run_scaling

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
DESCRIPTION = "Benchmark: our matching pipeline against Splink 5 on the same generated sample."
EPILOG = (
    "Examples: python -m pipelines.bench --entities 100000 --out bench-out --report docs/benchmarks.md | "
    'make bench BENCH_ARGS="--entities 1000000 --no-splink --out /tmp/b --report docs/benchmarks.md" | '
    "python -m pipelines.bench --scaling 10000,100000,1000000 --out /tmp/s --report docs/benchmarks.md"
)


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed, for the report (machine, date and command go with every figure)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python -m pipelines.bench", *(shlex.quote(a) for a in args)])


def _sizes(text: str) -> list[int]:
    try:
        return parse_sizes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipelines.bench", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--entities", type=_positive, help="legal entities to generate (required unless --scaling)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, required=True, help="work folder (sample, warehouse, Splink output)")
    p.add_argument(
        "--splink",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run Splink 5 on the same records (--no-splink: ours only, e.g. at 1M entities)",
    )
    p.add_argument(
        "--incremental",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the full run, change 1%% of the CRM customers and time an incremental run against a full "
        "run of the same input (--no-incremental skips it)",
    )
    p.add_argument(
        "--report", type=Path, help="Markdown file whose section for this N (or the scaling table) is replaced"
    )
    p.add_argument("--u-max-pairs", type=float, default=1e7, help="Splink: pairs sampled to estimate u")
    p.add_argument(
        "--realdata",
        type=Path,
        default=REALDATA,
        help="public real files for the real labelled set (skipped when absent)",
    )
    p.add_argument(
        "--scaling",
        type=_sizes,
        metavar="N,N,...",
        help="instead of the comparison: run our pipeline alone at each size (e.g. 10000,100000,1000000) and "
        "write one table (records, pairs, seconds per stage, total, peak memory)",
    )
    p.add_argument("--keep", action="store_true", help="with --scaling: keep each size's sample and warehouse")
    p.add_argument(
        "--airflow", type=int, default=0, metavar="N", help="also time the Airflow DAG against mdm run (N entities)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    command = command_line(argv)
    if args.scaling:
        points = run_scaling(args.scaling, args.seed, args.out, keep=args.keep)
        previous = args.report.read_text(encoding="utf-8") if args.report and args.report.exists() else ""
        section = render_scaling(points, machine(), command, previous)
        print(section)
        if args.report:
            write_report(args.report, section)
        return 0
    if args.entities is None:
        p.error("--entities is required (or --scaling N,N,...)")
    if args.airflow:  # issue 13: the DAG run on the demo sample takes at most twice `mdm run`
        from pipelines.bench import airflow_timing

        airflow_timing.main(
            [f"--entities={args.airflow}", f"--out={args.out / 'airflow'}", f"--report={args.report or ''}"]
        )
    bench = run_benchmark(
        args.entities,
        args.seed,
        args.out,
        with_splink=args.splink,
        u_max_pairs=args.u_max_pairs,
        with_incremental=args.incremental,
    )
    bench.command = command
    section = render(bench, machine())
    print(section)
    if args.report:
        write_report(args.report, section, args.entities)
    if args.realdata.is_dir():
        real = realset.render(realset.evaluate(realset.load(args.realdata)))
        print(real)
        if args.report:
            write_report(args.report, real)
    else:
        print(f"Real labelled set skipped: {args.realdata} not found.")
    return 0
