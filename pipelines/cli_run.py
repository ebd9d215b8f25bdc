"""``mdm run``: the whole pipeline with progress on the terminal, and the summary of a run."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.cli_common import console, err, quiet_libraries
from pipelines.errors import MdmError


def print_summary(summary: Any, config: Path | None = None) -> None:
    t = Table(title=f"Run {summary.run_id}", show_lines=False)
    for col in ("stage", "rows in", "rows out", "seconds", "status"):
        t.add_column(col, justify="right" if col.startswith(("rows", "sec")) else "left")
    for s in summary.stages:
        secs = ""
        if s.started_at and s.finished_at:
            from datetime import datetime

            secs = (
                f"{(datetime.fromisoformat(s.finished_at) - datetime.fromisoformat(s.started_at)).total_seconds():.2f}"
            )
        t.add_row(s.stage, f"{s.rows_in:,}", f"{s.rows_out:,}", secs, s.status)
    console.print(t)
    src = Table(title="Records per source")
    src.add_column("source")
    src.add_column("records", justify="right")
    for name, n in summary.records_per_source.items():
        src.add_row(name, f"{n:,}")
    console.print(src)
    console.print(
        f"golden records: {summary.golden_records:,}   matched pairs: {summary.matched_pairs:,}   "
        f"load warnings: {summary.warnings:,}"
    )
    db = Path(summary.warehouse) / "mdm.duckdb"
    console.print(f"warehouse: {db}   parquet: {Path(summary.warehouse) / 'parquet'}")
    cfg = shlex.quote(str(config)) if config is not None else "<mdm.yaml>"
    console.print(
        f'example query:\n  mdm sql --config {cfg} "SELECT group_id, group_name, '
        'sum(total_balance) AS balance FROM customer_360 GROUP BY ALL ORDER BY balance DESC LIMIT 10"\n'
        f"  mdm sql --config {cfg}        (an interactive shell; every table in docs/schema.md)"
    )


def run_with_progress(config: Path, full: bool = False) -> Any:
    from pipelines import runner
    from pipelines.config import load_config

    cfg = load_config(config)

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(msg: str, done: int, total: int | None) -> None:
            if msg not in tasks:
                tasks[msg] = bar.add_task(msg, total=total)
            bar.update(tasks[msg], completed=done, total=total)

        def on_stage(res: dict[str, Any]) -> None:
            err.print(f"  {res['stage']:<12} {res['rows_in']:>10,} -> {res['rows_out']:>10,}  {res['seconds']:.2f}s")

        return runner.run(cfg, progress=progress, on_stage=on_stage, full=full)


def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")],
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read every source in full and recompute everything "
            "(as `incremental: false`), e.g. a weekly reconciliation "
            "after change-data capture",
        ),
    ] = False,
    plan_only: Annotated[
        bool,
        typer.Option(
            "--plan-only",
            help="Print what the run would do (which sources are "
            "read, reused or change-captured, which steps are incremental and "
            "why) and stop; nothing is written",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --plan-only: the plan as JSON")] = False,
) -> None:
    """Run the whole pipeline: extract, standardise, match, cluster, survive, publish.

    Incremental by default (see the config's `incremental`); --full reads and recomputes everything.

    Example: mdm run --config demo/mdm.yaml --plan-only
    """
    quiet_libraries()
    try:
        if plan_only:
            from pipelines import runner

            plan = runner.plan_run(config, full=full)
            console.print(plan.model_dump_json(indent=2) if as_json else plan.summary(), markup=False)
            return
        summary = run_with_progress(config, full=full)
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        err.print("The warehouse was left as it was before this run.")
        raise typer.Exit(1) from None
    print_summary(summary, config)
