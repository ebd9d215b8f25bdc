"""What an incremental run carries from a source's last load (:mod:`pipelines.quality`).

A reused landing: its quarantine, quality metrics, identifier classes, load and suite results copied under
this run's id. A change-captured load: the tally of its base load's kept rows (kept with that landing, see
:func:`write_tally`) updated by the rows that left and came (:func:`changed_tally`), so the quality metrics
cost the change, not the source."""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd

from mdm import countries, registers
from mdm import identifiers as ids
from mdm import quality as dq
from pipelines import quality_sql
from pipelines import staged_rows as staged


def carry_over(
    con: duckdb.DuckDBPyConnection,
    source: str,
    prev_run: str,
    run_id: str,
    quarantine: list[pd.DataFrame],
    metrics: list[pd.DataFrame],
    classes: list[pd.DataFrame],
    loads: list[tuple],
    results: list[tuple],
) -> int:
    """Copy a reused load's validation outcome under this run's id; returns its quarantined rows."""
    params = {"r": prev_run, "s": source}
    quarantined = 0
    for target, table in ((quarantine, "quarantine"), (metrics, "quality_metrics"), (classes, "identifier_quality")):
        # Table names are constants of this function.
        frame = con.execute(f"SELECT * FROM {table} WHERE run_id = $r AND source = $s", params).df()
        frame["run_id"] = run_id
        target.append(frame)
        if table == "quarantine":
            quarantined = len(frame[["file", "line"]].drop_duplicates())
    for row in con.execute(
        'SELECT source, format, "table", rows, populated, fingerprint, watermarks FROM source_load '
        "WHERE run_id = $r AND source = $s",
        params,
    ).fetchall():
        loads.append((run_id, *row))
    for row in con.execute(
        "SELECT suite, batch, success, evaluated, failed_rows, detail FROM validation_result "
        "WHERE run_id = $r AND batch = $s",
        params,
    ).fetchall():
        results.append((run_id, *row))
    return quarantined


# -- quality metrics of a change-captured load, from its base load's tally ---------------------------------

TALLY_FILE = "_quality.json"  # in a landing folder: the tally of its rows that were kept (not quarantined)
# Bump when the meaning of a tally changes in a way the digested code below does not show.
METRICS_VERSION = 1
_METRICS_CODE = (dq, ids, registers, countries, quality_sql)
_GONE = "tmp_validate_gone"
_CHANGED = "tmp_validate_changed"


def metrics_key(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """What a tally depends on besides the rows: the version, the code of the rules (and of python-stdnum and
    pycountry, which they call) and the columns and types of the rows. A tally is carried only under the same key."""
    h = hashlib.sha256(f"v{METRICS_VERSION}".encode())
    for module in _METRICS_CODE:
        h.update(Path(inspect.getsourcefile(module) or "").read_bytes())
    for dist in ("python-stdnum", "pycountry"):
        h.update(f"{dist}={metadata.version(dist)}".encode())
    rel = con.table(relation)
    h.update(json.dumps([[c, str(t)] for c, t in zip(rel.columns, rel.types)]).encode())
    return h.hexdigest()


def write_tally(folder: Path | None, source: str, key: str, tally: quality_sql.Tally) -> None:
    """Keep the tally of a load's kept rows with its landing (``raw/<source>/`` of the run: published with it)."""
    if folder is None or not folder.is_dir():
        return
    tmp = folder / (TALLY_FILE + ".tmp")
    tmp.write_text(json.dumps({"source": source, "key": key, "tally": tally}, sort_keys=True), encoding="utf-8")
    tmp.replace(folder / TALLY_FILE)


def read_tally(folder: Path, source: str, key: str) -> quality_sql.Tally | None:
    """The tally kept with a landing, if it is that source's under the same key."""
    try:
        kept = json.loads((folder / TALLY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("source") != source or kept.get("key") != key:
        return None
    tally = kept.get("tally")
    return tally if isinstance(tally, dict) and isinstance(tally.get("rows"), int) else None


def carry_tally(base: Path, folder: Path | None) -> None:
    """A reused landing keeps its base load's tally (its kept rows are the same: the quarantine is carried)."""
    if folder is not None and folder.is_dir() and (base / TALLY_FILE).is_file():
        shutil.copyfile(base / TALLY_FILE, folder / TALLY_FILE)


def changed_tally(
    con: duckdb.DuckDBPyConnection, source: str, base: Path, base_run: str, base_tally: quality_sql.Tally
) -> quality_sql.Tally | None:
    """The tally of a change-captured load's kept rows from its base load's: less the base's kept rows that are
    no longer among the rows kept from it, plus the rows read again that passed. None when that does not hold.

    Exact because a tally is a sum over rows: the rows of this load that were not read again (not ``_checked``)
    are rows of the base landing, as they were (same data, file and line), and those not quarantined in the
    base load are among the base's kept rows. The base's kept rows whose file and line no unchecked kept row has
    are the ones that left (replaced or deleted). That every other base kept row is one of them is checked by
    count (kept rows of the base = rows that left + unchecked kept rows); else the caller counts every row."""
    files = sorted(str(p) for p in (base / "organization").glob("*.parquet"))
    if not files:
        return None
    staged_t, bad = staged.STAGED, "tmp_validate_bad"
    params = {"f": files, "r": base_run, "s": source}
    # Table names are constants of this module and of staged_rows; paths and values are bound.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE tmp_validate_stay AS SELECT src_file, src_line FROM {staged_t} "
        f"WHERE NOT _checked AND _row NOT IN (SELECT _row FROM {bad})"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_GONE} AS SELECT * FROM raw_organization LIMIT 0")
    con.execute(
        f"INSERT INTO {_GONE} SELECT b.* FROM read_parquet($f, hive_partitioning = false) b "
        "WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.run_id = $r AND q.source = $s "
        "  AND q.file = b.src_file AND q.line = b.src_line) "
        "AND NOT EXISTS (SELECT 1 FROM tmp_validate_stay u WHERE u.src_file = b.src_file AND u.src_line = b.src_line)",
        params,
    )
    gone = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE source IS DISTINCT FROM $s) FROM {_GONE}", {"s": source}
    )
    n_gone, foreign = gone.fetchall()[0]
    n_stay = con.execute("SELECT count(*) FROM tmp_validate_stay").fetchall()[0][0]
    con.execute("DROP TABLE tmp_validate_stay")
    if foreign or base_tally["rows"] != n_gone + n_stay:
        con.execute(f"DROP TABLE {_GONE}")
        return None
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {_CHANGED} AS SELECT * EXCLUDE (_row, _checked) FROM {staged_t} "
        f"WHERE _checked AND _row NOT IN (SELECT _row FROM {bad})"
    )
    try:
        empty: quality_sql.Tally = {"rows": 0}
        left = quality_sql.tally(con, _GONE).get(source, empty)
        came = quality_sql.tally(con, _CHANGED).get(source, empty)
    finally:
        con.execute(f"DROP VIEW {_CHANGED}")
        con.execute(f"DROP TABLE {_GONE}")
    return quality_sql.combine(quality_sql.combine(base_tally, left, -1), came)
