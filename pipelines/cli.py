"""The ``mdm`` command: a thin layer over :mod:`pipelines.runner` and :mod:`pipelines.generate`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.errors import MdmError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_show_locals=False,
                  help="Master data for corporate customers: from source files to golden records.")
console = Console(stderr=False, soft_wrap=True)  # paths and queries must survive copy and paste from logs
err = Console(stderr=True, soft_wrap=True)


def _quiet_libraries() -> None:
    # Great Expectations and Airflow log chatty INFO lines on import; the CLI shows its own progress.
    logging.getLogger().setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _print_summary(summary: Any) -> None:
    t = Table(title=f"Run {summary.run_id}", show_lines=False)
    for col in ("stage", "rows in", "rows out", "seconds", "status"):
        t.add_column(col, justify="right" if col.startswith(("rows", "sec")) else "left")
    for s in summary.stages:
        secs = ""
        if s.started_at and s.finished_at:
            from datetime import datetime

            secs = f"{(datetime.fromisoformat(s.finished_at) - datetime.fromisoformat(s.started_at)).total_seconds():.2f}"
        t.add_row(s.stage, f"{s.rows_in:,}", f"{s.rows_out:,}", secs, s.status)
    console.print(t)
    src = Table(title="Records per source")
    src.add_column("source")
    src.add_column("records", justify="right")
    for name, n in summary.records_per_source.items():
        src.add_row(name, f"{n:,}")
    console.print(src)
    console.print(f"golden records: {summary.golden_records:,}   matched pairs: {summary.matched_pairs:,}   "
                  f"load warnings: {summary.warnings:,}")
    db = Path(summary.warehouse) / "mdm.duckdb"
    console.print(f"warehouse: {db}   parquet: {Path(summary.warehouse) / 'parquet'}")
    console.print("example query:\n  duckdb " + str(db) + " \"SELECT golden_id, legal_name, country, sources "
                  "FROM golden_organization ORDER BY record_count DESC LIMIT 5\"")


def _run(config: Path) -> Any:
    from pipelines import runner

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(msg: str, done: int, total: int | None) -> None:
            if msg not in tasks:
                tasks[msg] = bar.add_task(msg, total=total)
            bar.update(tasks[msg], completed=done, total=total)

        def on_stage(res: dict[str, Any]) -> None:
            err.print(f"  {res['stage']:<12} {res['rows_in']:>10,} -> {res['rows_out']:>10,}  {res['seconds']:.2f}s")

        return runner.run(config, progress=progress, on_stage=on_stage)


@app.command()
def run(config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")]) -> None:
    """Run the whole pipeline: extract, standardise, match, cluster, survive, publish.

    Example: mdm run --config demo/mdm.yaml
    """
    _quiet_libraries()
    try:
        summary = _run(config)
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        err.print("The warehouse was left as it was before this run.")
        raise typer.Exit(1) from None
    _print_summary(summary)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the sample into")],
    entities: Annotated[int, typer.Option("--entities", "-n", min=1, help="Number of legal entities")] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (same seed, same files)")] = 0,
) -> None:
    """Generate a realistic sample of every source format, with truth.csv and a ready mdm.yaml.

    Example: mdm generate --entities 10000 --seed 7 --out sample
    """
    from pipelines.generate import generate as gen

    counts = gen(out, entities=entities, seed=seed)
    t = Table(title=f"Sample in {out}")
    t.add_column("what")
    t.add_column("rows", justify="right")
    for k, v in counts.items():
        t.add_row(str(k), f"{v:,}" if isinstance(v, int) else str(v))
    console.print(t)
    console.print(f"config: {out / 'mdm.yaml'}   run it with: mdm run --config {out / 'mdm.yaml'}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the sample and its warehouse")] = Path("demo"),
    entities: Annotated[int, typer.Option("--entities", "-n", min=1)] = 2000,
    seed: Annotated[int, typer.Option("--seed", "-s")] = 42,
) -> None:
    """Generate the bundled sample and run the whole pipeline on it.

    Example: mdm demo --out demo --entities 2000
    """
    _quiet_libraries()
    from pipelines.generate import generate as gen

    err.print(f"generating {entities:,} entities into {out} ...")
    gen(out, entities=entities, seed=seed)
    try:
        summary = _run(out / "mdm.yaml")
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    _print_summary(summary)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
