"""The ``mdm`` command: a thin layer over :mod:`pipelines.runner` and :mod:`pipelines.sample`.

Each command or group of commands lives in its own ``pipelines/cli_<name>.py``; this module puts them together
(in the order ``mdm --help`` lists them) and is the entry point.
"""

from __future__ import annotations

import sys

from pipelines import (
    cli_audit,
    cli_backup,
    cli_explain,
    cli_keys,
    cli_quality,
    cli_report,
    cli_review,
    cli_run,
    cli_sample,
    cli_serve,
    cli_sql,
    cli_users,
)
from pipelines.cli_common import command_group, err
from pipelines.fileperms import owner_only

app = command_group("Master data for corporate customers: from source files to golden records.")

app.command()(cli_run.run)
app.command()(cli_sample.generate)
app.command()(cli_sample.demo)
app.command()(cli_quality.quality)
app.command()(cli_explain.explain)
app.command()(cli_sql.sql)
app.add_typer(cli_users.app, name="users")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(cli_backup.app)  # mdm backup, mdm restore
app.command("serve")(cli_serve.serve)
app.command(name="report")(cli_report.report)
cli_review.register(app)  # mdm review ..., mdm match
app.add_typer(cli_keys.keys_app, name="keys")


def main() -> None:
    owner_only()  # issue 12: every file and folder this process creates is owner-only (0600/0700)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
