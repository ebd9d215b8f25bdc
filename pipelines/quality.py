"""The validation stage and the quality scorecard.

``validate_sources`` runs each source's Great Expectations suite over the rows it landed this run:
- row-level failures (no natural key, no name, a malformed date, ...) go to ``quarantine`` with the
  rule and the offending value, and those rows are not loaded; the run goes on;
- batch-level failures (row count far from the previous load, too many duplicate keys or missing
  names, a column the previous load filled now empty, ...) raise :class:`ValidationFailed` naming the
  source, the expectation and the observed value, so the run stops before publishing.
It also records per-source quality metrics (completeness, validity, uniqueness per attribute) and the
classification of identifiers, and renders Data Docs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines import quality_docs, quality_sql
from pipelines import staged_rows as staged
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.quality_carry import carry_over
from pipelines.quality_docs import DocsError, DocsJob, Sample
from pipelines.scorecard import Scorecard, scorecard
from pipelines.suite_files import Outcome, Suite, load_suites
from pipelines.suite_sql import evaluate
from pipelines.suites import SUITES, SUITES_DIR

__all__ = ["Scorecard", "ValidationFailed", "scorecard", "validate_outputs", "validate_sources"]

KEY_COLUMNS = {"organization": "source_id", "relationship": "child_id"}


class ValidationFailed(MdmError):
    """A batch-level expectation failed: the run stops and nothing is published."""


@dataclass
class ValidationReport:
    quarantined: int = 0
    suites: dict[str, Any] = field(default_factory=dict)
    docs: DocsJob | None = None  # the Data Docs still being rendered (``validate_sources(wait_docs=False)``)


@dataclass(frozen=True)
class PreviousLoad:
    """A source's last published load (its row in ``source_load``)."""

    run_id: str
    rows: int
    populated: list[str]  # canonical columns that had a value
    fingerprint: str | None  # of the source's input, None when it was not fingerprinted
    watermarks: dict[str, str]  # change-data-capture watermark token per query


def previous_loads(con: duckdb.DuckDBPyConnection) -> dict[str, PreviousLoad]:
    """source -> its last published load: the limits of validation compare with it, and an incremental
    run reuses its landing (same fingerprint) or reads the changes since its watermarks."""
    rows = con.execute(
        "SELECT source, run_id, rows, populated, fingerprint, watermarks FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY source ORDER BY run_id DESC) AS rn FROM source_load"
        ") WHERE rn = 1"
    ).fetchall()
    return {s: PreviousLoad(r, n, list(p), fp, json.loads(w) if w else {}) for s, r, n, p, fp, w in rows}


def _params(suite_params: dict[str, Any], limits: Any, previous: PreviousLoad | None) -> dict[str, Any]:
    p: dict[str, Any] = {"min_rows": limits.min_rows, "max_rows": None}
    if previous is not None and limits.max_row_count_change is not None:
        prev_rows = previous.rows
        p["min_rows"] = max(limits.min_rows, math.floor(prev_rows * (1 - limits.max_row_count_change)))
        p["max_rows"] = math.ceil(prev_rows * (1 + limits.max_row_count_change))
    p["unique_mostly"] = 1 - limits.max_duplicate_rate
    p["name_mostly"] = 1 - limits.max_name_null_rate
    return {k: v for k, v in p.items() if k in suite_params}


def _describe(source: str, f: dict[str, Any], where: str | None = None) -> str:
    col = f" on column {f['column']!r}" if f.get("column") else ""
    origin = f" ({where})" if where else ""
    return f"source '{source}'{origin}: expectation {f['expectation']}{col} failed: observed {f['observed']!r}" + (
        f" ({f['detail']})" if f.get("detail") else ""
    )


def _where(src: Any) -> str:
    """The file or (password-free) database URL a source reads."""
    if src.path is not None:
        return f"file {src.path}"
    from sqlalchemy.engine import make_url

    return f"database {make_url(src.url).render_as_string(hide_password=True)}"


def validate_sources(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    run_id: str,
    docs: Path,
    fingerprints: dict[str, str | None] | None = None,
    reused: dict[str, str] | None = None,
    watermarks: dict[str, dict[str, str]] | None = None,
    changes: dict[str, dict[str, Any]] | None = None,
    wait_docs: bool = True,
    records: int | None = None,
) -> ValidationReport:
    """Validate every source's landed rows (tables raw_*), quarantine bad rows, record metrics.

    Creates run_quarantine, run_quality, run_identifier_quality, run_source_load and run_validation in
    the staging database; raises ValidationFailed on any batch-level failure. A source whose landing was
    reused from an earlier load (``reused``: source -> that load's run id) passed validation then: its
    results, metrics and quarantine are carried over under this run's id instead of validated again.

    The suites are evaluated in DuckDB over every row (:mod:`pipelines.suite_sql`: GX's verdicts without
    holding a source in memory); Great Expectations itself validates a bounded sample of each source
    for the Data Docs, in a worker process while the stage goes on (:mod:`pipelines.quality_docs`). With
    ``wait_docs`` the Data Docs are written when this returns; else the caller waits for ``report.docs``
    (or cancels it). A validation failure waits for them before it is raised. ``records``: the number of
    landed records, which decides whether a worker is worth starting (:func:`pipelines.quality_docs.start`).
    """
    job = quality_docs.start(docs, run_id, records)
    try:
        report = _validate_sources(con, config, run_id, job, fingerprints, reused, watermarks, changes)
    except BaseException:
        job.cancel()  # no-op after a validation failure, which waited
        raise
    if wait_docs:
        job.wait()
    else:
        report.docs = job
    return report


def _validate_sources(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    run_id: str,
    job: DocsJob,
    fingerprints: dict[str, str | None] | None,
    reused: dict[str, str] | None,
    watermarks: dict[str, dict[str, str]] | None,
    changes: dict[str, dict[str, Any]] | None,
) -> ValidationReport:
    fingerprints = fingerprints or {}
    reused = reused or {}
    watermarks = watermarks or {}
    changes = changes or {}
    suites = load_suites(SUITES_DIR)
    previous = previous_loads(con)
    report = ValidationReport()
    failures: list[str] = []
    quarantine: list[pd.DataFrame] = []
    metrics: list[pd.DataFrame] = []
    classes: list[pd.DataFrame] = []
    loads: list[tuple] = []
    results: list[tuple] = []
    for src in config.sources:
        suite, table = SUITES[src.format]
        if src.name in reused:
            report.quarantined += carry_over(
                con, src.name, reused[src.name], run_id, quarantine, metrics, classes, loads, results
            )
            report.suites[src.name] = {"suite": suite, "success": True, "reused_from": reused[src.name]}
            continue
        cdc = changes.get(src.name) if table == "organization" else None
        staged.stage_rows(con, table, src.name, cdc["files"] if cdc is not None else None)
        limits = config.limits(src.name)
        prev = previous.get(src.name)
        params = _params(suites[suite].parameters, limits, prev)
        if cdc is not None:
            # A change-captured load: the rows kept from the base load passed the row rules then (their
            # quarantine is carried over); the rows read again are checked now; the batch as a whole.
            outcome, carried, carried_rows = _validate_changes(con, suites[suite], src.name, run_id, params, cdc)
            quarantine.append(carried)
        else:
            outcome = evaluate(con, suites[suite], staged.STAGED, batch=src.name, run_id=run_id, params=params)
            carried_rows = set()
        n_rows = outcome.statistics["rows"]
        populated = staged.populated(con)
        batch_failures = [_describe(src.name, f, _where(src)) for f in outcome.batch_failures]
        if limits.schema_drift and prev is not None and n_rows:
            lost = [c for c in prev.populated if c not in populated]
            if lost:
                batch_failures.append(
                    f"source '{src.name}' ({_where(src)}): schema drift: column(s) {', '.join(lost)} had values in the previous "
                    f"load (run {prev.run_id}) and are empty in this one"
                )
        failures += batch_failures
        rf = outcome.row_failures
        if len(rf):
            quarantine.append(staged.quarantined(con, rf, run_id, src.name, KEY_COLUMNS[table]))
        bad = set(outcome.failed_rows()) | carried_rows
        report.quarantined += len(bad)
        job.add(Sample(suite, src.name, staged.sample(con, bad), params, n_rows))
        if table == "organization" and n_rows > len(bad):
            staged.keep(con, bad)
            m = quality_sql.metrics(con, staged.KEPT)
            m.insert(0, "run_id", run_id)
            metrics.append(m)
            c = quality_sql.identifier_classes(con, staged.KEPT)
            c.insert(0, "run_id", run_id)
            classes.append(c)
        marks = watermarks.get(src.name)
        loads.append(
            (
                run_id,
                src.name,
                src.format,
                table,
                n_rows,
                populated,
                fingerprints.get(src.name),
                json.dumps(marks, sort_keys=True) if marks else None,
            )
        )
        results.append(
            (
                run_id,
                suite,
                src.name,
                not batch_failures,
                outcome.statistics.get("evaluated_expectations"),
                len(bad),
                json.dumps({"batch_failures": batch_failures}, ensure_ascii=False),
            )
        )
        report.suites[src.name] = {"suite": suite, "success": not batch_failures, "quarantined": len(bad)}
    staged.drop(con)
    if failures:
        _wait_then_fail(job, "validation failed; nothing was published:\n  " + "\n  ".join(failures))
    _store(
        con,
        "run_quarantine",
        quarantine,
        ["run_id", "source", "source_id", "file", "line", "rule", "column", "value"],
        "quarantine",
    )
    _store(con, "run_quality", metrics, None, "quality_metrics")
    _store(con, "run_identifier_quality", classes, None, "identifier_quality")
    con.execute("CREATE OR REPLACE TABLE run_source_load AS SELECT * FROM source_load LIMIT 0")
    con.executemany(
        "INSERT INTO run_source_load BY NAME SELECT ? AS run_id, ? AS source, ? AS format, "
        '? AS "table", ? AS rows, ?::VARCHAR[] AS populated, ? AS fingerprint, ? AS watermarks',
        loads,
    )
    con.execute("CREATE OR REPLACE TABLE run_validation AS SELECT * FROM validation_result LIMIT 0")
    con.executemany("INSERT INTO run_validation VALUES (?, ?, ?, ?, ?, ?, ?)", results)
    # Quarantined rows are not loaded.
    con.execute("""
        DELETE FROM raw_organization AS r USING run_quarantine AS q
        WHERE r.source = q.source AND r.src_file = q.file AND r.src_line = q.line""")
    con.execute("""
        DELETE FROM raw_relationship AS r USING run_quarantine AS q
        WHERE r.source = q.source AND r.src_file = q.file AND r.src_line = q.line""")
    return report


def _validate_changes(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    source: str,
    run_id: str,
    params: dict[str, Any],
    cdc: dict[str, Any],
) -> tuple[Outcome, pd.DataFrame, set[int]]:
    """Validate a change-captured load (the staged rows: the whole landing, ordered by file and line):
    the suite's row rules over the rows read again (``cdc['files']``, this run's parts, marked
    ``_checked``), its batch rules over the whole landing. The base load's quarantine entries of the
    rows kept from it are carried over. Returns an outcome whose row failures are positions in the
    landing, the carried quarantine entries and the positions of their rows."""
    rel = staged.STAGED
    batch = evaluate(con, suite, rel, batch=source, run_id=run_id, params=params, level="batch")
    n_checked = con.execute(f"SELECT count(*) FILTER (WHERE _checked) FROM {rel}").fetchall()[0][0]
    failures = batch.row_failures
    evaluated = batch.statistics["evaluated_expectations"]
    if n_checked:
        checked = evaluate(con, suite, rel, batch=source, run_id=run_id, params=params, level="row", checked="_checked")
        failures = checked.row_failures
        evaluated += checked.statistics["evaluated_expectations"]
    # Rows read again replace their old selves, whose old quarantine entries do not apply.
    base = {"base": cdc["base_load"], "s": source}
    carried = con.execute(
        f"SELECT q.* REPLACE ($run AS run_id) FROM quarantine q WHERE q.run_id = $base AND q.source = $s "
        f"AND EXISTS (SELECT 1 FROM {rel} l WHERE l.src_file = q.file AND l.src_line = q.line AND NOT l._checked)",
        {"run": run_id, **base},
    ).df()
    kept_bad = {
        int(r[0])
        for r in con.execute(
            f"SELECT l._row FROM {rel} l WHERE NOT l._checked AND EXISTS (SELECT 1 FROM quarantine q "
            "WHERE q.run_id = $base AND q.source = $s AND q.file = l.src_file AND q.line = l.src_line)",
            base,
        ).fetchall()
    }
    outcome = Outcome(
        suite=suite.name,
        batch=source,
        run_id=run_id,
        success=batch.success,
        row_failures=failures.reset_index(drop=True),
        batch_failures=batch.batch_failures,
        statistics={"evaluated_expectations": evaluated, "rows_checked": n_checked, "rows": batch.statistics["rows"]},
    )
    return outcome, carried, kept_bad


def _store(
    con: duckdb.DuckDBPyConnection, name: str, parts: list[pd.DataFrame], columns: list[str] | None, like: str
) -> None:
    """Create staging table ``name`` shaped like published table ``like`` and fill it with ``parts``."""
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {like} LIMIT 0")
    frames = [p for p in parts if len(p)]
    if not frames:
        return
    df = pd.concat(frames, ignore_index=True)
    if columns:
        df = df[columns]
    con.register("tmp_store", df)
    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM tmp_store")
    con.unregister("tmp_store")


# Output tables checked before publishing: (suite, staging table, its key, the rows an incremental run
# computed again). Names are constants, never input.
OUTPUTS = (
    (
        "organization_record",
        "new_organization_record",
        "rid",
        "rid IN (SELECT rid FROM run_changed) OR golden_id IN (SELECT golden_id FROM affected)",
    ),
    ("golden_organization", "new_golden_organization", "golden_id", "golden_id IN (SELECT golden_id FROM affected)"),
)


def validate_outputs(
    con: duckdb.DuckDBPyConnection, run_id: str, docs: Path, incremental: bool = False, job: DocsJob | None = None
) -> None:
    """Validate the run's standardised records and golden records before they are published.

    An incremental run validates the rows it computed again (the others passed when they were made) with
    the suites, and the key's uniqueness over the whole table. The suites are evaluated in DuckDB over
    every row (:mod:`pipelines.suite_sql`); Great Expectations validates a bounded sample for the Data Docs
    (in a worker process meanwhile, :mod:`pipelines.quality_docs`), written when this returns. ``job``: that
    worker, started by the caller earlier (``quality_docs.start(docs, run_id)``) so that it has imported GX
    by the time the samples come; else it is started here."""
    job = job or quality_docs.start(docs, run_id)
    try:
        _validate_outputs(con, run_id, job, incremental)
    except BaseException:
        job.cancel()  # no-op after a validation failure, which waited
        raise
    job.wait()


def _validate_outputs(con: duckdb.DuckDBPyConnection, run_id: str, job: DocsJob, incremental: bool) -> None:
    suites = load_suites(SUITES_DIR)
    failures: list[str] = []
    for suite, table, key, recomputed in OUTPUTS:
        # List columns are not checked by the suites (and make GX's batch hashing slow): leave them out.
        lists = [
            c
            for c, t in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t", {"t": table}
            ).fetchall()
            if t.endswith("[]")
        ]
        exclude = f" EXCLUDE ({', '.join(lists)})" if lists else ""
        where = f" WHERE {recomputed}" if incremental else ""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged.STAGED} AS SELECT *, "
            f"(row_number() OVER () - 1)::BIGINT AS _row, false AS _checked FROM (SELECT *{exclude} FROM {table}{where})"
        )
        params = {"min_rows": 0} if incremental else None
        outcome = evaluate(con, suites[suite], staged.STAGED, batch=suite, run_id=run_id, params=params)
        failures += [_describe(suite, f) for f in outcome.batch_failures]
        if len(outcome.row_failures):
            rf = outcome.row_failures.head(5)
            failures += [f"{suite}: rule {r.rule} failed on row {r.row} (value {r.value!r})" for r in rf.itertuples()]
        job.add(
            Sample(
                suite, suite, staged.sample(con, set(outcome.failed_rows())), params or {}, outcome.statistics["rows"]
            )
        )
        staged.drop(con)
        if incremental:
            rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchall()[0]
            if rows == 0 or rows != distinct:
                failures.append(
                    f"{suite}: {rows} rows, {distinct} distinct {key} values (expected at least one "
                    "row and unique keys)"
                )
    if failures:
        _wait_then_fail(job, "output validation failed; nothing was published:\n  " + "\n  ".join(failures))


def _wait_then_fail(job: DocsJob, message: str) -> None:
    """Raise :class:`ValidationFailed` once the Data Docs that show the failure are written (a failure to
    write them is added to the message: the validation failure is what the run reports)."""
    try:
        job.wait()
    except DocsError as e:
        message += f"\n  (and its Data Docs could not be written: {str(e).splitlines()[0]})"
    raise ValidationFailed(message)
