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

import logging
import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

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

from pipelines.gx_results import outcome_of  # noqa: E402
from pipelines.suite_files import (  # noqa: E402  (re-exported: the former home of these names)
    LEVELS,
    ROW_FAILURE_COLUMNS,
    Outcome,
    Suite,
    SuiteError,
    _Suite,
    load_suite_file,
    load_suites,
    no_row_failures,
)
from pipelines.suites import SUITES_DIR  # noqa: E402  (the suites, version-controlled JSON)

__all__ = [
    "LEVELS",
    "ROW_FAILURE_COLUMNS",
    "SUITES_DIR",
    "Outcome",
    "Suite",
    "SuiteError",
    "Validator",
    "_Suite",
    "load_suite_file",
]

RESULTS_SUBDIR = "_results"

_SITE = "local_site"
_DATASOURCE = "mdm"
_ASSET_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


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

    def __init__(self, suites_dir: Path = SUITES_DIR, docs_dir: Path | None = None, render_each: bool = True) -> None:
        """``render_each``: render each result's page (and the site's index) when it is stored; a caller
        that always ends with :meth:`build_docs`, which renders the same pages and index again, passes
        False and renders them once."""
        self.suites_dir = Path(suites_dir)
        self.docs_dir = Path(docs_dir) if docs_dir is not None else None
        self.render_each = render_each
        self.suites: dict[str, Suite] = load_suites(self.suites_dir)
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
            # A checkpoint per validation definition: it stores the result and, with a docs folder and
            # render_each, updates the Data Docs site as its action.
            actions: list[ValidationAction] = (
                [UpdateDataDocsAction(name="update_data_docs", site_names=[_SITE])]
                if self.docs_dir and self.render_each
                else []
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
                row_failures=no_row_failures(),
                batch_failures=[],
                statistics={"evaluated_expectations": 0, "rows": len(frame)},
            )
        values = self.suites[suite].values(params)
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
        return outcome_of(gx_suite, batch, run_id, result, len(frame), seconds)

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
