"""`mdm report`: the offline HTML report of a published warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.errors import MdmError

err = Console(stderr=True)


def report(
    config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write report.html into")],
) -> None:
    """Write a self-contained HTML report (charts as inline SVG; opens offline): source quality, matching,
    segments, tiers, financial risk and the churn watchlist.

    Example: mdm report --config demo/mdm.yaml --out demo/report
    """
    from pipelines.config import load_config
    from pipelines.report import build_report
    from pipelines.warehouse import Warehouse

    try:
        path = build_report(Warehouse(load_config(config, check_files=False).warehouse).db_path, out)
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    except OSError as e:
        err.print(f"[red]error:[/red] cannot write the report into {out}: {e.strerror or e}")
        raise typer.Exit(1) from None
    err.print(f"wrote {path}")
