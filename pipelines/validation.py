"""Data-quality validation of pipeline frames with Great Expectations (GX Core 1.x).

The suites are version-controlled JSON under ``expectations/suites/`` (one file per suite, reviewed
like code); this module loads them into an ephemeral GX context (nothing is written into the repo at
run time), validates pandas frames against them and turns GX's results into what the runner needs:

- **row-level** expectations (``meta.level == "row"``, with a ``meta.rule`` name) say which rows are
  bad: every unexpected row becomes a row of :attr:`Outcome.row_failures` (``row``, ``rule``,
  ``column``, ``value``), so the loader can reject or flag exactly those rows;
- **batch-level** expectations (``meta.level == "batch"``) judge the batch as a whole (row count,
  key uniqueness and not-null rates with ``mostly``, the column set); :attr:`Outcome.success` is true
  when all of them pass, and each failing one is described in :attr:`Outcome.batch_failures`.

Suites use suite parameters (``{"$PARAMETER": "min_rows"}``) for thresholds the runner decides per
load (row-count bounds from the previous load, ``mostly`` rates); each suite's ``meta.parameters``
holds their defaults, which ``validate(params=...)`` overrides.

With a ``docs_dir``, every validation result is kept as JSON under ``<docs_dir>/_results`` and
:meth:`Validator.build_docs` renders Data Docs (``<docs_dir>/index.html``) over all of them, also
those stored by other processes (e.g. earlier Airflow tasks of the same run).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.errors import MdmError
from pipelines.offline_docs import localise_docs

# GX reads this when it is imported; no usage statistics leave the machine.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# GX logs its registrations and every store/site operation at DEBUG/INFO, from import time on.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

import great_expectations as gx  # noqa: E402
from great_expectations.checkpoint.actions import UpdateDataDocsAction, ValidationAction  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier  # noqa: E402
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402

from pipelines.suites import SUITES_DIR  # noqa: E402  (the suites, version-controlled JSON)

RESULTS_SUBDIR = "_results"
ROW_FAILURE_COLUMNS = ["row", "rule", "column", "value"]
LEVELS = frozenset({"row", "batch"})

_SITE = "local_site"
_DATASOURCE = "mdm"
_ASSET_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


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


@dataclass(frozen=True)
class _Suite:
    """A suite as loaded from its JSON file."""

    name: str
    path: Path
    parameters: dict[str, Any]
    spec: dict[str, Any]


def load_suite_file(path: Path) -> _Suite:
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
    return _Suite(spec["name"], path, dict(params), spec)


def _parameter_names(value: Any) -> set[str]:
    """Names of the ``{"$PARAMETER": name}`` references inside a kwargs structure."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {str(value["$PARAMETER"])}
        return set().union(*(_parameter_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_parameter_names(v) for v in value)) if value else set()
    return set()


def _context(docs_dir: Path | None) -> Any:
    """An ephemeral GX context: in-memory stores, no analytics, no progress bars; with ``docs_dir``,
    validation results persist under it and the Data Docs site is written there."""
    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores = dict(defaults.stores)
    sites: dict[str, Any] = {}
    if docs_dir is not None:
        stores[defaults.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / RESULTS_SUBDIR),
            },
        }
        sites[_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


class Validator:
    """Validates pandas frames against the JSON suites; one ephemeral GX context per instance."""

    def __init__(self, suites_dir: Path = SUITES_DIR, docs_dir: Path | None = None) -> None:
        self.suites_dir = Path(suites_dir)
        self.docs_dir = Path(docs_dir) if docs_dir is not None else None
        files = sorted(self.suites_dir.glob("*.json"))
        if not files:
            raise SuiteError(f"no suite files (*.json) in {self.suites_dir}")
        self.suites: dict[str, _Suite] = {s.name: s for s in map(load_suite_file, files)}
        if self.docs_dir is not None:
            self.docs_dir.mkdir(parents=True, exist_ok=True)
        self._ctx = _context(self.docs_dir)
        self._gx_suites: dict[str, Any] = {}
        for s in self.suites.values():
            exps: list[tuple[str, Any]] = []
            for i, e in enumerate(s.spec["expectations"]):
                try:
                    exps.append(
                        (
                            e["meta"]["level"],
                            ExpectationConfiguration(
                                type=e["type"], kwargs=e.get("kwargs", {}), meta=e.get("meta"), notes=e.get("notes")
                            ).to_domain_obj(),
                        )
                    )
                except Exception as err:  # unknown type or invalid kwargs: name the file and expectation
                    raise SuiteError(
                        f"suite file {s.path}, expectation {i} ({e.get('type')}): {type(err).__name__}: {err}"
                    ) from err
            # The whole suite, and one part per level (`<suite>.row`, `<suite>.batch`) for loads whose rows
            # are checked apart from the whole batch (see validate's ``level``).
            for name, level in ((s.name, None), *((f"{s.name}.{lv}", lv) for lv in sorted(LEVELS))):
                part = [x.copy() for lv, x in exps if level in (None, lv)]
                if part:
                    suite = gx.ExpectationSuite(
                        name=name, expectations=part, meta=s.spec.get("meta"), notes=s.spec.get("notes")
                    )
                    self._gx_suites[name] = self._ctx.suites.add(suite)
        self._datasource = self._ctx.data_sources.add_pandas(_DATASOURCE)
        self._definitions: dict[tuple[str, str], Any] = {}
        self._results: list[Any] = []  # identifiers of the results this validator stored

    def _checkpoint(self, suite: str, asset_name: str) -> Any:
        """The checkpoint validating (suite, batch asset), created on first use."""
        key = (suite, asset_name)
        if key not in self._definitions:
            try:
                asset = self._datasource.get_asset(asset_name)
            except LookupError:
                asset = self._datasource.add_dataframe_asset(asset_name)
            try:
                batch_def = asset.get_batch_definition("whole")
            except KeyError:
                batch_def = asset.add_batch_definition_whole_dataframe("whole")
            vd = gx.ValidationDefinition(name=f"{suite}:{asset_name}", data=batch_def, suite=self._gx_suites[suite])
            vd = self._ctx.validation_definitions.add(vd)
            # A checkpoint per validation definition: it stores the result and, with a docs folder,
            # updates the Data Docs site as its action.
            actions: list[ValidationAction] = (
                [UpdateDataDocsAction(name="update_data_docs", site_names=[_SITE])] if self.docs_dir else []
            )
            checkpoint = gx.Checkpoint(
                name=f"checkpoint:{suite}:{asset_name}",
                validation_definitions=[vd],
                actions=actions,
                result_format={"result_format": "COMPLETE"},
            )
            self._definitions[key] = self._ctx.checkpoints.add(checkpoint)
        return self._definitions[key]

    def validate(
        self,
        suite: str,
        frame: pd.DataFrame,
        *,
        batch: str,
        run_id: str,
        params: Mapping[str, Any] | None = None,
        level: str | None = None,
    ) -> Outcome:
        """Validate ``frame`` against ``suite``; ``batch`` names the data (e.g. the source) in results and
        Data Docs, ``run_id`` groups the results of one pipeline run, ``params`` override the suite's
        parameter defaults (unknown names are an error, to catch typos). ``level`` (row or batch) runs
        only the suite's expectations of that level."""
        if suite not in self.suites:
            raise SuiteError(f"unknown suite {suite!r}; suites are {', '.join(sorted(self.suites))}")
        if level is not None and level not in LEVELS:
            raise SuiteError(f"unknown level {level!r}; levels are {', '.join(sorted(LEVELS))}")
        gx_suite = suite if level is None else f"{suite}.{level}"
        if gx_suite not in self._gx_suites:  # a suite without expectations of that level
            return Outcome(
                suite=gx_suite,
                batch=batch,
                run_id=run_id,
                success=True,
                row_failures=pd.DataFrame(
                    {c: pd.Series(dtype="int64" if c == "row" else "object") for c in ROW_FAILURE_COLUMNS}
                ),
                batch_failures=[],
                statistics={"evaluated_expectations": 0, "rows": len(frame)},
            )
        spec = self.suites[suite]
        unknown = set(params or {}) - set(spec.parameters)
        if unknown:
            raise SuiteError(f"suite {suite!r} has no parameters {sorted(unknown)}; it has {sorted(spec.parameters)}")
        values = {**spec.parameters, **(params or {})}
        if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1):
            frame = frame.reset_index(drop=True)  # GX reports index labels; make them positions
        asset_name = _ASSET_UNSAFE.sub("_", batch) or "batch"
        t0 = time.perf_counter()
        checkpoint_result = self._checkpoint(gx_suite, asset_name).run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=values,
            run_id=RunIdentifier(run_name=run_id, run_time=datetime.now(UTC)),
        )
        ((key, result),) = checkpoint_result.run_results.items()
        self._results.append(key)
        seconds = time.perf_counter() - t0
        return _outcome(gx_suite, batch, run_id, result, len(frame), seconds)

    def build_docs(self) -> Path | None:
        """Render the Data Docs of this validator's results and suites, and the index of every stored
        result (pages of earlier results are on disk already: rendered when they were stored, or seeded
        from the published site); returns ``<docs_dir>/index.html`` (None without a docs_dir)."""
        if self.docs_dir is None:
            return None
        suites = [ExpectationSuiteIdentifier(name=name) for name in self._gx_suites]
        self._ctx.build_data_docs(site_names=[_SITE], resource_identifiers=[*self._results, *suites])
        localise_docs(self.docs_dir)  # vendored assets instead of CDN links: the site works offline
        return self.docs_dir / "index.html"


def _column(kwargs: Mapping[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return ",".join(map(str, kwargs["column_list"]))
    return None


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: NaN/NA -> None."""
    try:
        if value is not None and not isinstance(value, (list, dict)) and pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _error(res: Any) -> str | None:
    """The exception message of an expectation GX could not evaluate, else None.

    GX 1.x reports ``exception_info`` either flat (``{"raised_exception": ...}``) or, when a metric
    failed, as a dict keyed by metric id whose values have that shape.
    """
    info = res.exception_info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = sorted({str(e.get("exception_message")) for e in entries if e.get("raised_exception")})
    return "; ".join(messages) if messages else None


def _batch_failure(res: Any) -> dict[str, Any]:
    """Describe a failing (or unevaluable) batch-level expectation."""
    cfg = res.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("column", "column_list", "batch_id")}
    r = res.result or {}
    error = _error(res)
    if error:
        return {
            "expectation": cfg.type,
            "column": _column(cfg.kwargs),
            "observed": None,
            "detail": f"could not be evaluated: {error}",
        }
    if "observed_value" in r:
        observed = r["observed_value"]
        detail = f"observed {observed!r}; expected {kwargs}"
        mismatch = (r.get("details") or {}).get("mismatched")
        if mismatch:
            detail += f"; mismatched {mismatch}"
    else:  # a column map expectation judged with ``mostly``
        observed = r.get("unexpected_percent")
        rest = {k: v for k, v in kwargs.items() if k != "mostly"}
        # GX reports unexpected_percent over the rows the expectation looked at: all rows for a not-null
        # check, the non-null ones for the others.
        base = "rows" if cfg.type == "expect_column_values_to_not_be_null" else "non-null values"
        detail = (
            f"{r.get('unexpected_count')} of {r.get('element_count')} values unexpected "
            f"({observed if observed is None else f'{observed:.4g}'}% of {base}); mostly={kwargs.get('mostly', 1.0)}"
            + (f"; {rest}" if rest else "")
        )
    return {"expectation": cfg.type, "column": _column(cfg.kwargs), "observed": observed, "detail": detail}


def _outcome(suite: str, batch: str, run_id: str, result: Any, rows: int, seconds: float) -> Outcome:
    """Split a GX suite result into row failures and batch failures."""
    row_parts: list[pd.DataFrame] = []
    batch_failures: list[dict[str, Any]] = []
    for res in result.results:
        cfg = res.expectation_config
        level = cfg.meta.get("level")
        errored = _error(res) is not None
        if level == "row" and not errored:
            if res.success:
                continue
            r = res.result
            index = r.get("unexpected_index_list") or []
            values = r.get("unexpected_list") or []
            row_parts.append(
                pd.DataFrame(
                    {
                        "row": pd.Series(index, dtype="int64"),
                        "rule": cfg.meta["rule"],
                        "column": _column(cfg.kwargs),
                        "value": pd.Series([_plain(v) for v in values], dtype="object"),
                    }
                )
            )
        elif not res.success or errored:
            batch_failures.append(_batch_failure(res))
    row_failures = (
        pd.concat(row_parts, ignore_index=True).sort_values(["row", "rule"], kind="stable").reset_index(drop=True)
        if row_parts
        else pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "object") for c in ROW_FAILURE_COLUMNS})
    )
    stats = dict(result.statistics)
    stats.update(
        {
            "rows": rows,
            "row_failures": len(row_failures),
            "failed_rows": int(row_failures["row"].nunique()),
            "batch_failures": len(batch_failures),
            "seconds": round(seconds, 3),
        }
    )
    return Outcome(
        suite=suite,
        batch=batch,
        run_id=run_id,
        success=not batch_failures,
        row_failures=row_failures,
        batch_failures=batch_failures,
        statistics=stats,
    )
