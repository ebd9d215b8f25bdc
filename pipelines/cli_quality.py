"""``mdm quality``: the data-quality scorecard of the latest run on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from pipelines.cli_common import console, err, quiet_libraries
from pipelines.errors import MdmError


def _pct(v: Any) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * v:.2f}%"


def _delta(v: Any, pct: bool = True) -> str:
    if v is None or pd.isna(v) or v == 0:
        return ""
    return f"{100 * v:+.2f}" if pct else f"{int(v):+,}"


def quality(config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")]) -> None:
    """Print the data-quality scorecard of the latest run, with the change against the run before it.

    Completeness, validity and uniqueness per source and attribute, how identifiers were classified,
    quarantined rows per rule, load warnings per code, and the Great Expectations results.

    Example: mdm quality --config demo/mdm.yaml
    """
    quiet_libraries()
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
