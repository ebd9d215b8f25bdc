"""``mdm sql``: read-only queries and an interactive shell on the published warehouse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli_common import console, err
from pipelines.errors import MdmError


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
