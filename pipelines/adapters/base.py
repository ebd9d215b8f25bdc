"""What every source adapter gets and gives.

An adapter is a function ``extract(ctx: ExtractContext) -> Iterator[Batch]``. It streams its source
(never reading a whole multi-GB file into memory) and yields batches of at most ``ctx.chunk_size``
rows of the canonical tables in :mod:`mdm.schema` (``organization``, ``relationship``,
``financial_fact``, ``account``, ``balance``). It raises :class:`~pipelines.errors.SourceError` for
input it cannot read at all (missing file, truncated XML, missing required column, undecodable bytes)
and calls ``ctx.warn`` for a problem it can repair or skip (a counted warning, row kept where possible).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mdm.schema import TABLES
from pipelines.config import SourceConfig
from pipelines.errors import LoadWarning, SourceError, WarningLog


@dataclass
class Batch:
    table: str            # one of mdm.schema.TABLES
    frame: pd.DataFrame   # columns: a subset of the table's columns; missing ones become NULL


@dataclass
class ExtractContext:
    source: SourceConfig
    warnings: WarningLog = field(default_factory=WarningLog)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def path(self) -> Path:
        assert self.source.path is not None
        return self.source.path

    @property
    def chunk_size(self) -> int:
        return self.source.chunk_size

    @property
    def encoding(self) -> str:
        return self.source.encoding

    def warn(self, message: str, *, file: str | Path | None = None, line: int | None = None,
             key: str | None = None, code: str = "warning") -> None:
        self.warnings.add(LoadWarning(self.name, message, str(file) if file is not None else None, line, key, code))

    def error(self, message: str, *, file: str | Path | None = None, line: int | None = None,
              key: str | None = None) -> SourceError:
        """Build (not raise) a SourceError naming this source: ``raise ctx.error(...)``."""
        return SourceError(message, source=self.name, file=str(file) if file is not None else None, line=line, key=key)


Adapter = Callable[[ExtractContext], Iterator[Batch]]


def conform(table: str, frame: pd.DataFrame, ctx: ExtractContext) -> pd.DataFrame:
    """Give a batch exactly the canonical columns of ``table`` in order, with ``source`` filled in.

    Strings stay strings (empty strings become NULL); numeric columns are coerced.
    """
    cols = TABLES[table]
    unknown = set(frame.columns) - set(cols)
    if unknown:
        raise ValueError(f"adapter produced unknown {table} columns {sorted(unknown)}")
    out = pd.DataFrame(index=frame.index)
    for name, typ in cols.items():
        if name == "source":
            out[name] = ctx.name
        elif name == "source_format" and table == "organization":
            out[name] = ctx.source.format
        elif name in frame.columns:
            col = frame[name]
            if str(typ) == "string":
                col = col.astype("object").where(col.notna(), None)
                col = col.map(lambda v: None if v is None else (str(v).strip() or None))
            elif str(typ) == "int64":
                col = pd.to_numeric(col, errors="coerce").astype("Int64")
            else:
                col = pd.to_numeric(col, errors="coerce").astype("float64")
            out[name] = col
        else:
            out[name] = None
    return out.reset_index(drop=True)


def chunked(rows: Iterator[dict[str, Any]], size: int, table: str) -> Iterator[Batch]:
    """Group an iterator of row dicts into Batches of at most ``size`` rows."""
    buf: list[dict[str, Any]] = []
    for row in rows:
        buf.append(row)
        if len(buf) >= size:
            yield Batch(table, pd.DataFrame.from_records(buf))
            buf = []
    if buf:
        yield Batch(table, pd.DataFrame.from_records(buf))
