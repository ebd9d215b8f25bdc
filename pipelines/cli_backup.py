"""``mdm backup`` and ``mdm restore`` (pipelines/backup.py, pipelines/restore.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pipelines.errors import MdmError

app = typer.Typer(add_completion=False, rich_markup_mode=None)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML) naming the warehouse")]


def _warehouse(config: Path) -> Path:
    from pipelines.config import load_config

    return load_config(config, check_files=False).warehouse


@app.command("backup")
def backup(
    config: ConfigOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Archive to write (tar.gz, owner-only)")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing archive of that name")] = False,
) -> None:
    """Back up the published warehouse (database, current Parquet snapshot, raw landings, Data Docs) and its
    control store (decisions, users, audit log) into one archive with a manifest of sha256 sums.

    Safe while the web workbench writes decisions; waits for a publishing run to finish. Keep the printed
    sha256 apart from the archive. Encryption keys are not included: back them up separately.

    Example: mdm backup --config demo/mdm.yaml --out /backups/mdm-2026-11-30.tar.gz
    """
    from pipelines.backup import backup as run_backup
    from pipelines.cli_users import shell_actor

    try:
        res = run_backup(_warehouse(config), out, actor=shell_actor(), force=force)
    except MdmError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(1) from None
    console.print(
        f"backup written: {res.archive} ({res.files:,} files, {res.bytes:,} bytes unpacked, run "
        f"{res.run_id or '-'}, {res.audit_entries:,} audit entries)"
    )
    console.print(f"sha256 {res.sha256}")


@app.command("restore")
def restore(
    config: ConfigOpt,
    source: Annotated[Path, typer.Option("--from", "-f", help="Archive written by mdm backup")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Restore the warehouse and its control store from an archive of mdm backup.

    The archive is checked in full first (manifest, sha256 of every file, paths, sizes, the audit chain);
    a corrupted archive or a publishing run makes it refuse with nothing changed. The replaced control
    store is kept in <warehouse>/.pre-restore/.

    Example: mdm restore --config demo/mdm.yaml --from /backups/mdm-2026-11-30.tar.gz --yes
    """
    from pipelines.cli_users import shell_actor
    from pipelines.restore import restore as run_restore

    try:
        wh = _warehouse(config)
        if not yes:
            typer.confirm(
                f"Replace the warehouse {wh} and its users, decisions and audit log with the state in {source}?",
                abort=True,
            )
        res = run_restore(wh, source, actor=shell_actor())
    except MdmError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(1) from None
    console.print(
        f"restored {wh} from {source}: run {res.run_id or '-'}, {res.files:,} files, "
        f"{res.audit_entries:,} audit entries (plus this restore)"
    )
    if res.kept:
        console.print(f"the replaced control store is kept in {res.kept}")
