"""Errors and warnings that name where bad input is: source, file, line/record and key."""

from __future__ import annotations

from dataclasses import dataclass, field


def _where(source: str | None, file: str | None, line: int | None, key: str | None) -> str:
    parts = []
    if source:
        parts.append(f"source '{source}'")
    if file:
        parts.append(f"file {file}")
    if line is not None:
        parts.append(f"line {line}")
    if key:
        parts.append(f"key {key!r}")
    return ", ".join(parts)


class MdmError(Exception):
    """Base class of every error the pipeline reports to its user (no traceback needed)."""


class ConfigError(MdmError):
    """The configuration is invalid; raised before any work is done."""


class SourceError(MdmError):
    """A source cannot be read: names source, file, line/record and key, and what is wrong."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.file = file
        self.line = line
        self.key = key
        where = _where(source, file, line, key)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class LoadWarning:
    """A counted, non-fatal problem found while reading a source."""

    source: str
    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None
    code: str = "warning"

    def __str__(self) -> str:
        where = _where(self.source, self.file, self.line, self.key)
        return f"{where}: {self.message}"


@dataclass
class WarningLog:
    """Collects warnings; keeps the first ``keep`` in full and counts all of them by code."""

    keep: int = 1000
    items: list[LoadWarning] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, w: LoadWarning) -> None:
        self.counts[w.code] = self.counts.get(w.code, 0) + 1
        if len(self.items) < self.keep:
            self.items.append(w)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
