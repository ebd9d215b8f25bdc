"""Great Expectations' validation results turned into what the runner needs (:class:`Outcome`).

Row-level expectations give one row failure per unexpected row; batch-level ones (and any expectation
GX could not evaluate) a described batch failure. :mod:`pipelines.suite_sql` describes its batch
failures with :func:`describe_map` and :func:`describe_observed`, so both read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pipelines.suite_files import Outcome, column_of, no_row_failures


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


def describe_observed(observed: Any, kwargs: Mapping[str, Any], mismatch: Any = None) -> str:
    """The detail of a failing expectation judged by an observed value (row count, column set)."""
    detail = f"observed {observed!r}; expected {dict(kwargs)}"
    if mismatch:
        detail += f"; mismatched {mismatch}"
    return detail


def describe_map(
    kind: str, kwargs: Mapping[str, Any], unexpected: int | None, elements: int | None, percent: float | None
) -> str:
    """The detail of a failing column map expectation judged with ``mostly``."""
    rest = {k: v for k, v in kwargs.items() if k != "mostly"}
    # GX reports unexpected_percent over the rows the expectation looked at: all rows for a not-null
    # check, the non-null ones for the others.
    base = "rows" if kind == "expect_column_values_to_not_be_null" else "non-null values"
    return (
        f"{unexpected} of {elements} values unexpected "
        f"({percent if percent is None else f'{percent:.4g}'}% of {base}); mostly={kwargs.get('mostly', 1.0)}"
        + (f"; {rest}" if rest else "")
    )


def _batch_failure(res: Any) -> dict[str, Any]:
    """Describe a failing (or unevaluable) batch-level expectation."""
    cfg = res.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("column", "column_list", "batch_id")}
    r = res.result or {}
    error = _error(res)
    if error:
        return {
            "expectation": cfg.type,
            "column": column_of(cfg.kwargs),
            "observed": None,
            "detail": f"could not be evaluated: {error}",
        }
    if "observed_value" in r:
        observed = r["observed_value"]
        detail = describe_observed(observed, kwargs, (r.get("details") or {}).get("mismatched"))
    else:  # a column map expectation judged with ``mostly``
        observed = r.get("unexpected_percent")
        detail = describe_map(cfg.type, kwargs, r.get("unexpected_count"), r.get("element_count"), observed)
    return {"expectation": cfg.type, "column": column_of(cfg.kwargs), "observed": observed, "detail": detail}


def outcome_of(suite: str, batch: str, run_id: str, result: Any, rows: int, seconds: float) -> Outcome:
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
                        "column": column_of(cfg.kwargs),
                        "value": pd.Series([_plain(v) for v in values], dtype="object"),
                    }
                )
            )
        elif not res.success or errored:
            batch_failures.append(_batch_failure(res))
    row_failures = (
        pd.concat(row_parts, ignore_index=True).sort_values(["row", "rule"], kind="stable").reset_index(drop=True)
        if row_parts
        else no_row_failures()
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
