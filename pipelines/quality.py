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
from pipelines.quality_carry import carry_over, carry_tally, changed_tally, metrics_key, read_tally, write_tally
from pipelines.quality_changes import validate_changes
from pipelines.quality_docs import DocsError, DocsJob, Sample
from pipelines.scorecard import Scorecard, scorecard
from pipelines.suite_files import load_suites
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
    landings: Path | None = None,
    published: Path | None = None,
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
    ``landings``: the run's landing folders (``raw/``), where each source's tally is kept for the next run;
    ``published``: the warehouse's (``<warehouse>/raw``), where the last loads' tallies are.
    """
    job = quality_docs.start(docs, run_id, records)
    try:
        report = _validate_sources(
            con, config, run_id, job, fingerprints, reused, watermarks, changes, landings, published
        )
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
    landings: Path | None = None,
    published: Path | None = None,
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
            if landings is not None and published is not None:
                carry_tally(published / src.name / f"load={reused[src.name]}", landings / src.name)
            continue
        cdc = changes.get(src.name) if table == "organization" else None
        staged.stage_rows(con, table, src.name, cdc["files"] if cdc is not None else None)
        limits = config.limits(src.name)
        prev = previous.get(src.name)
        params = _params(suites[suite].parameters, limits, prev)
        if cdc is not None:
            # A change-captured load: the rows kept from the base load passed the row rules then (their
            # quarantine is carried over); the rows read again are checked now; the batch as a whole.
            outcome, carried, carried_rows = validate_changes(con, suites[suite], src.name, run_id, params, cdc)
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
            m, c = _metrics(con, src.name, cdc, landings, published)
            m.insert(0, "run_id", run_id)
            metrics.append(m)
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


def _metrics(
    con: duckdb.DuckDBPyConnection,
    source: str,
    cdc: dict[str, Any] | None,
    landings: Path | None,
    published: Path | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quality metrics and identifier classes of the source's kept rows (``staged.KEPT``). A change-captured
    load updates its base load's tally by the rows that left and came (exact, see
    :func:`pipelines.quality_carry.changed_tally`) when that tally is there under the same key; else (a first
    or full read, other code or columns) every kept row is counted. The tally is kept with the landing."""
    key = metrics_key(con, staged.KEPT)
    tally = None
    if cdc is not None and published is not None:
        base = published / source / f"load={cdc['base_load']}"
        base_tally = read_tally(base, source, key)
        if base_tally is not None:
            tally = changed_tally(con, source, base, cdc["base_load"], base_tally)
    tallies = {source: tally} if tally is not None else quality_sql.tally(con, staged.KEPT)
    if source in tallies:
        write_tally(landings / source if landings is not None else None, source, key, tallies[source])
    return quality_sql.finish_metrics(con, staged.KEPT, tallies), quality_sql.finish_classes(tallies)


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
