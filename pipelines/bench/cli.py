"""Arguments of ``python -m pipelines.bench`` (and ``make bench``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.bench import realset
from pipelines.bench.report import machine, render, write_report
from pipelines.bench.run import run_benchmark

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
DESCRIPTION = "Benchmark: our matching pipeline against Splink 5 on the same generated sample."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=DESCRIPTION)
    parser.add_argument("--entities", type=int, required=True, help="legal entities to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="work folder (sample, warehouse, Splink output)")
    parser.add_argument("--no-splink", action="store_true", help="run only our pipeline")
    parser.add_argument("--report", type=Path, help="Markdown file whose section for this N is replaced")
    parser.add_argument("--u-max-pairs", type=float, default=1e7, help="Splink: pairs sampled to estimate u")
    parser.add_argument("--no-incremental", action="store_true", help="skip the 1%% change incremental run")
    parser.add_argument(
        "--realdata",
        type=Path,
        default=REALDATA,
        help="public real files for the real labelled set (skipped when absent)",
    )
    parser.add_argument(
        "--airflow", type=int, default=0, metavar="N", help="also time the Airflow DAG against mdm run (N entities)"
    )
    args = parser.parse_args(argv)
    if args.airflow:  # issue 13: the DAG run on the demo sample takes at most twice `mdm run`
        from pipelines.bench import airflow_timing

        airflow_timing.main(
            [f"--entities={args.airflow}", f"--out={args.out / 'airflow'}", f"--report={args.report or ''}"]
        )
    bench = run_benchmark(
        args.entities,
        args.seed,
        args.out,
        with_splink=not args.no_splink,
        u_max_pairs=args.u_max_pairs,
        with_incremental=not args.no_incremental,
    )
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
