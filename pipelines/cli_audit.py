"""``mdm audit``: verify the hash chain of the audit log, list its entries, print its head (pipelines/audit.py).

These commands open the control store read-only and are meant for an operator on the machine (who can
read the warehouse folder anyway); auditors without shell access read the log in the web workbench.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipelines.cli_common import command_group, console, err
from pipelines.errors import MdmError

app = command_group(
    "The append-only, hash-chained audit log of a warehouse.\n\nExample: mdm audit verify --config demo/mdm.yaml"
)

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Pipeline config (YAML); the log lives beside its warehouse")
]


def _open(config: Path) -> sqlite3.Connection:
    from pipelines import control
    from pipelines.config import load_config

    try:
        wh = load_config(config, check_files=False).warehouse
        if not control.control_path(wh).exists():
            raise MdmError(f"no control store at {control.control_path(wh)}: nothing has been recorded yet")
        return control.connect(wh, read_only=True)
    except (MdmError, sqlite3.Error) as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(1) from None


@app.command("verify")
def verify(
    config: ConfigOpt,
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="COUNT:HASH printed earlier by `mdm audit head` and kept off this machine"),
    ] = None,
) -> None:
    """Recompute the hash chain; exit 1 naming every edited, reordered or deleted entry.

    Example: mdm audit verify --config demo/mdm.yaml --anchor 120:3f5a...
    """
    from pipelines import audit

    con = _open(config)
    try:
        res = audit.verify(con, anchor=anchor)
    except (MdmError, sqlite3.Error) as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(1) from None
    finally:
        con.close()
    for w in res.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(w)}")
    if not res.ok:
        for p in res.problems:
            err.print(f"[red]TAMPERED:[/red] {escape(p)}")
        err.print(f"audit log verification FAILED ({len(res.problems)} problem(s) in {res.entries:,} entries)")
        raise typer.Exit(1)
    console.print(f"audit log OK: {res.entries:,} entries, head {res.entries}:{res.head}")


@app.command("head")
def head(config: ConfigOpt) -> None:
    """Print COUNT:HASH of the newest entry, to keep off this machine and pass later to verify --anchor.

    Example: mdm audit head --config demo/mdm.yaml
    """
    from pipelines import audit

    con = _open(config)
    try:
        row = con.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    console.print(f"{row[0]}:{row[1]}" if row else f"0:{audit.GENESIS}")


@app.command("list")
def list_(
    config: ConfigOpt,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100_000, help="Newest entries shown")] = 50,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action or family (e.g. user, sign_in.failure)")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only entries by this actor")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only entries at or after this UTC time (ISO 8601, e.g. 2026-11-30)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List audit entries, newest first.

    Example: mdm audit list --config demo/mdm.yaml --action sign_in --limit 20
    """
    from pipelines import audit

    con = _open(config)
    try:
        rows = audit.entries(con, limit=limit, action=action, actor=actor, since=since)
    finally:
        con.close()
    if as_json:
        for e in rows:
            console.out(
                json.dumps(
                    {
                        "id": e.id,
                        "ts": e.ts,
                        "actor": e.actor,
                        "action": e.action,
                        "subject": e.subject,
                        "detail": e.detail,
                        "hash": e.hash,
                    },
                    ensure_ascii=False,
                ),
                highlight=False,
            )
        return
    t = Table(title="Audit log (newest first)")
    for col in ("id", "time (UTC)", "actor", "action", "subject", "detail"):
        t.add_column(col, overflow="fold")
    for e in rows:
        t.add_row(
            str(e.id),
            e.ts[:19],
            escape(e.actor),
            e.action,
            escape(e.subject),
            escape(json.dumps(e.detail, ensure_ascii=False)[:200]),
        )
    console.print(t)
