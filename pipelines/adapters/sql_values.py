"""How the SQL adapter turns database values into the raw layer's text and numbers.

Dates and timestamps become ISO strings, ``month`` becomes ``YYYY-MM``, several names in one value the
canonical ``other_names`` JSON, numbers floats or int64 (bad ones NULL, with a warning by the reader).
Columns are converted as a whole where that cannot change the result (once per distinct value, or
through numpy); the column types are those of the CRM contract (:mod:`pipelines.adapters.crm_contract`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.adapters.base import conform_strings
from pipelines.adapters.crm_contract import TABLES, columns_of_type

# Columns holding a calendar date (a timestamp from the database is cut to its date) or a timestamp, by type
# in the CRM contract.
_DATE_COLUMNS: Final = columns_of_type("date")
_TIMESTAMP_COLUMNS: Final = columns_of_type("timestamp")
_MONTH_COLUMNS: Final = columns_of_type("month")
_FLOAT_COLUMNS: Final = columns_of_type("real")
_INT_COLUMNS: Final = columns_of_type("integer")
_NAMES_COLUMNS: Final = columns_of_type("names")
# Contract columns landing in a canonical column of another name (aliases -> other_names).
_LANDS_IN: Final = {c.name: c.lands_in for t in TABLES for c in t.columns if c.lands_in != c.name}
_NAME_SEPARATORS = re.compile(r"[;\n\r]+")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})(?:-\d{2}.*)?$")


def _text(v: Any) -> str | None:
    """A database value as the raw layer's text (dates as ISO, integral floats without ``.0``)."""
    if v is None:
        return None
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral_value() else str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", errors="replace")
    return str(v)


def _temporal(v: Any, date_only: bool) -> str | None:
    """An ISO date (``date_only``) or timestamp, also from the ISO-like text SQLite stores them as.

    Text that is not an ISO date/timestamp is passed on as given for the loader to judge.
    """
    if isinstance(v, str):
        s = v.strip()
        try:
            v = dt.date.fromisoformat(s) if len(s) == 10 else dt.datetime.fromisoformat(s)
        except ValueError:
            return s
    if isinstance(v, dt.datetime) and date_only:
        return v.date().isoformat()
    return _text(v)


def _temporal_text(s: str, date_only: bool) -> str:
    """:func:`_temporal` of a ``str`` (the same result, with fewer steps for the text SQLite stores)."""
    s = s.strip()
    try:
        v = dt.date.fromisoformat(s) if len(s) == 10 else dt.datetime.fromisoformat(s)
    except ValueError:
        return s
    return v.date().isoformat() if date_only and type(v) is dt.datetime else v.isoformat()


def _month(v: Any) -> str | None:
    """``YYYY-MM`` from a date, a timestamp or text like ``2024-03``, ``2024-03-31``, ``202403``."""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.strftime("%Y-%m")
    s = _text(v)
    if s is None:
        return None
    m = _MONTH.match(s.strip())
    return f"{m[1]}-{m[2]}" if m else s


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, Decimal) and v.is_finite():
        return int(v) if v == v.to_integral_value() else float(v)
    return _text(v)


# Types whose values equal only values of the same type and, when equal, convert to the same text:
# a column of one of them (and None) is converted once per distinct value.
_BY_DISTINCT_VALUE: Final = frozenset({str, int, bytes, dt.date})
_NONE: Final = type(None)
_STR_OR_NONE: Final = frozenset({str, _NONE})
# Value types numpy turns into float64 exactly as ``float(v)`` does (None becomes NaN).
_FLOAT_LIKE: Final = frozenset({float, int, Decimal, _NONE})
_INT64_LIMIT: Final = 2.0**63


def _names_json(v: Any) -> str | None:
    """Several names in one value (a JSON array of strings, or text separated by ';' or line breaks) as the
    canonical other_names JSON: [{"name": ..., "type": "ALIAS"}]; None when there is none."""
    if v is None:
        return None
    text = str(v).strip()
    names: list[Any] = []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            names = parsed if isinstance(parsed, list) else []
        except ValueError:
            names = []
    if not names:
        names = _NAME_SEPARATORS.split(text)
    clean = [n.strip() for n in names if isinstance(n, str) and n.strip()]
    return (
        json.dumps([{"name": n, "type": "ALIAS"} for n in dict.fromkeys(clean)], ensure_ascii=False) if clean else None
    )


def _each(func: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """``func`` of each value, computed once per distinct value when that cannot change the result."""
    kinds = set(map(type, values))
    kinds.discard(_NONE)
    if len(kinds) <= 1 and kinds <= _BY_DISTINCT_VALUE:
        memo = {v: func(v) for v in set(values)}
        return list(map(memo.__getitem__, values))
    return list(map(func, values))


def _texts(values: Sequence[Any]) -> list[Any] | Sequence[Any]:
    """:func:`_text` of each value (text and None pass unchanged)."""
    if set(map(type, values)) <= _STR_OR_NONE:
        return values
    return _each(_text, values)


def _objects(values: Sequence[Any]) -> np.ndarray:
    """Converted values (str/None/JSON scalars) as a 1-d object array."""
    return np.fromiter(values, dtype=object, count=len(values))


def _bad_number(col: str, v: Any) -> str:
    return f"{col} {v!r} is not a number; set to NULL"


def _number(col: str, v: Any) -> tuple[float | int | None, bool]:
    """A numeric column value and whether it was bad (text that is no number, a fraction or NaN in an
    integer column); a bad value becomes None."""
    if v is None:
        return None, False
    try:
        f = float(v)
        if col in _INT_COLUMNS:
            if not f.is_integer() or abs(f) >= _INT64_LIMIT:
                raise ValueError(v)
            return int(f), False
        return (f if math.isfinite(f) else None), False
    except (TypeError, ValueError):
        return None, True


def column_texts(col: str, values: Sequence[Any]) -> Sequence[Any]:
    """A text column converted (month, date, timestamp or plain text, by its name)."""
    if col in _MONTH_COLUMNS:
        return _each(_month, values)
    if col in _DATE_COLUMNS or col in _TIMESTAMP_COLUMNS:
        date_only = col in _DATE_COLUMNS
        if set(map(type, values)) <= _STR_OR_NONE:
            return _each(lambda v: None if v is None else _temporal_text(v, date_only), values)
        return _each(partial(_temporal, date_only=date_only), values)
    return _texts(values)


def extra_json(columns: list[tuple[str, Sequence[Any]]], n: int) -> list[str | None]:
    """The ``extra`` JSON of each row: its non-NULL values of the columns outside the contract."""
    if not columns:
        return [None] * n
    names = [c for c, _ in columns]
    raw = list(zip(*(values for _, values in columns)))
    converted = list(zip(*(_each(_json_value, values) for _, values in columns)))
    out: list[str | None] = []
    for r, c in zip(raw, converted):
        kept = {name: value for name, v, value in zip(names, r, c) if v is not None}
        out.append(json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else None)
    return out


# The characters ``str.strip`` removes (``str.isspace``), as an RE2 class: text starting or ending with one of
# them, or empty, is changed by the raw layer's conform; other text is not.
_PY_SPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_SPACE_CLASS: Final = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _PY_SPACE) + "]"
_EDGE_SPACE: Final = f"^{_SPACE_CLASS}|{_SPACE_CLASS}$"
# Text a month column keeps as it is (:func:`_month` of ``YYYY-MM`` is itself).
_PLAIN_MONTH: Final = "^[0-9]{4}-[0-9]{2}$"


def key_texts(col: str, values: Sequence[Any]) -> pa.Array:
    """A natural-key column of a result as the landed rows hold it (converted by :func:`column_texts`, then
    conformed like every raw string: stripped, empty text as NULL), as an Arrow string array.

    A column of text (and NULLs) goes to Arrow in one step when no value can be changed by the conversion:
    none empty, none starting or ending with whitespace, and in a month column all ``YYYY-MM``; otherwise
    (and for dates, timestamps and other types) the values take the same path as the loaded rows."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        arr = None
    if arr is not None and arr.type == pa.null():
        return pa.nulls(len(values), pa.string())
    if (
        arr is not None
        and arr.type == pa.string()
        and col not in _DATE_COLUMNS
        and col not in _TIMESTAMP_COLUMNS
        and col not in _NAMES_COLUMNS
    ):
        suspect = pc.or_(pc.equal(arr, ""), pc.match_substring_regex(arr, _EDGE_SPACE))
        if col in _MONTH_COLUMNS:
            suspect = pc.or_(suspect, pc.invert(pc.match_substring_regex(arr, _PLAIN_MONTH)))
        if not pc.any(suspect).as_py():
            return arr
    texts = conform_strings(pd.Series(_objects(column_texts(col, values)), dtype="object"))
    return pa.array(texts.tolist(), type=pa.string())
