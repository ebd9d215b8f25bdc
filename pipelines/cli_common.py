"""What the ``mdm`` commands share: the consoles they print on, how a group of commands is made, and the
quieting of chatty libraries."""

from __future__ import annotations

import logging
import os

import typer
from rich.console import Console

console = Console(stderr=False, soft_wrap=True)  # paths and queries must survive copy and paste from logs
err = Console(stderr=True, soft_wrap=True)


def command_group(help_text: str) -> typer.Typer:
    """A typer app for ``mdm`` or one of its groups: no shell completion, help when called bare, plain help text,
    no local variables in a traceback."""
    return typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,
        help=help_text,
    )


def quiet_libraries() -> None:
    # Great Expectations and Airflow log chatty INFO lines on import; the CLI shows its own progress.
    logging.getLogger().setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
