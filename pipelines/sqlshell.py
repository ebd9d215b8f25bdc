"""Read-only SQL on the published warehouse: one-shot queries and a small interactive shell (``mdm sql``).

The database is opened read-only in DuckDB's sandbox (:mod:`pipelines.sandbox`): any write, any
file access outside the database (``COPY``, ``read_csv``, ``ATTACH``), any extension install and any
settings change is refused by DuckDB itself; the refusal is shown as one line. The shell reads statements ending in ``;`` (several lines
each if need be) from any text stream, so it works on a terminal and on piped input alike, and knows
a few dot commands: ``.tables``, ``.schema NAME``, ``.help``, ``.quit``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.config import load_config
from pipelines.errors import MdmError
from pipelines.sandbox import REFUSAL, is_refusal, open_readonly
from pipelines.warehouse import Warehouse

Format = Literal["table", "csv", "json"]
FORMATS: tuple[str, ...] = ("table", "csv", "json")
PROMPT = "mdm> "
CONTINUE = "...> "
HELP = """\
Statements end with ';' and may span lines. The warehouse is open read-only.
  .tables          tables, views and table macros of the warehouse
  .schema NAME     columns and types of a table or view (or a macro's parameters)
  .help            this text
  .quit / .exit    leave (so does end of input)
Example: SELECT golden_id, legal_name, revenue FROM v_golden_organization WHERE revenue IS NOT NULL LIMIT 5;"""


# Statement types mdm sql runs (DESCRIBE, SHOW and SUMMARIZE are SELECTs); every other type (ATTACH, COPY,
# EXPORT, INSTALL/LOAD, SET, CREATE, INSERT ...) is refused before it reaches DuckDB, whose sandbox
# (pipelines.sandbox) refuses file access, extensions and settings changes in any statement.
QUERY_TYPES = frozenset(
    {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA, duckdb.StatementType.CALL}
)


class SqlError(MdmError):
    """A statement failed (syntax, unknown table, a write on the read-only warehouse ...)."""


def open_warehouse(config: Path) -> duckdb.DuckDBPyConnection:
    """The published database of the config's warehouse, opened read-only in the sandbox."""
    cfg = load_config(config, check_files=False)
    wh = Warehouse(cfg.warehouse)
    if not wh.exists():
        raise MdmError(f"no published warehouse at {wh.db_path}; run `mdm run --config {config}` first")
    return open_readonly(wh.db_path)


@dataclass
class Result:
    """The outcome of one statement: column names and rows (no columns for a statement without rows)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def execute(con: duckdb.DuckDBPyConnection, sql: str) -> list[Result]:
    """Run every statement of ``sql``; one Result per statement. Raises SqlError with DuckDB's message."""
    try:
        statements = con.extract_statements(sql)
        results = []
        for stmt in statements:
            if stmt.type not in QUERY_TYPES:
                kind = stmt.type.name.replace("_", " ")
                raise SqlError(
                    f"{REFUSAL}: a {kind} statement is not a query; mdm sql runs SELECT, WITH, FROM, "
                    f"DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA and CALL only"
                )
            cur = con.execute(stmt.query)
            if cur.description is None:
                results.append(Result([], []))
            else:
                results.append(Result([d[0] for d in cur.description], cur.fetchall()))
        return results
    except ValueError as e:  # a statement type the Python client does not know (e.g. UPDATE EXTENSIONS)
        raise SqlError(f"{REFUSAL}: unsupported statement ({e})") from None
    except duckdb.Error as e:
        if is_refusal(e):
            raise SqlError(f"{REFUSAL}: {_one_line(e)}") from None
        raise SqlError(_one_line(e)) from None


def _one_line(e: BaseException) -> str:
    """DuckDB's message without the blank lines and caret diagrams it sometimes adds."""
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    return " ".join(lines[:2]) if lines else type(e).__name__


def _plain(v: Any) -> Any:
    """A value as JSON can hold it (dates as ISO strings, decimals as floats, lists kept)."""
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return v


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (datetime, date)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    return str(v)


def render(result: Result, console: Console, fmt: Format = "table", max_rows: int | None = None) -> None:
    """Print one result: a rich table (at most ``max_rows`` rows, NULL shown as such), CSV with a header
    row, or a JSON array of objects."""
    if not result.columns:
        if fmt == "table":
            console.print("OK")
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(result.columns)
        w.writerows([[_text(v) for v in row] for row in result.rows])
        console.out(buf.getvalue(), end="", highlight=False)
        return
    if fmt == "json":
        data = [dict(zip(result.columns, map(_plain, row))) for row in result.rows]
        console.out(json.dumps(data, ensure_ascii=False, default=str, indent=2), highlight=False)
        return
    shown = result.rows if max_rows is None else result.rows[:max_rows]
    t = Table(show_lines=False)
    for c in result.columns:
        t.add_column(c, overflow="fold")
    for row in shown:
        t.add_row(*["[dim]NULL[/dim]" if v is None else escape(_text(v)) for v in row])
    console.print(t)
    more = len(result.rows) - len(shown)
    suffix = f" ({more:,} more not shown; use --format csv or a LIMIT)" if more > 0 else ""
    console.print(f"{len(result.rows):,} row{'s' if len(result.rows) != 1 else ''}{suffix}")


class Shell:
    """The interactive loop over a read-only connection: statements, dot commands, errors that do not end it."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        console: Console,
        err: Console,
        fmt: Format = "table",
        max_rows: int | None = 100,
    ) -> None:
        self.con = con
        self.console = console
        self.err = err
        self.fmt = fmt
        self.max_rows = max_rows
        self.errors = 0

    def run_statements(self, sql: str) -> None:
        """Execute and print; an error is reported on the error console and counted, the shell goes on."""
        try:
            for res in execute(self.con, sql):
                render(res, self.console, self.fmt, self.max_rows)
        except SqlError as e:
            self.errors += 1
            self.err.print(f"[red]error:[/red] {escape(str(e))}")

    def command(self, line: str) -> bool:
        """Handle a dot command; False means leave the shell."""
        name, _, arg = line.strip().partition(" ")
        arg = arg.strip().rstrip(";").strip()
        if name in (".quit", ".exit", ".q"):
            return False
        if name == ".help":
            self.console.out(HELP, highlight=False)
        elif name == ".tables":
            render(self._tables(), self.console, self.fmt, None)
        elif name == ".schema":
            if not arg:
                self.errors += 1
                self.err.print("usage: .schema NAME")
            else:
                self._schema(arg)
        else:
            self.errors += 1
            self.err.print(f"unknown command {escape(name)}; .help lists the commands")
        return True

    def _tables(self) -> Result:
        rows = self.con.execute(
            "SELECT table_name AS name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS type "
            "FROM information_schema.tables WHERE table_schema = 'main' "
            "UNION ALL "
            "SELECT DISTINCT function_name, 'table macro' FROM duckdb_functions() "
            "WHERE function_type = 'table_macro' AND NOT internal AND schema_name = 'main' "
            "ORDER BY name"
        ).fetchall()
        return Result(["name", "type"], rows)

    def _schema(self, name: str) -> None:
        cols = self.con.execute(
            "SELECT column_name AS column, data_type AS type, is_nullable AS nullable "
            "FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $n "
            "ORDER BY ordinal_position",
            {"n": name},
        ).fetchall()
        if cols:
            render(Result(["column", "type", "nullable"], cols), self.console, self.fmt, None)
            return
        macro = self.con.execute(
            "SELECT function_name, parameters, macro_definition FROM duckdb_functions() "
            "WHERE function_type = 'table_macro' AND NOT internal AND function_name = $n",
            {"n": name},
        ).fetchall()
        if macro:
            fn, params, body = macro[0]
            self.console.out(f"table macro {fn}({', '.join(params)}):\n{body}", highlight=False)
            return
        self.errors += 1
        self.err.print(f"no table, view or macro named {escape(name)!r}; .tables lists them")

    def loop(self, lines: Iterable[str], interactive: bool = False) -> int:
        """Read statements from ``lines`` until .quit or the end; returns the number of failed commands.
        Prompts are printed only when ``interactive``."""
        buffer: list[str] = []
        it = iter(lines)
        while True:
            if interactive:
                self.console.out(CONTINUE if buffer else PROMPT, end="", highlight=False)
            line = next(it, None)
            if line is None:
                break
            line = line.rstrip("\r\n")
            if not buffer and line.lstrip().startswith("."):
                if not self.command(line):
                    return self.errors
                continue
            if not buffer and (not line.strip() or line.lstrip().startswith("--")):
                continue  # blank and comment-only lines between statements
            buffer.append(line)
            if line.rstrip().endswith(";"):
                self.run_statements("\n".join(buffer))
                buffer = []
        if buffer and "".join(buffer).strip():
            self.run_statements("\n".join(buffer))  # a last statement without its ';'
        if interactive:
            self.console.out("", highlight=False)
        return self.errors


def shell(
    con: duckdb.DuckDBPyConnection,
    stream: TextIO,
    console: Console,
    err: Console,
    fmt: Format = "table",
    max_rows: int | None = 100,
) -> int:
    """The interactive shell on ``stream`` (a banner and prompts when it is a terminal)."""
    interactive = stream.isatty()
    if interactive:
        console.out(
            "mdm sql: read-only DuckDB shell on the warehouse. .help for help, .quit to leave.", highlight=False
        )
    return Shell(con, console, err, fmt, max_rows).loop(stream, interactive=interactive)
