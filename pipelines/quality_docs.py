"""Great Expectations' Data Docs of a validate stage, from a bounded sample of each source.

The verdicts of the stage come from the SQL evaluation of the suites over every row
(:mod:`pipelines.suite_sql`); Great Expectations validates a sample of each source (its first rows
and its failed rows, :func:`pipelines.staged_rows.sample`) so the Data Docs show the suites and
results with real rows, without holding a whole source in memory. When the sample is the whole
source, GX sees exactly what the SQL evaluation saw; otherwise the table-level bounds (row count) are
not applied to the sample, which stands for the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Sample:
    suite: str
    source: str
    frame: pd.DataFrame  # the sampled rows
    params: dict[str, Any]  # the suite parameters of the source's load
    rows: int  # rows of the whole source


def document(docs: Path, run_id: str, samples: list[Sample]) -> None:
    """Validate each sample with Great Expectations (imported here only) and render the Data Docs."""
    from pipelines.validation import Validator

    validator = Validator(docs_dir=docs)
    for s in samples:
        params = dict(s.params)
        if len(s.frame) < s.rows:  # a sample: the row-count bounds are the whole source's
            params.update({k: v for k, v in (("min_rows", 0), ("max_rows", None)) if k in params})
        validator.validate(s.suite, s.frame, batch=s.source, run_id=run_id, params=params)
    validator.build_docs()
