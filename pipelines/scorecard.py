"""The quality scorecard of the latest published run (``mdm quality``), against the run before it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.sandbox import open_readonly


@dataclass
class Scorecard:
    run_id: str | None
    previous_run_id: str | None
    metrics: pd.DataFrame  # source, attribute, rows, completeness, validity, uniqueness, d_* (change)
    identifiers: pd.DataFrame  # source, attribute, class, rows
    quarantine: pd.DataFrame  # source, rule, rows
    issues: pd.DataFrame  # source, code, rows
    validations: pd.DataFrame  # suite, batch, success, failed_rows
    docs: Path | None


def scorecard(config: Config) -> Scorecard:
    """The quality of the latest published run, with the change against the run before it."""
    from pipelines.warehouse import Warehouse, query_sql

    wh = Warehouse(config.warehouse)
    if not wh.exists():
        raise MdmError(f"no warehouse at {wh.db_path}: run `mdm run --config {config.config_path}` first")
    con = open_readonly(wh.db_path)
    try:
        runs = [
            r[0]
            for r in con.execute(
                "SELECT run_id FROM run_log WHERE stage = 'publish' AND status = 'success' "
                "ORDER BY finished_at DESC LIMIT 2"
            ).fetchall()
        ]
        latest = runs[0] if runs else None
        prev = runs[1] if len(runs) > 1 else None
        params = {"run": latest, "prev": prev}
        frames = {
            name: query_sql(con, f"marts/scorecard_{name}", params).df()
            for name in ("metrics", "identifiers", "quarantine", "issues", "validations")
        }
    finally:
        con.close()
    docs = wh.root / "docs" / "index.html"
    return Scorecard(
        latest,
        prev,
        frames["metrics"],
        frames["identifiers"],
        frames["quarantine"],
        frames["issues"],
        frames["validations"],
        docs if docs.exists() else None,
    )
