"""Streaming CSV reading shared by the register adapters (Companies House, Chinese enterprise register).

:func:`read_csv` opens a ``.csv`` file, or the single ``.csv`` member of a ``.zip`` (streamed, never
extracted), and yields one :class:`CsvRow` per data row with

* ``line``: the 1-based physical line on which the row starts (a quoted field may span lines), counted
  in ``\\n``-terminated lines of the file;
* ``values``: the row's fields by header name, the names stripped of surrounding spaces and of a
  UTF-8 byte-order mark; values stripped, with ``""``, ``"N/A"`` and ``"None Supplied"`` turned into
  ``None`` (NULL); NUL characters removed (warning ``nul_bytes``).

The bytes are decoded line by line with the source's encoding in strict mode, so undecodable input
fails with a :class:`~pipelines.errors.SourceError` naming the file and the exact line. A missing
required column, an empty file or an unreadable archive are SourceErrors too; a row with the wrong
number of fields is kept as far as it goes (warning ``ragged_row``).
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from pipelines.adapters.base import ExtractContext
from pipelines.adapters.limits import ByteStream, check_path, lines, open_file, open_member

# Values meaning "no value" (compared case-insensitively after stripping).
_NULLS = frozenset({"", "n/a", "none supplied"})
_NULL_MAX_LEN = max(len(v) for v in _NULLS)

# What reading a (possibly compressed) byte stream can raise besides decoding errors.
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error)


class _Reader(Protocol):
    """What we use of a ``csv.reader``: iteration and the count of lines consumed."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV source: where it is and its values by (stripped) header name."""

    file: str  # the file path, or "archive.zip!member"
    line: int  # 1-based physical line where the row starts
    values: dict[str, str | None]  # None = NULL; every header column is present

    def get(self, column: str) -> str | None:
        """The value of ``column``, None when NULL or when the file has no such column."""
        return self.values.get(column)


def read_csv(ctx: ExtractContext, *, required: Sequence[str], key_column: str) -> Iterator[CsvRow]:
    """Stream the rows of ``ctx.path`` (a ``.csv`` or a ``.zip`` holding one ``.csv``).

    ``required`` columns must be in the header (else a SourceError naming the column and the file);
    ``key_column`` is the natural key, used to name rows in warnings.
    """
    path = ctx.path
    check_path(ctx, path)
    if path.suffix.lower() == ".zip":
        yield from _read_zip(ctx, path, required, key_column)
        return
    stream = open_file(ctx, path)
    with stream:
        yield from _read_stream(ctx, stream, str(path), required, key_column)


def _read_zip(ctx: ExtractContext, path: Path, required: Sequence[str], key_column: str) -> Iterator[CsvRow]:
    """Stream the one ``.csv`` member of a zip archive."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ctx.error(f"not a readable zip archive: {e}", file=path) from None
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir() and m.filename.lower().endswith(".csv") and not m.filename.startswith("__MACOSX/")
        ]
        if len(members) != 1:
            names = ", ".join(m.filename for m in members) or "none"
            raise ctx.error(
                f"the zip archive must hold exactly one .csv file, found {len(members)} ({names})", file=path
            )
        label = f"{path}!{members[0].filename}"
        try:
            stream = open_member(ctx, archive, members[0], label)
        except (*_READ_ERRORS, RuntimeError, NotImplementedError) as e:  # encrypted / unsupported compression
            raise ctx.error(f"cannot open the zip member: {e}", file=label) from None
        with stream:
            yield from _read_stream(ctx, stream, label, required, key_column)


def _text_lines(ctx: ExtractContext, stream: ByteStream, label: str) -> Iterator[str]:
    """Decode a byte stream strictly, one ``\\n``-terminated line at a time, naming the line of any error.

    Decoding per physical line (rather than in large blocks) is what makes the reported line exact.
    An incremental decoder carries partial characters across chunks, so multi-byte encodings whose
    newline is not a single byte (UTF-16) still decode correctly; only their error lines are approximate.
    """
    decoder = codecs.getincrementaldecoder(ctx.encoding)(errors="strict")
    pending = ""
    done = 0  # lines handed out so far
    chunks = lines(ctx, stream, label)
    while True:
        try:
            chunk = next(chunks, None)
        except _READ_ERRORS as e:
            raise ctx.error(f"cannot read the file: {e}", file=label, line=done + 1) from None
        final = chunk is None
        try:
            text = decoder.decode(chunk or b"", final=final)
        except UnicodeDecodeError as e:
            bad = e.object[e.start : e.end]
            raise ctx.error(
                f"cannot decode the bytes as {ctx.encoding} ({e.reason}: {bad!r} at byte {e.start + 1} of the "
                f"line); set the source's 'encoding' to the file's real encoding",
                file=label,
                line=done + 1,
            ) from None
        except UnicodeError as e:  # e.g. UTF-16 without a byte-order mark
            raise ctx.error(
                f"cannot decode the bytes as {ctx.encoding} ({e}); set the source's 'encoding' to the "
                f"file's real encoding",
                file=label,
                line=done + 1,
            ) from None
        if "\n" in text:
            *complete, pending = (pending + text).split("\n")
            for line in complete:
                done += 1
                yield line + "\n"
        else:
            pending += text
        if final:
            if pending:
                yield pending
            return


def _next_fields(ctx: ExtractContext, reader: _Reader, label: str) -> list[str] | None:
    """The next parsed record, None at the end; csv errors become SourceErrors naming the line the record starts on."""
    start = reader.line_num + 1
    try:
        return next(reader, None)
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise ctx.error(
                f"malformed CSV in the record starting on this line: field larger than field limit "
                f"({csv.field_size_limit():,} characters; an unclosed quote, or a field far longer "
                f"than any register value)",
                file=label,
                line=start,
            ) from None
        raise ctx.error(
            f"malformed CSV in the record starting on this line (it ends on line {reader.line_num}): {e}",
            file=label,
            line=start,
        ) from None


def _header(ctx: ExtractContext, reader: _Reader, label: str, required: Sequence[str]) -> list[str]:
    """Read and check the header: names stripped (and of a BOM), unique, required ones present."""
    fields = _next_fields(ctx, reader, label)
    while fields is not None and not any(f.strip() for f in fields):  # blank lines before the header
        fields = _next_fields(ctx, reader, label)
    if fields is None:
        raise ctx.error("empty file: no header line", file=label, line=reader.line_num or 1)
    line = reader.line_num
    names = [f.replace("\x00", "").strip() for f in fields]
    names[0] = names[0].lstrip("\ufeff").strip()
    seen: set[str] = set()
    for n in names:
        if n and n in seen:
            raise ctx.error(f"column {n!r} appears twice in the header", file=label, line=line)
        seen.add(n)
    missing = [c for c in required if c not in seen]
    if missing:
        shown = ", ".join(repr(n) for n in names)
        hint = ""
        if len(names) == 1:
            hint = " (the header has a single column: the file is probably not comma-separated)"
        raise ctx.error(
            f"required column {', '.join(repr(c) for c in missing)} missing from the header [{shown[:500]}]{hint}",
            file=label,
            line=line,
        )
    return names


def _read_stream(
    ctx: ExtractContext, stream: ByteStream, label: str, required: Sequence[str], key_column: str
) -> Iterator[CsvRow]:
    """Parse a CSV byte stream into :class:`CsvRow` s (see the module docstring for the rules)."""
    reader = csv.reader(_text_lines(ctx, stream, label))
    names = _header(ctx, reader, label, required)
    width = len(names)
    columns = [(i, n) for i, n in enumerate(names) if n]  # unnamed columns (trailing commas) are ignored
    while True:
        start = reader.line_num + 1
        fields = _next_fields(ctx, reader, label)
        if fields is None:
            return
        if not fields:  # a blank line
            continue
        values: dict[str, str | None] = {}
        nuls: list[str] = []
        for i, name in columns:
            if i >= len(fields):
                values[name] = None
                continue
            raw = fields[i]
            if "\x00" in raw:
                nuls.append(f"{name} ({raw.count(chr(0))})")
                raw = raw.replace("\x00", "")
            v = raw.strip()
            values[name] = v if v and (len(v) > _NULL_MAX_LEN or v.casefold() not in _NULLS) else None
        key = values.get(key_column)
        if len(fields) != width:
            what = (
                f"the {len(fields) - width} extra field(s) are dropped"
                if len(fields) > width
                else f"the {width - len(fields)} missing field(s) are NULL"
            )
            ctx.warn(
                f"row has {len(fields)} fields, the header has {width}: {what}",
                file=label,
                line=start,
                key=key,
                code="ragged_row",
            )
        if nuls:
            ctx.warn(f"NUL bytes removed from {', '.join(nuls)}", file=label, line=start, key=key, code="nul_bytes")
        yield CsvRow(label, start, values)


# Date layouts: regular expressions with named groups y, m and d that must match the whole value.
DMY_SLASH = re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})")
# 1998-01-01, 1998/1/1, 1998.01.01, 1998年1月1日, optionally followed by a time of day.
YMD = re.compile(
    r"(?P<y>\d{4})(?:-|/|\.|年)(?P<m>\d{1,2})(?:-|/|\.|月)(?P<d>\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


def iso_date(ctx: ExtractContext, row: CsvRow, column: str, layout: re.Pattern[str], key: str | None) -> str | None:
    """The ISO date of ``row``'s ``column``; an unparseable or impossible date is NULL + warning ``bad_date``."""
    value = row.get(column)
    if value is None:
        return None
    m = layout.fullmatch(value)
    if m:
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat()
        except ValueError:
            pass
    ctx.warn(
        f"{column}: not a valid date {value!r}, set to NULL", file=row.file, line=row.line, key=key, code="bad_date"
    )
    return None
