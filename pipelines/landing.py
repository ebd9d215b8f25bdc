"""Landing: one source through its adapter into Parquet parts under ``raw/<source>/`` of a run's staging folder.

How a source lands is its plan's (:class:`pipelines.plan.SourcePlan`): ``read`` parses it, ``reuse``
hard-links the landing of its last load (same fingerprint) with that load's warnings, and ``changes``
reads only the rows of a database updated since the last load's watermarks plus, unless a count of distinct
keys shows that nothing was deleted (:mod:`pipelines.adapters.sql_deletions`), the keys of all rows, then
completes the landing from the last one. Adapters stream their source in batches of the source's
``chunk_size`` rows and every batch is written as its own Parquet part, so memory is bounded by a batch
whatever the size of the source. No database is touched, so sources can land in parallel; this module
imports only what landing needs, so a worker process starts quickly.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mdm.schema import TABLES, arrow_schema
from pipelines import landing_merge
from pipelines.adapters import ExtractContext, conform, get_adapter
from pipelines.config import Config
from pipelines.crypto import cipher_for
from pipelines.errors import MdmError, SourceError, WarningLog
from pipelines.fileperms import owner_only
from pipelines.landing_merge import KEYS_DIR, NO_DELETIONS, Merger, link

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]  # (message, done, total)
Issue = tuple[Any, ...]
LANDED = "_landed.json"  # written last into raw/<source>/: the source's landing is complete


@dataclass(frozen=True)
class LandingJob:
    """What landing one source needs (picklable, so a worker process can land it): the run's config,
    the source's plan and the folders."""

    config: Config
    source: str
    mode: str  # the plan's mode for the source: read, reuse or changes
    base_load: str | None
    since: dict[str, str]
    staging: Path  # the run's staging folder (raw/<source>/ is written in it)
    warehouse: Path  # the warehouse root (earlier loads' landings are under raw/ there)
    run_id: str


def land_source(job: LandingJob, progress: Progress | None = None) -> dict[str, Any]:
    """Land one source into ``raw/<name>/`` of the staging folder as the plan says, and nothing else: no
    database is touched, so sources can land in parallel (one Airflow task or worker process each).
    Idempotent: the folder is wiped first, and ``_landed.json`` (counts, warnings, watermarks) is written last."""
    name = job.source
    src = next(s for s in job.config.sources if s.name == name)
    raw_root = job.staging / "raw"
    folder = raw_root / name
    shutil.rmtree(folder, ignore_errors=True)
    files: dict[str, list[str]] = {t: [] for t in TABLES}
    issues: list[Issue] = []
    landed: dict[str, Any] = {"source": name, "mode": job.mode, "watermarks": {}, "changes": None}
    landing = job.warehouse / "raw" / name / f"load={job.base_load}"
    if job.mode == "reuse":
        landed["rows"] = _link_landing(landing, folder, files)
        landed["reused_issues"] = True
    else:
        ectx = ExtractContext(src, WarningLog(), since=dict(job.since), cipher=cipher_for(job.config))
        merger = Merger(job.since, landing, folder, files) if job.mode == "changes" else None
        if merger is not None:
            ectx.key_count = partial(landing_merge.key_count, landing, folder, files)
        try:
            landed["rows"] = _extract_source(ectx, job.run_id, progress, raw_root, files, issues, merger)
        except BaseException:
            if merger is not None:
                merger.abandon()  # no merge writes into the folder once the landing failed
            raise
        landed["watermarks"] = dict(ectx.watermarks)
        if merger is not None:
            # The organisation rows read again (validate checks the row rules on them only).
            landed["changes"] = {
                "base_load": job.base_load,
                "since": job.since,
                "changed_rows": landed["rows"],
                "files": list(files["organization"]),
            }
            merged = merger.finish()
            landed["rows"] = merged["rows"]
            # Only the rows read again that differ from the last landing are new: validate checks those.
            landed["changes"] |= {
                "files": merged["files"],
                "unchanged_rows": merged["unchanged"],
                "linked_parts": merged["linked"],
                "counted_tables": merged["counted"],
            }
    landed["issues"] = [list(i[1:]) for i in issues]  # the run id is added when loaded
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (LANDED + ".tmp")
    tmp.write_text(json.dumps(landed, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(folder / LANDED)
    return {k: landed[k] for k in ("source", "mode", "rows")}


def land_apart(job: LandingJob) -> str | None:
    """:func:`land_source` in a worker process; returns None, or the error's text (not the error: the
    source is landed again in the stage's own process, which raises it as it is)."""
    owner_only()  # the landing is customer data, as in the run's own process
    try:
        land_source(job)
    except Exception as e:  # reported by landing it again in the stage's process
        return f"{type(e).__name__}: {e}"
    return None


def _extract_source(
    ectx: ExtractContext,
    run_id: str,
    progress: Progress | None,
    raw_root: Path,
    files: dict[str, list[str]],
    issues: list[Issue],
    merger: Merger | None = None,
) -> int:
    """Land the adapter's batches of one source; returns its organisation rows. A changes-only read's table is
    handed to ``merger`` as soon as its keys are complete (the adapter yields a query's changed rows, then its
    marker or its keys): the marker, or the first batch of another table after its keys."""
    src = ectx.source
    adapter = get_adapter(src.format)
    n_org = 0
    part = 0
    keys_of: str | None = None  # the table whose keys are arriving
    try:
        for batch in adapter(ectx):
            if keys_of is not None and batch.table != keys_of:
                assert merger is not None
                merger.table_done(keys_of)
                keys_of = None
            # The keys of every row of a changes-only read (see :func:`pipelines.landing_merge.merge_table`).
            if batch.keys_only:
                out = raw_root / src.name / KEYS_DIR / batch.table / f"part-{part:05d}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                if batch.no_deletions:  # no key was deleted: no keys follow
                    (out.parent / NO_DELETIONS).touch()
                    if merger is not None:
                        merger.table_done(batch.table)
                    continue
                keys = pa.schema([(c, pa.string()) for c in batch.frame.columns])  # natural keys are text
                pq.write_table(pa.Table.from_pandas(batch.frame, schema=keys, preserve_index=False), out)
                part += 1
                keys_of = batch.table if merger is not None else None
                continue
            if merger is not None and merger.merging(batch.table):
                raise RuntimeError(f"rows of {batch.table} after its keys (adapter {src.format})")
            frame = conform(batch.table, batch.frame, ectx)
            if frame.empty:
                continue
            out = raw_root / src.name / batch.table / f"part-{part:05d}.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                pa.Table.from_pandas(frame, schema=arrow_schema(batch.table), preserve_index=False),
                out,
                compression="zstd",
            )
            files[batch.table].append(str(out))
            part += 1
            if batch.table == "organization":
                n_org += len(frame)
            if progress:
                progress(f"extract {src.name}", n_org, None)
    except MdmError:
        raise
    except Exception as e:  # an adapter bug or an unforeseen input: still name the source
        log.debug("adapter failure", exc_info=True)
        raise SourceError(
            f"cannot read: {type(e).__name__}: {e}", source=src.name, file=str(src.path or src.url)
        ) from e
    if keys_of is not None and merger is not None:
        merger.table_done(keys_of)
    for w in ectx.warnings.items:
        issues.append((run_id, w.source, w.file, w.line, w.key, w.code, w.message))
    hidden = ectx.warnings.total - len(ectx.warnings.items)
    if hidden > 0:
        issues.append(
            (
                run_id,
                src.name,
                None,
                None,
                None,
                "more_warnings",
                f"{hidden} more warnings not listed ({ectx.warnings.counts})",
            )
        )
    return n_org


def _link_landing(landing: Path, target: Path, files: dict[str, list[str]]) -> int:
    """Hard-link a previous load's Parquet landing into this run; returns its organisation rows."""
    n_org = 0
    for part in sorted(landing.rglob("*.parquet")):
        table = part.parent.name
        dest = target / table / part.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        link(part, dest)
        files[table].append(str(dest))
        if table == "organization":
            n_org += pq.ParquetFile(dest).metadata.num_rows
    return n_org
