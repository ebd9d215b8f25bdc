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
from operator import is_
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from mdm.schema import TABLES
from pipelines.config import SourceConfig
from pipelines.errors import LoadWarning, SourceError, WarningLog

if TYPE_CHECKING:
    from pipelines.crypto import FieldCipher


@dataclass
class Batch:
    table: str  # one of mdm.schema.TABLES
    frame: pd.DataFrame  # columns: a subset of the table's columns; missing ones become NULL
    # True for a batch of a changes-only read that lists the natural keys of all current rows of the
    # table (no other columns, already conformed strings): the loader drops earlier rows whose key is
    # missing from them. Such batches are not rows to load.
    keys_only: bool = False
    # With keys_only and an empty frame: the marker of a changes-only read saying that no natural key of the
    # table was deleted since the last landing (the source's count of distinct keys equals the landing's,
    # see pipelines.adapters.sql); no keys follow, and the loader keeps every earlier row not read again.
    no_deletions: bool = False


@dataclass
class ExtractContext:
    source: SourceConfig
    warnings: WarningLog = field(default_factory=WarningLog)
    # Change-data capture (database sources with ``changes``): query key -> watermark token of the
    # previous load, given by the runner; an adapter then reads only the rows changed since it.
    since: dict[str, str] = field(default_factory=dict)
    # Filled by the adapter: query key -> watermark token of this read, for every query with a change
    # column (tokens are opaque outside the adapter that made them).
    watermarks: dict[str, str] = field(default_factory=dict)
    # Encrypts the sensitive columns (mdm.classification) in `conform`, so clear values never reach a
    # landing; given by the runner (pipelines.crypto.cipher_for). None (adapter tests only): values stay clear.
    cipher: FieldCipher | None = None
    # Given by the loader for a changes-only read: table -> the number of distinct natural keys over the last
    # landing and the rows of this read yielded so far (|K_O u K_C|), which lets the adapter see that nothing
    # was deleted without reading every key. None: the adapter reads the keys of all rows.
    key_count: Callable[[str], int] | None = None

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

    def warn(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        code: str = "warning",
    ) -> None:
        self.warnings.add(LoadWarning(self.name, message, str(file) if file is not None else None, line, key, code))

    def error(
        self, message: str, *, file: str | Path | None = None, line: int | None = None, key: str | None = None
    ) -> SourceError:
        """Build (not raise) a SourceError naming this source: ``raise ctx.error(...)``."""
        return SourceError(message, source=self.name, file=str(file) if file is not None else None, line=line, key=key)


Adapter = Callable[[ExtractContext], Iterator[Batch]]

_STR_OR_NONE: Final = frozenset({str, type(None)})


def conform(table: str, frame: pd.DataFrame, ctx: ExtractContext) -> pd.DataFrame:
    """Give a batch exactly the canonical columns of ``table`` in order, with ``source`` filled in.

    Strings stay strings (empty strings become NULL); numeric columns are coerced. With a cipher in the
    context, sensitive values (phone, relationship manager, sensitive keys of ``extra``) become tokens.
    """
    cols = TABLES[table]
    unknown = set(frame.columns) - set(cols)
    if unknown:
        raise ValueError(f"adapter produced unknown {table} columns {sorted(unknown)}")
    data: dict[str, Any] = {}
    for name, typ in cols.items():
        if name == "source":
            data[name] = ctx.name
        elif name == "source_format" and table == "organization":
            data[name] = ctx.source.format
        elif name in frame.columns:
            col = frame[name]
            if str(typ) == "string":
                col = conform_strings(col)
            elif str(typ) == "int64":
                col = _integers(col)
            else:
                col = pd.to_numeric(col, errors="coerce").astype("float64")
            # By position (the output is indexed 0..n-1); Int64 keeps its masked array.
            data[name] = col.array if str(typ) == "int64" else col.to_numpy()
        else:
            data[name] = None
    out = pd.DataFrame(data, index=pd.RangeIndex(len(frame)))
    if ctx.cipher is not None:
        out = ctx.cipher.protect_frame(out, ctx.source.format)
    return out


_INT64_LIMIT: Final = 2.0**63


def _integers(col: pd.Series) -> pd.Series:
    """An integer column as Int64: values that are no number, not whole or outside int64 become NULL."""
    num = pd.to_numeric(col, errors="coerce")
    if num.dtype.kind == "i":
        return num.astype("Int64")
    with np.errstate(invalid="ignore"):
        f = pd.Series(pd.to_numeric(num, errors="coerce"), index=col.index).astype("float64")
        ok = np.isfinite(f) & (f == np.floor(f)) & (f.abs() < _INT64_LIMIT)
    return f.where(ok).astype("Int64")


def _text_state(values: list[Any]) -> tuple[bool, bool] | None:
    """For values that are all text or None: (some text needs stripping, some text is empty);
    None when any value is something else. No Python-level step per value."""
    try:
        texts = list(filter(None, values))  # the non-empty values
        # str.strip refuses what is not text, and returns the very same object when it strips nothing.
        unchanged = all(map(is_, texts, map(str.strip, texts)))
    except (TypeError, ValueError):  # a value that is no text, or has no truth value (pd.NA)
        return None
    dropped = len(values) - len(texts)
    empties = values.count("") if dropped else 0
    if dropped and values.count(None) + empties != dropped:
        return None  # a false value that is neither None nor empty text (0, 0.0, False, b"")
    return not unchanged, empties > 0


def conform_strings(col: pd.Series) -> pd.Series:
    """A string column as the raw layer holds it: each value as ``str`` stripped, empty and missing
    values as None (an object Series on the same index).

    An object column of only text and None in which no text needs stripping or is empty (the usual
    case) is passed on as it is; other columns go value by value.
    """
    if col.dtype == object:
        values = col.tolist()  # a list iterates faster than an object array
        state = _text_state(values)
        if state == (False, False):
            return pd.Series(col.to_numpy(), index=col.index, dtype="object")
        if state is not None:
            return pd.Series(
                [None if v is None else (str(v).strip() or None) for v in values], index=col.index, dtype="object"
            )
    col = col.astype("object").mask(col.isna(), None)
    return col.map(lambda v: None if v is None else (str(v).strip() or None))


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
