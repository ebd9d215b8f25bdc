"""``mdm explain``: why two source records were or were not matched."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from pipelines.cli_common import console, err, quiet_libraries
from pipelines.errors import MdmError


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
    quiet_libraries()
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
