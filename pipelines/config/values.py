"""The building blocks of the config's models: limits on what is read from outside, sizes, safe paths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

# Limits on what is read from outside (issue 12); each is a per-source key of the config.
DEFAULT_MAX_FILE_SIZE = 64 * 2**30  # the full GLEIF golden copy and Companies House files are a few GB
DEFAULT_MAX_ZIP_RATIO = 200.0  # real register zips compress 5-30x; a zip of NULs ~1000x
DEFAULT_MAX_LINE_SIZE = 16 * 2**20  # bytes of one physical line of a CSV or tab-separated file
DEFAULT_SQL_TIMEOUT = 3600.0  # seconds
MAX_CONFIG_SIZE = 1 * 2**20  # bytes of a config file
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(v: Any) -> int:
    """A size in bytes from an int or text like ``500 MB`` / ``40GiB``; ValueError otherwise."""
    if isinstance(v, bool):
        raise ValueError("expected a size in bytes")
    if isinstance(v, int):
        n = v
    else:
        m = _SIZE.match(str(v))
        if not m or m[2].lower() not in _UNITS:
            raise ValueError(f"not a size: {v!r} (bytes, or a number with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
        n = int(float(m[1]) * _UNITS[m[2].lower()])
    if n <= 0:
        raise ValueError("a size must be positive")
    return n


ByteSize = Annotated[int, BeforeValidator(parse_size)]


def no_nul(v: Any) -> Any:
    if "\x00" in str(v):
        raise ValueError("contains a NUL character")
    return v


# A path or URL without NUL characters (the operating system cannot take them).
SafePath = Annotated[Path, BeforeValidator(no_nul)]


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, and the loaded values cannot change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
