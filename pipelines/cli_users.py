"""``mdm users``: add, list, disable, enable users and change their role or password (pipelines/users.py).

Passwords are read from a hidden prompt (asked twice) or, for scripts, from the first line of standard
input with ``--password-stdin``; never from the command line, where ``ps`` and shell history see them.
The shell user who runs these commands is recorded in the audit log as ``os:<login>``.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipelines.cli_common import command_group, console, err
from pipelines.errors import MdmError

app = command_group(
    "Users and roles (engineer, steward, analyst, auditor) of a warehouse.\n\n"
    "Example: mdm users add --config demo/mdm.yaml alice --role steward"
)

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Pipeline config (YAML); users live beside its warehouse")
]
NameArg = Annotated[str, typer.Argument(help="Sign-in name (letters, digits, . _ @ -)")]
StdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input instead of a prompt"
    ),
]


def shell_actor() -> str:
    """The audit actor of a command run from the shell."""
    from pipelines.audit import os_actor

    return os_actor()


def read_password(from_stdin: bool, confirm: bool = True, prompt: str = "Password") -> str:
    """A password from the first line of stdin, or a hidden prompt (asked twice when ``confirm``)."""
    if from_stdin:
        line = sys.stdin.readline(4096)
        return line.rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@contextmanager
def control_store(config: Path) -> Iterator[sqlite3.Connection]:
    """The control store of the config's warehouse; an MdmError ends the command with exit 1."""
    from pipelines import control
    from pipelines.config import load_config

    con = None
    try:
        con = control.connect(load_config(config, check_files=False).warehouse)
        yield con
    except (MdmError, sqlite3.Error) as e:
        fail(str(e))
    finally:
        if con is not None:
            con.close()


def _do(config: Path, fn: Callable[[sqlite3.Connection], Any]) -> Any:
    with control_store(config) as con:
        return fn(con)


@app.command("add")
def add(
    name: NameArg,
    config: ConfigOpt,
    role: Annotated[str, typer.Option("--role", "-r", help="engineer, steward, analyst or auditor")],
    password_stdin: StdinOpt = False,
) -> None:
    """Add a user with a role; the password is asked for (or read with --password-stdin).

    Example: mdm users add --config demo/mdm.yaml alice --role steward
    """
    from pipelines import users

    pw = read_password(password_stdin)
    u = _do(config, lambda con: users.add_user(con, name, pw, role, actor=shell_actor()))
    console.print(f"added {u.name} ({u.role})")


@app.command("list")
def list_(config: ConfigOpt) -> None:
    """List users with their role and state.

    Example: mdm users list --config demo/mdm.yaml
    """
    from pipelines import users

    rows = _do(config, users.list_users)
    t = Table(title="Users")
    for col in ("name", "role", "state"):
        t.add_column(col)
    for u in rows:
        t.add_row(u.name, u.role, "disabled" if u.disabled else "active")
    console.print(t)


@app.command("disable")
def disable(name: NameArg, config: ConfigOpt) -> None:
    """Stop a user from signing in (users are never deleted; the audit log keeps naming them).

    Example: mdm users disable --config demo/mdm.yaml alice
    """
    from pipelines import users

    u = _do(config, lambda con: users.disable(con, name, actor=shell_actor()))
    console.print(f"disabled {u.name}")


@app.command("enable")
def enable(name: NameArg, config: ConfigOpt) -> None:
    """Let a disabled user sign in again.

    Example: mdm users enable --config demo/mdm.yaml alice
    """
    from pipelines import users

    u = _do(config, lambda con: users.enable(con, name, actor=shell_actor()))
    console.print(f"enabled {u.name}")


@app.command("set-role")
def set_role(
    name: NameArg,
    config: ConfigOpt,
    role: Annotated[str, typer.Option("--role", "-r", help="engineer, steward, analyst or auditor")],
) -> None:
    """Change a user's role.

    Example: mdm users set-role --config demo/mdm.yaml alice --role analyst
    """
    from pipelines import users

    u = _do(config, lambda con: users.set_role(con, name, role, actor=shell_actor()))
    console.print(f"{u.name} is now {u.role}")


@app.command("passwd")
def passwd(name: NameArg, config: ConfigOpt, password_stdin: StdinOpt = False) -> None:
    """Set a user's password (asked for, or read with --password-stdin).

    Example: mdm users passwd --config demo/mdm.yaml alice
    """
    from pipelines import users

    pw = read_password(password_stdin, prompt="New password")
    _do(config, lambda con: users.set_password(con, name, pw, actor=shell_actor()))
    console.print(f"password of {name.strip().lower()} changed")
