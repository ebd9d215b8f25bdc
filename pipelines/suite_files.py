"""The Great Expectations suites as files, and the outcome of validating against one (no GX import).

The suites are version-controlled JSON under ``expectations/suites/`` (one file per suite). Both the GX
wrapper (:mod:`pipelines.validation`) and the SQL evaluator (:mod:`pipelines.suite_sql`) read them
through :func:`load_suite_file` and report an :class:`Outcome`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.errors import MdmError

ROW_FAILURE_COLUMNS = ["row", "rule", "column", "value"]
LEVELS = frozenset({"row", "batch"})


class SuiteError(MdmError):
    """A suite file is malformed or a validation was asked for something the suite does not define."""


@dataclass
class Outcome:
    """The result of validating one frame against one suite.

    ``row_failures``: one row per (failing row, row-level rule); ``row`` is the 0-based position of
    the row in the validated frame (``frame.iloc[row]``), ``value`` the offending value.
    ``batch_failures``: one dict per failing batch-level expectation (or any expectation GX could not
    evaluate, e.g. on a missing column): ``expectation``, ``column``, ``observed``, ``detail``.
    """

    suite: str
    batch: str
    run_id: str
    success: bool
    row_failures: pd.DataFrame
    batch_failures: list[dict[str, Any]]
    statistics: dict[str, Any] = field(default_factory=dict)

    def failed_rows(self) -> list[int]:
        """Positions of the rows that failed at least one row-level rule, ascending."""
        return sorted(set(self.row_failures["row"].tolist()))


def no_row_failures() -> pd.DataFrame:
    """An empty row-failure frame (the columns of :attr:`Outcome.row_failures`)."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "object") for c in ROW_FAILURE_COLUMNS})


@dataclass(frozen=True)
class Suite:
    """A suite as loaded from its JSON file."""

    name: str
    path: Path
    parameters: dict[str, Any]
    spec: dict[str, Any]

    def values(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The suite parameters' values: the defaults overridden by ``params`` (unknown names are an error)."""
        unknown = set(params or {}) - set(self.parameters)
        if unknown:
            raise SuiteError(
                f"suite {self.name!r} has no parameters {sorted(unknown)}; it has {sorted(self.parameters)}"
            )
        return {**self.parameters, **(params or {})}


_Suite = Suite  # the former private name


def load_suite_file(path: Path) -> Suite:
    """Read and check one suite JSON file: its name matches the file, every expectation has a level
    (and a rule when row-level), and every suite parameter it uses has a default in ``meta.parameters``."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SuiteError(f"suite file {path}: cannot read: {e}") from e
    if not isinstance(spec, dict) or spec.get("name") != path.stem:
        raise SuiteError(f"suite file {path}: 'name' must be {path.stem!r}")
    params = spec.get("meta", {}).get("parameters", {})
    for i, exp in enumerate(spec.get("expectations", [])):
        where = f"suite file {path}, expectation {i} ({exp.get('type')})"
        meta = exp.get("meta", {})
        if meta.get("level") not in LEVELS:
            raise SuiteError(f"{where}: meta.level must be one of {sorted(LEVELS)}")
        if meta["level"] == "row" and not meta.get("rule"):
            raise SuiteError(f"{where}: a row-level expectation needs meta.rule")
        if meta["level"] == "row" and "mostly" in exp.get("kwargs", {}):
            raise SuiteError(f"{where}: a row-level expectation cannot have 'mostly' (every bad row is reported)")
        missing = _parameter_names(exp.get("kwargs", {})) - set(params)
        if missing:
            raise SuiteError(f"{where}: suite parameters {sorted(missing)} have no default in meta.parameters")
    if not spec.get("expectations"):
        raise SuiteError(f"suite file {path}: no expectations")
    return Suite(spec["name"], path, dict(params), spec)


def load_suites(suites_dir: Path) -> dict[str, Suite]:
    """Every suite of a folder by name; SuiteError when there is none."""
    files = sorted(Path(suites_dir).glob("*.json"))
    if not files:
        raise SuiteError(f"no suite files (*.json) in {suites_dir}")
    return {s.name: s for s in map(load_suite_file, files)}


def _parameter_names(value: Any) -> set[str]:
    """Names of the ``{"$PARAMETER": name}`` references inside a kwargs structure."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {str(value["$PARAMETER"])}
        return set().union(*(_parameter_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_parameter_names(v) for v in value)) if value else set()
    return set()


def resolve(value: Any, values: Mapping[str, Any]) -> Any:
    """A kwargs structure with every ``{"$PARAMETER": name}`` replaced by its value."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return values[str(value["$PARAMETER"])]
        return {k: resolve(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, values) for v in value]
    return value


def column_of(kwargs: Mapping[str, Any]) -> str | None:
    """The column (or comma-joined columns) an expectation's kwargs name."""
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return ",".join(map(str, kwargs["column_list"]))
    return None
