"""Change-data-capture watermarks of the SQL adapter: opaque tokens of the largest change-column value read.

A token is JSON ``{"type": tag, "value": text}`` (see :func:`make_token`), read back by
:func:`read_token` as a value of the same Python type, so it binds as the database expects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from operator import is_not
from typing import Any, Final

_TOKEN_TYPES: Final[dict[str, tuple[type, Callable[[Any], str], Callable[[str], Any]]]] = {
    # tag: (Python type, value -> text, text -> value); datetime before date (a datetime is a date).
    "datetime": (dt.datetime, dt.datetime.isoformat, dt.datetime.fromisoformat),
    "date": (dt.date, dt.date.isoformat, dt.date.fromisoformat),
    "int": (int, str, int),
    "float": (float, repr, float),
    "decimal": (Decimal, str, Decimal),
    "str": (str, str, str),
}


def make_token(value: Any) -> str:
    """The watermark token of a change-column value: JSON ``{"type": tag, "value": text}`` with tag
    one of datetime, date, int, float, decimal, str, so that :func:`read_token` gives back a value of
    the same Python type (bound as such: a datetime for PostgreSQL timestamps, text for SQLite).

    Raises TypeError for a value of another type (bool, bytes, time, ...).
    """
    for tag, (typ, to_text, _) in _TOKEN_TYPES.items():
        if type(value) is typ:
            return json.dumps({"type": tag, "value": to_text(value)}, sort_keys=True, separators=(",", ":"))
    raise TypeError(f"a {type(value).__name__} value cannot be a watermark")


def read_token(token: str) -> tuple[Any, str]:
    """The value of a watermark token and its text; ValueError for anything :func:`make_token` did not make."""
    try:
        raw = json.loads(token)
        tag, value = raw["type"], raw["value"]
        parse = _TOKEN_TYPES[tag][2]
    except (TypeError, ValueError, KeyError):
        raise ValueError(f"not a watermark token of the SQL adapter: {token!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"not a watermark token of the SQL adapter: {token!r}")
    try:
        return parse(value), value
    except (ValueError, ArithmeticError):
        raise ValueError(f"watermark token with a bad {tag} value: {token!r}") from None


def _highest(values: Sequence[Any], current: Any) -> Any:
    """The largest non-NULL value of ``values`` and ``current`` (None when there is none); TypeError
    when they cannot be compared."""
    top = max(filter(partial(is_not, None), values), default=None)
    if top is None:
        return current
    return top if current is None or top > current else current
