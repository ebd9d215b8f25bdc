"""``mdm generate`` and ``mdm demo``: the sample world (imported only inside these commands, never on a run's path)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipelines.cli_common import console, err, quiet_libraries
from pipelines.cli_run import print_summary, run_with_progress
from pipelines.errors import MdmError


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


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the sample and its warehouse")] = Path("demo"),
    entities: Annotated[int, typer.Option("--entities", "-n", min=1)] = 2000,
    seed: Annotated[int, typer.Option("--seed", "-s")] = 42,
) -> None:
    """Generate the bundled sample and run the whole pipeline on it.

    Example: mdm demo --out demo --entities 2000
    """
    quiet_libraries()
    from pipelines.sample import generate as gen

    err.print(f"generating {entities:,} entities into {out} ...")
    gen(out, entities=entities, seed=seed, force=True)  # the demo's own folder: a rerun regenerates it
    try:
        summary = run_with_progress(out / "mdm.yaml")
    except MdmError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    print_summary(summary, out / "mdm.yaml")
