"""The ``mdm`` command: a thin layer over :mod:`pipelines.runner` and :mod:`pipelines.sample`."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.errors import MdmError
from pipelines.fileperms import owner_only

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    help="Master data for corporate customers: from source files to golden records.",
)
console = Console(stderr=False, soft_wrap=True)  # paths and queries must survive copy and paste from logs
err = Console(stderr=True, soft_wrap=True)


def _quiet_libraries() -> None:
    # Great Expectations and Airflow log chatty INFO lines on import; the CLI shows its own progress.
    logging.getLogger().setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _print_summary(summary: Any, config: Path | None = None) -> None:
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


def _run(config: Path, full: bool = False) -> Any:
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


@app.command()
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
    _quiet_libraries()
    try:
        if plan_only:
            from pipelines import runner

            plan = runner.plan_run(config, full=full)
            console.print(plan.model_dump_json(indent=2) if as_json else plan.summary(), markup=False)
            return
        summary = _run(config, full=full)
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        err.print("The warehouse was left as it was before this run.")
        raise typer.Exit(1) from None
    _print_summary(summary, config)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the sample into")],
    entities: Annotated[int, typer.Option("--entities", "-n", min=1, help="Number of legal entities")] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (same seed, same files)")] = 0,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a non-empty folder, overwriting the sample's config, databases and files there"
        ),
    ] = False,
) -> None:
    """Generate a realistic sample of every source format, with truth.csv and a ready mdm.yaml.

    The folder must be new or empty unless --force is given.

    Example: mdm generate --entities 10000 --seed 7 --out sample
    """
    from pipelines.sample import generate as gen

    try:
        counts = gen(out, entities=entities, seed=seed, force=force)
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
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
    from pipelines.sample import generate as gen

    err.print(f"generating {entities:,} entities into {out} ...")
    gen(out, entities=entities, seed=seed, force=True)  # the demo's own folder: a rerun regenerates it
    try:
        summary = _run(out / "mdm.yaml")
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    _print_summary(summary, out / "mdm.yaml")


def _pct(v: Any) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * v:.2f}%"


def _delta(v: Any, pct: bool = True) -> str:
    if v is None or pd.isna(v) or v == 0:
        return ""
    return f"{100 * v:+.2f}" if pct else f"{int(v):+,}"


@app.command()
def quality(config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")]) -> None:
    """Print the data-quality scorecard of the latest run, with the change against the run before it.

    Completeness, validity and uniqueness per source and attribute, how identifiers were classified,
    quarantined rows per rule, load warnings per code, and the Great Expectations results.

    Example: mdm quality --config demo/mdm.yaml
    """
    _quiet_libraries()
    from pipelines.config import load_config
    from pipelines.quality import scorecard

    try:
        card = scorecard(load_config(config, check_files=False))
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    if card.run_id is None:
        err.print("no published run yet")
        raise typer.Exit(1)
    console.print(
        f"Quality of run {card.run_id}"
        + (f" (change against run {card.previous_run_id})" if card.previous_run_id else " (first run)")
    )
    for source, m in card.metrics.groupby("source", sort=True):
        rows = int(m["rows"].iloc[0])
        d_rows = _delta(m["d_rows"].iloc[0], pct=False)
        t = Table(title=f"{source}: {rows:,} rows" + (f" ({d_rows})" if d_rows else ""))
        for col in ("attribute", "complete", "valid", "unique", "Δ compl.", "Δ valid", "Δ unique"):
            t.add_column(col, justify="left" if col == "attribute" else "right")
        for r in m.itertuples(index=False):
            t.add_row(
                str(r.attribute),
                _pct(r.completeness),
                _pct(r.validity),
                _pct(r.uniqueness),
                _delta(r.d_completeness),
                _delta(r.d_validity),
                _delta(r.d_uniqueness),
            )
        console.print(t)
    if len(card.identifiers):
        t = Table(title="Identifiers")
        for col in ("source", "attribute", "class", "rows", "Δ rows"):
            t.add_column(col, justify="right" if "rows" in col else "left")
        for r in card.identifiers.itertuples(index=False):
            t.add_row(str(r.source), str(r.attribute), str(r[2]), f"{r.rows:,}", _delta(r.d_rows, pct=False))
        console.print(t)
    for title, frame, key in (("Quarantined rows", card.quarantine, "rule"), ("Load warnings", card.issues, "code")):
        t = Table(title=title)
        for col in ("source", key, "rows"):
            t.add_column(col, justify="right" if col == "rows" else "left")
        for r in frame.itertuples(index=False):
            t.add_row(str(r[0]), str(r[1]), f"{r[2]:,}")
        if not len(frame):
            t.add_row("-", "none", "0")
        console.print(t)
    t = Table(title="Great Expectations")
    for col in ("suite", "batch", "success", "expectations", "failed rows"):
        t.add_column(col)
    for r in card.validations.itertuples(index=False):
        t.add_row(str(r.suite), str(r.batch), "yes" if r.success else "NO", str(r.evaluated), f"{r.failed_rows:,}")
    console.print(t)
    if card.docs:
        console.print(f"Data Docs: {card.docs}")


@app.command()
def explain(
    record_a: Annotated[str, typer.Argument(help="First record as SOURCE:ID (source name from the config)")],
    record_b: Annotated[str, typer.Argument(help="Second record as SOURCE:ID")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON")] = False,
) -> None:
    """Explain why two source records were or were not matched.

    Shows both records, the identifiers they share or conflict on, each comparison feature with its
    level and weight in the trained model, the match probability and band, and what clustering did.

    Example: mdm explain --config demo/mdm.yaml gleif:5493001KJTIIGC8Y1R12 crm:CUST00001234
    """
    _quiet_libraries()
    from pipelines.config import load_config
    from pipelines.explain import as_dict
    from pipelines.explain import explain as run_explain

    try:
        e = run_explain(load_config(config, check_files=False), record_a, record_b)
    except MdmError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        import json

        console.print_json(json.dumps(as_dict(e), ensure_ascii=False, default=str))
        return
    console.print(f"A = {e.rid_a}\nB = {e.rid_b}")
    t = Table(title="Records")
    t.add_column("attribute")
    t.add_column("A")
    t.add_column("B")
    for col in e.records.columns:
        va, vb = e.records.at[e.rid_a, col], e.records.at[e.rid_b, col]
        t.add_row(col, _cell(va), _cell(vb))
    console.print(t)
    f = Table(title="Comparison (weight = log2 m/u of the level in the trained model)")
    for col in ("feature", "similarity", "level", "weight"):
        f.add_column(col, justify="left" if col == "feature" else "right")
    f.add_row("prior", "", "", f"{e.prior:+.2f}")
    for x in e.features:
        f.add_row(
            x["feature"],
            "unknown" if x["value"] is None else f"{x['value']:.3f}",
            "-" if x["level"] < 0 else str(x["level"]),
            f"{x['weight']:+.2f}",
        )
    console.print(f)
    if e.shared_keys:
        console.print("shared identifiers: " + ", ".join(f"{k}={v}" for k, v in sorted(e.shared_keys.items())))
    console.print(
        f"match probability {e.score:.4f} -> {e.band} (match >= {e.thresholds[0]}, review >= {e.thresholds[1]})"
    )
    console.print(e.verdict)


def _cell(v: Any) -> str:
    if v is None or (not isinstance(v, (list, tuple)) and hasattr(v, "__len__") is False and pd.isna(v)):
        return ""
    if hasattr(v, "tolist"):
        v = v.tolist()
    return ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


@app.command()
def sql(
    config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")],
    query: Annotated[
        str | None, typer.Argument(help="SQL to run; without it an interactive shell reads statements")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: table, csv or json")] = "table",
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Rows shown in table format")] = 100,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            "-u",
            help="Sign in as this user (password from MDM_PASSWORD "
            "or a prompt): the role decides what is visible "
            "and every query is audited",
        ),
    ] = None,
) -> None:
    """Query the published warehouse read-only (DuckDB SQL); writes are refused.

    With a query, print its result and exit (exit code 1 when it fails). Without one, start a shell
    that reads statements ending in ';' from the terminal or from piped input, with .tables,
    .schema NAME, .help and .quit. Views: v_golden_organization, v_hierarchy, v_organization_group,
    v_golden_financials_latest, ...; history: SELECT * FROM golden_organization_as_of(TIMESTAMP '...').
    With --user, engineers and stewards see the warehouse, analysts a masked view confined to the database
    file, auditors only the audit_log table; every query is written to the audit log.

    Example: mdm sql --config demo/mdm.yaml "SELECT legal_name, revenue FROM v_golden_organization LIMIT 5"
    """
    from pipelines import sql_access, sqlshell

    if fmt not in sqlshell.FORMATS:
        err.print(f"[red]error:[/red] --format must be one of {', '.join(sqlshell.FORMATS)}, not {fmt!r}")
        raise typer.Exit(2)
    session = None
    try:
        if user is not None:
            session = sql_access.open_session(config, user, sql_access.read_password())
        con = session.con if session else sqlshell.open_warehouse(config)
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    try:
        if query is None:
            if session:
                failed = sql_access.shell(session, sys.stdin, console, err, fmt=fmt, max_rows=max_rows)  # type: ignore[arg-type]
            else:
                failed = sqlshell.shell(con, sys.stdin, console, err, fmt=fmt, max_rows=max_rows)  # type: ignore[arg-type]
            raise typer.Exit(1 if failed and not sys.stdin.isatty() else 0)
        try:
            for res in session.execute(query) if session else sqlshell.execute(con, query):
                sqlshell.render(res, console, fmt, max_rows)  # type: ignore[arg-type]
        except MdmError as e:
            err.print(f"[red]error:[/red] {e}")
            raise typer.Exit(1) from None
    finally:
        if session:
            session.close()
        else:
            con.close()


app.add_typer(__import__("pipelines.cli_users", fromlist=["app"]).app, name="users")
app.add_typer(__import__("pipelines.cli_audit", fromlist=["app"]).app, name="audit")
app.add_typer(__import__("pipelines.cli_backup", fromlist=["app"]).app)  # mdm backup, mdm restore
app.command("serve")(__import__("pipelines.cli_serve", fromlist=["serve"]).serve)  # mdm serve


app.command(name="report")(__import__("pipelines.cli_report", fromlist=["report"]).report)
__import__("pipelines.cli_review").cli_review.register(app)  # mdm review ..., mdm match


from pipelines.cli_keys import keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")


def main() -> None:
    owner_only()  # issue 12: every file and folder this process creates is owner-only (0600/0700)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
