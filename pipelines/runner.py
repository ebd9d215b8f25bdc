"""The one runner that both ``mdm run`` and the Airflow DAG call.

A run is a sequence of stages (:data:`STAGES`). Each stage reads and writes the run's private staging
folder ``<warehouse>/.runs/<run_id>/`` (a copy of the published DuckDB file plus Parquet landings), so
the stages can run in one process (``mdm run``) or as separate Airflow tasks. Only ``publish`` touches
the published warehouse, atomically: a run that fails anywhere leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import secrets
import shutil
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mdm import clustering, golden_ids, matching, survivorship
from mdm.scoring import FellegiSunter
from mdm.schema import TABLES, arrow_schema
from mdm.standardise import IDENTITY_COLUMNS, STANDARDISE_VERSION, identity_keys, standardise_records
from pipelines.adapters import ExtractContext, conform, get_adapter
from pipelines.config import Config, load_config
from pipelines.crypto import cipher_for, protect_overrides
from pipelines.decisions import read_decisions, read_overrides
from pipelines.errors import MdmError, SourceError, WarningLog
from pipelines.stages import STAGES
from pipelines.warehouse import Warehouse, query_sql, run_sql, sql_text

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
# An incremental run re-matches at most this share of the records; beyond it the model is retrained.
INCREMENTAL_MAX_SHARE = 0.2
# sql/golden/<step>.sql files run at publish after the run's tables are swapped in (parameters $run, $now).
GOLDEN_STEPS: tuple[str, ...] = ("history", "hierarchy", "financials")
WORK_DB = "work.duckdb"
# Where a changes-only read of a database source lands the keys of all its rows (removed after the merge).
KEYS_DIR = "_keys"
XREF_COLUMNS = ("source", "source_id", "golden_id", "rid", "match_rule", "id_origin", "cluster_key", "run_id")

Progress = Callable[[str, int, int | None], None]  # (message, done, total)


class RunError(MdmError):
    """A stage failed; the message says which and why."""


@dataclass
class StageResult:
    stage: str
    rows_in: int
    rows_out: int
    status: str = "success"
    started_at: str = ""
    finished_at: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "rows_in": self.rows_in, "rows_out": self.rows_out, "status": self.status,
                "started_at": self.started_at, "finished_at": self.finished_at, "detail": self.detail}


@dataclass
class RunSummary:
    run_id: str
    warehouse: Path
    stages: list[StageResult]
    records_per_source: dict[str, int]
    golden_records: int
    matched_pairs: int
    warnings: int
    quarantined: int = 0

    @property
    def ok(self) -> bool:
        return all(s.status == "success" for s in self.stages)


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


class Run:
    """A run in progress, bound to its staging folder."""

    def __init__(self, config: Config, run_id: str) -> None:
        self.config = config
        self.run_id = run_id
        self.wh = Warehouse(config.warehouse)
        self.dir = self.wh.staging(run_id)
        self.db_path = self.dir / WORK_DB

    # -- state ---------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        path = self.dir / STATE_FILE
        if not path.exists():
            raise RunError(f"run {self.run_id}: no staging folder at {self.dir} (never started, or already ended)")
        return json.loads(path.read_text())

    def save_state(self, state: dict[str, Any]) -> None:
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.dir / STATE_FILE)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path))

    # -- stages --------------------------------------------------------------------------------------
    def extract(self, progress: Progress | None = None) -> StageResult:
        """Stream every source through its adapter into Parquet landings, then load them into staging.

        In an incremental run a file source whose fingerprint (its bytes, format, encoding and the
        adapter's code) equals the one of its last published load is not parsed again: that load's
        landing is linked into this run, with its warnings. A database source with change columns
        (``changes``) and an unchanged query config reads only the rows updated since its last load
        and the keys of all rows; :meth:`_merge_changes` completes the landing from the last one."""
        raw_root = self.dir / "raw"
        counts: dict[str, int] = {}
        issues: list[tuple] = []
        files: dict[str, list[str]] = {t: [] for t in TABLES}
        previous = self._previous_loads() if self.config.incremental else {}
        fingerprints: dict[str, str] = {}
        watermarks: dict[str, dict[str, str]] = {}
        reused: dict[str, str] = {}
        changes: dict[str, dict[str, Any]] = {}
        for src in self.config.sources:
            fp = source_fingerprint(src)
            fingerprints[src.name] = fp
            prev = previous.get(src.name)
            base_run: str | None = None
            since: dict[str, str] = {}
            if prev is not None and prev[0] == fp and (self.wh.root / "raw" / src.name / f"load={prev[1]}").is_dir():
                base_run, since = prev[1], prev[2]
            landing = self.wh.root / "raw" / src.name / f"load={base_run}"
            if base_run is not None and src.path is not None:
                counts[src.name] = self._link_landing(landing, raw_root / src.name, files)
                issues += self._previous_warnings(src.name, base_run)
                reused[src.name] = base_run
                continue
            ctx = ExtractContext(src, WarningLog(), since=dict(since), cipher=cipher_for(self.config))
            counts[src.name] = self._extract_source(ctx, raw_root, files, issues, progress)
            if ctx.watermarks:
                watermarks[src.name] = dict(ctx.watermarks)
            if since:
                # The organisation rows read again (validate checks the row rules on them only).
                read = [f for f in files["organization"] if Path(f).is_relative_to(raw_root / src.name)]
                changes[src.name] = {"base_load": base_run, "since": since, "changed_rows": counts[src.name],
                                     "files": read}
                counts[src.name] = self._merge_changes(since, landing, raw_root / src.name, files)
        state = self.state()
        state["fingerprints"] = fingerprints
        state["changes"] = changes
        state["watermarks"] = watermarks
        state["reused_loads"] = reused
        self.save_state(state)
        con = self.connect()
        try:
            for table, cols in TABLES.items():
                schema_sql = ", ".join(f"{c} {_duck_type(t)}" for c, t in cols.items())
                con.execute(f"CREATE OR REPLACE TABLE raw_{table} ({schema_sql})")
                if files[table]:
                    con.execute(f"INSERT INTO raw_{table} SELECT * FROM read_parquet($files)", {"files": files[table]})
            con.execute("CREATE OR REPLACE TABLE run_issue AS SELECT * FROM load_issue LIMIT 0")
            if issues:
                con.executemany("INSERT INTO run_issue VALUES (?, ?, ?, ?, ?, ?, ?)", issues)
            rows = sum(con.execute(f"SELECT count(*) FROM raw_{t}").fetchone()[0] for t in TABLES)
        finally:
            con.close()
        return StageResult("extract", rows, rows, detail={"organization_rows_read": counts, "warnings": len(issues),
                                                          "reused_loads": reused,
                                                          "changes": {name: {k: v for k, v in c.items() if k != "files"}
                                                                      for name, c in changes.items()}})

    def _extract_source(self, ctx: ExtractContext, raw_root: Path, files: dict[str, list[str]], issues: list[tuple],
                        progress: Progress | None) -> int:
        src = ctx.source
        adapter = get_adapter(src.format)
        n_org = 0
        part = 0
        try:
            for batch in adapter(ctx):
                if batch.keys_only:  # the keys of every row of a changes-only read (see _merge_changes)
                    out = raw_root / src.name / KEYS_DIR / batch.table / f"part-{part:05d}.parquet"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    keys = pa.schema([(c, pa.string()) for c in batch.frame.columns])  # natural keys are text
                    pq.write_table(pa.Table.from_pandas(batch.frame, schema=keys, preserve_index=False), out)
                    part += 1
                    continue
                frame = conform(batch.table, batch.frame, ctx)
                if frame.empty:
                    continue
                out = raw_root / src.name / batch.table / f"part-{part:05d}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.Table.from_pandas(frame, schema=arrow_schema(batch.table), preserve_index=False),
                               out, compression="zstd")
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
            raise SourceError(f"cannot read: {type(e).__name__}: {e}", source=src.name,
                              file=str(src.path or src.url)) from e
        for w in ctx.warnings.items:
            issues.append((self.run_id, w.source, w.file, w.line, w.key, w.code, w.message))
        hidden = ctx.warnings.total - len(ctx.warnings.items)
        if hidden > 0:
            issues.append((self.run_id, src.name, None, None, None, "more_warnings",
                           f"{hidden} more warnings not listed ({ctx.warnings.counts})"))
        return n_org

    def _merge_changes(self, since: dict[str, str], base: Path, target: Path,
                       files: dict[str, list[str]]) -> int:
        """Complete a changes-only read of a database source into a whole landing: for each table read
        by changes, the rows of the last landing (``base``) whose key is still in the source and was not
        read again are kept beside the changed rows. Returns the organisation rows of the landing."""
        from pipelines.adapters.sql import QUERIES

        # Rows read again replace the ones with the same natural key (constants of the adapter, never config).
        tables = {q.table: q.natural_key for q in QUERIES if q.key in since}
        con = duckdb.connect()
        try:
            for table in sorted(tables):
                old = sorted(str(p) for p in (base / table).glob("*.parquet"))
                keys = sorted(str(p) for p in (target / KEYS_DIR / table).glob("*.parquet"))
                if not old or not keys:
                    continue  # nothing to keep: no earlier rows, or no rows left in the source
                changed = [f for f in files[table] if Path(f).is_relative_to(target)]
                using = ", ".join(tables[table])
                # The landing folders are named load=<run>: not a Hive partition column.
                sql = (f"SELECT o.* FROM read_parquet($old, hive_partitioning = false) o "
                       f"SEMI JOIN read_parquet($keys) k USING ({using}) "
                       + (f"ANTI JOIN read_parquet($changed) c USING ({using}) " if changed else "")
                       + "ORDER BY o.src_file, o.src_line")
                params = {"old": old, "keys": keys} | ({"changed": changed} if changed else {})
                kept = con.sql(sql, params=params).to_arrow_table()
                if kept.num_rows:
                    out = target / table / "kept-00000.parquet"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    pq.write_table(kept.cast(arrow_schema(table)), out, compression="zstd")
                    files[table].insert(0, str(out))
        finally:
            con.close()
        shutil.rmtree(target / KEYS_DIR, ignore_errors=True)
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files["organization"] if Path(f).is_relative_to(target))

    def _previous_loads(self) -> dict[str, tuple[str, str, dict[str, str]]]:
        """source -> (fingerprint, run id, watermarks) of its last published load."""
        con = self.connect()
        try:
            rows = con.execute(
                "SELECT source, fingerprint, run_id, watermarks FROM (SELECT *, row_number() OVER "
                "(PARTITION BY source ORDER BY run_id DESC) AS rn FROM source_load) "
                "WHERE rn = 1 AND fingerprint IS NOT NULL").fetchall()
        finally:
            con.close()
        return {s: (fp, r, json.loads(w) if w else {}) for s, fp, r, w in rows}

    @staticmethod
    def _link_landing(landing: Path, target: Path, files: dict[str, list[str]]) -> int:
        """Hard-link a previous load's Parquet landing into this run; returns its organisation rows."""
        n_org = 0
        for part in sorted(landing.rglob("*.parquet")):
            table = part.parent.name
            dest = target / table / part.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(part, dest)
            except OSError:
                shutil.copy2(part, dest)
            files[table].append(str(dest))
            if table == "organization":
                n_org += pq.ParquetFile(dest).metadata.num_rows
        return n_org

    def _previous_warnings(self, source: str, run_id: str) -> list[tuple]:
        """The adapter warnings of a reused load, under this run's id (staging checks are made again)."""
        con = self.connect()
        try:
            rows = con.execute(
                "SELECT source, file, line, key, code, message FROM load_issue WHERE run_id = $r AND source = $s "
                "AND code NOT IN ('duplicate_key', 'missing_key', 'missing_name')", {"r": run_id, "s": source}).fetchall()
        finally:
            con.close()
        return [(self.run_id, *r) for r in rows]

    def validate(self, progress: Progress | None = None) -> StageResult:
        """Great Expectations over every source's landed rows: row-level failures go to quarantine (and
        are not loaded), batch-level failures stop the run before anything is published. Then the
        staged records (one per natural key) and the per-source quality metrics."""
        from pipelines import quality

        docs = self.dir / "docs"
        self.wh.seed_docs(docs)
        con = self.connect()
        try:
            state = self.state()
            report = quality.validate_sources(con, self.config, self.run_id, docs,
                                              fingerprints=state.get("fingerprints", {}),
                                              reused=state.get("reused_loads", {}),
                                              watermarks=state.get("watermarks", {}),
                                              changes=state.get("changes", {}))
            run_sql(con, "staging/stg_organization")
            rejects = query_sql(con, "staging/rejects").fetchall()
            if rejects:
                con.executemany("INSERT INTO run_issue VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(self.run_id, *r) for r in rejects])
            rows_in = con.execute("SELECT count(*) FROM raw_organization").fetchone()[0] + report.quarantined
            rows_out = con.execute("SELECT count(*) FROM stg_organization").fetchone()[0]
            per_source = dict(con.execute("SELECT source, count(*) FROM stg_organization GROUP BY 1").fetchall())
            warnings = con.execute("SELECT count(*) FROM run_issue").fetchone()[0]
        finally:
            con.close()
        return StageResult("validate", rows_in, rows_out,
                           detail={"records_per_source": {s.name: per_source.get(s.name, 0) for s in self.config.sources},
                                   "quarantined": report.quarantined, "warnings": warnings,
                                   "suites": report.suites})

    def _has_table(self, con: duckdb.DuckDBPyConnection, name: str) -> bool:
        return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = $t",
                                {"t": name}).fetchall()[0][0])

    def standardise(self, progress: Progress | None = None) -> StageResult:
        """Standardise the staged records. In an incremental run, a record whose content hash (every
        canonical attribute but its lineage) equals the one it had in the last published run, and whose
        standardised form was made by the same STANDARDISE_VERSION, keeps that form; only new or changed
        records are standardised again."""
        con = self.connect()
        try:
            cols = [c for c in TABLES["organization"] if c not in ("src_file", "src_line")]
            # Column names come from mdm.schema, never from input.
            packed = ", ".join(f"{c} := {c}" for c in cols)
            con.execute("CREATE OR REPLACE TEMP TABLE stg_hashed AS SELECT source || ':' || source_id AS rid, "
                        f"md5(to_json(struct_pack({packed}))) AS content_hash, src_file, src_line FROM stg_organization")
            reuse = self.config.incremental and self._has_table(con, "organization_record") and "content_hash" in {
                r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'organization_record'").fetchall()}
            if reuse:
                run_sql(con, "staging/reuse_standardised", {"version": STANDARDISE_VERSION})
            else:
                con.execute("CREATE OR REPLACE TEMP TABLE std_reused_keys AS "
                            "SELECT NULL::VARCHAR AS rid, NULL::VARCHAR AS src_file, NULL::BIGINT AS src_line LIMIT 0")
            con.execute("CREATE OR REPLACE TEMP TABLE std_new_keys AS SELECT rid, content_hash FROM stg_hashed "
                        "ANTI JOIN std_reused_keys USING (rid)")
            df = con.execute("SELECT s.* FROM stg_organization s SEMI JOIN std_new_keys k "
                             "ON k.rid = s.source || ':' || s.source_id ORDER BY s.source, s.source_id").df()
            hashes = con.execute("SELECT rid, content_hash FROM std_new_keys").df()
            std = standardise_records(df.astype(object).where(df.notna(), None))
            std = std.merge(hashes, on="rid", how="left")
            con.register("std_df", _arrow(std))
            if reuse:
                con.execute("CREATE OR REPLACE TABLE std_organization AS SELECT * FROM std_df UNION ALL BY NAME "
                            "SELECT o.* EXCLUDE (golden_id) REPLACE (k.src_file AS src_file, k.src_line AS src_line) "
                            "FROM organization_record o JOIN std_reused_keys k USING (rid)")
            else:
                con.execute("CREATE OR REPLACE TABLE std_organization AS SELECT * FROM std_df")
            con.unregister("std_df")
            total = con.execute("SELECT count(*) FROM std_organization").fetchone()[0]
            con.execute("CREATE OR REPLACE TABLE run_changed AS SELECT rid FROM std_new_keys")
        finally:
            con.close()
        return StageResult("standardise", total, total,
                           detail={"standardised": len(std), "reused": total - len(std), "incremental": reuse})

    def _settings(self) -> matching.MatchSettings:
        m = self.config.matching
        return matching.MatchSettings(m.match_threshold, m.review_threshold, m.max_block_size)

    def _match_fingerprint(self) -> str:
        """What scored pairs depend on besides the two records: thresholds, features, steward decisions."""
        m = self.config.matching
        decisions = m.decisions.read_bytes() if m.decisions is not None else b""
        return json.dumps({"match": m.match_threshold, "review": m.review_threshold, "block": m.max_block_size,
                           "features": list(matching.FEATURES), "std": STANDARDISE_VERSION,
                           "decisions": hashlib.sha256(decisions).hexdigest()}, sort_keys=True)

    def match(self, progress: Progress | None = None) -> StageResult:
        """Score record pairs. An incremental run (few changed records, same thresholds, features and
        steward decisions as the last run) keeps the last run's model and its scored pairs between
        unchanged records, and compares only the pairs that touch a new or changed record: every record
        takes part in blocking and identifier links, but only the compared ones are loaded whole, and the
        token frequencies of the name weights are updated from the last run's (match_token_frequency)."""
        con = self.connect()
        try:
            records = con.execute("SELECT count(*) FROM std_organization").fetchall()[0][0]
            changed = {r[0] for r in con.execute("SELECT rid FROM run_changed").fetchall()}
            fingerprint = self._match_fingerprint()
            rows = con.execute("SELECT value FROM run_state WHERE key = 'match_fingerprint'").fetchall()
            previous = rows[0] if rows else None
            incremental = (self.config.incremental and previous is not None and previous[0] == fingerprint
                           and all(self._has_table(con, t) for t in ("match_model", "match_pair",
                                                                       "match_token_frequency", "organization_record"))
                           and len(changed) <= INCREMENTAL_MAX_SHARE * max(records, 1))
            decisions = read_decisions(self.config.matching.decisions)
            if incremental:
                model = FellegiSunter.from_parameters(con.execute("SELECT * EXCLUDE (run_id) FROM match_model").df())
                counts = self._token_counts(con)
                ids = con.execute(f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM std_organization ORDER BY rid").df()
                aliases = con.execute("SELECT rid, unnest(aliases) AS aliases FROM std_organization").df()
                columns = ", ".join(matching.MATCH_COLUMNS)

                def load(rids: list[str]) -> pd.DataFrame:
                    con.register("tmp_rids", pd.DataFrame({"rid": rids}))
                    frame = con.execute(f"SELECT {columns} FROM std_organization SEMI JOIN tmp_rids USING (rid) "
                                        "ORDER BY rid").df()
                    con.unregister("tmp_rids")
                    return frame

                universe = matching.Universe(ids, aliases, matching.idf_weights(counts, records), load)
                # Pairs of two unchanged records are kept as scored (they stay in DuckDB).
                run_sql(con, "staging/kept_pairs")
                # Identifier links between unchanged records that the last run did not have (a removed
                # record was the hub of their group) are compared as well.
                det = matching.deterministic_pairs(ids)
                con.register("tmp_det", det[["rid_a", "rid_b"]])
                also = con.execute("SELECT d.rid_a, d.rid_b FROM tmp_det d ANTI JOIN kept_pairs k "
                                   "USING (rid_a, rid_b)").df()
                con.unregister("tmp_det")
                pairs, model, detail = matching.match_changes(universe, self._settings(), model, changed, det=det,
                                                              decisions=decisions, also=also)
            else:
                std = con.execute(f"SELECT {', '.join(matching.MATCH_COLUMNS)} FROM std_organization ORDER BY rid"
                                  ).df()
                counts = matching.token_counts(std["aliases"])
                pairs, model, detail = matching.match_records(std, self._settings(), decisions=decisions,
                                                              idf=matching.idf_weights(counts, records))
            con.register("tmp_tokens", pd.DataFrame({"token": list(counts), "records": list(counts.values())}))
            con.execute("CREATE OR REPLACE TABLE new_match_token_frequency AS "
                        "SELECT token, records FROM tmp_tokens WHERE records > 0 ORDER BY token")
            con.unregister("tmp_tokens")
            detail["incremental"] = incremental
            params = model.parameters()
            params["run_id"] = self.run_id
            pairs["run_id"] = self.run_id
            con.register("tmp_pairs", pairs)
            # The pairs scored in this run: the clustering of an incremental run starts from their records.
            con.execute("CREATE OR REPLACE TABLE run_rescored AS SELECT rid_a, rid_b FROM tmp_pairs")
            if incremental:
                # In place (this is the run's private copy): the pairs touching a changed or removed record
                # are replaced by this run's; kept pairs keep the id of the run that scored them.
                con.execute("DELETE FROM match_pair WHERE NOT EXISTS (SELECT 1 FROM kept_pairs k "
                            "WHERE k.rid_a = match_pair.rid_a AND k.rid_b = match_pair.rid_b)")
                detail["reused_pairs"] = con.execute("SELECT count(*) FROM match_pair").fetchall()[0][0]
                con.execute("INSERT INTO match_pair BY NAME SELECT * FROM tmp_pairs")
                con.execute("DROP TABLE IF EXISTS new_match_pair")
                con.execute("ALTER TABLE match_pair RENAME TO new_match_pair")
            else:
                con.execute("CREATE OR REPLACE TABLE new_match_pair AS SELECT * FROM tmp_pairs ORDER BY rid_a, rid_b")
            con.unregister("tmp_pairs")
            matched = con.execute("SELECT count(*) FROM new_match_pair WHERE band = 'match'").fetchall()[0][0]
            con.register("tmp_model", params)
            con.execute("CREATE OR REPLACE TABLE new_match_model AS SELECT * FROM tmp_model")
            con.unregister("tmp_model")
            con.execute("INSERT OR REPLACE INTO run_state VALUES ('match_fingerprint', $v, $run)",
                        {"v": fingerprint, "run": self.run_id})
        finally:
            con.close()
        return StageResult("match", records, int(matched), detail=detail)

    def _token_counts(self, con: duckdb.DuckDBPyConnection) -> Counter[str]:
        """The last run's name-token document frequencies, minus the tokens of the records that changed
        or left since (their last standardised aliases), plus those of the new or changed records: equal
        to counting over all records again."""
        counts: Counter[str] = Counter(dict(con.execute("SELECT token, records FROM match_token_frequency").fetchall()))
        old = con.execute("SELECT aliases FROM organization_record WHERE rid IN (SELECT rid FROM run_changed) "
                          "OR rid NOT IN (SELECT rid FROM std_organization)").fetchall()
        new = con.execute("SELECT aliases FROM std_organization WHERE rid IN (SELECT rid FROM run_changed)").fetchall()
        counts.subtract(matching.token_counts(a or [] for (a,) in old))
        counts.update(matching.token_counts(a or [] for (a,) in new))
        return counts

    def cluster(self, progress: Progress | None = None) -> StageResult:
        """Cluster the matched records and give each cluster its persistent golden id. After an
        incremental match only the records whose clusters may have changed (sql/staging/cluster_scope*.sql:
        new or changed records, the ends of newly scored pairs, and everything linked to them or sharing
        a golden record with them) are clustered again; the others keep their clusters and ids."""
        con = self.connect()
        try:
            decisions = read_decisions(self.config.matching.decisions)
            must = decisions[decisions.is_match.astype(bool)]
            cannot = decisions[~decisions.is_match.astype(bool)]
            matched = next(r for r in self.state()["results"] if r["stage"] == "match")
            incremental = bool(matched["detail"].get("incremental")) and self._has_table(con, "xref")
            if incremental:
                con.register("decision_links", must[["rid_a", "rid_b"]])
                run_sql(con, "staging/cluster_scope")
                while con.execute(sql_text("staging/cluster_scope_grow")).fetchall()[0][0]:
                    pass
                con.unregister("decision_links")
                where = "WHERE rid IN (SELECT rid FROM cluster_scope)"
                pair_where = ("WHERE rid_a IN (SELECT rid FROM cluster_scope) "
                              "AND rid_b IN (SELECT rid FROM cluster_scope)")
            else:
                where = pair_where = ""
            # Column names are constants of mdm.standardise.
            std = con.execute(f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM std_organization {where} ORDER BY rid").df()
            pairs = con.execute(f"SELECT rid_a, rid_b, rule, band, score FROM new_match_pair {pair_where} "
                                "ORDER BY rid_a, rid_b").df()
            det = pairs[pairs["rule"] != "score"]
            scored = pairs[pairs["rule"] == "score"]
            clusters, refused = clustering.cluster(std["rid"].tolist(), identity_keys(std), det, scored,
                                                   must_link=zip(must.rid_a, must.rid_b),
                                                   cannot_link=zip(cannot.rid_a, cannot.rid_b))
            previous, minted, taken = self._previous_ids(con, scoped=incremental)
            assigned, redirects = golden_ids.assign(clusters, previous, minted, taken)
            assigned = assigned.merge(std[["rid", "source", "source_id"]], on="rid")
            assigned["run_id"] = self.run_id
            con.register("xref_df", assigned[list(XREF_COLUMNS)])
            columns = ", ".join(XREF_COLUMNS)
            if incremental:
                # Records outside the scope keep their cluster and golden id.
                con.execute(
                    f"CREATE OR REPLACE TABLE new_xref AS SELECT {columns} FROM (SELECT * FROM xref_df UNION ALL "
                    "SELECT * REPLACE ('kept' AS id_origin, $run AS run_id) FROM xref "
                    "WHERE rid NOT IN (SELECT rid FROM cluster_scope) AND rid IN (SELECT rid FROM std_organization)"
                    ") ORDER BY source, source_id", {"run": self.run_id})
            else:
                con.execute(f"CREATE OR REPLACE TABLE new_xref AS SELECT {columns} FROM xref_df ORDER BY source, source_id")
            con.unregister("xref_df")
            redirects["run_id"] = self.run_id
            con.register("red_df", redirects[["retired_id", "surviving_id", "run_id", "reason"]])
            con.execute("CREATE OR REPLACE TABLE new_redirect AS SELECT * FROM red_df")
            con.unregister("red_df")
            n_golden = con.execute("SELECT count(DISTINCT golden_id) FROM new_xref").fetchall()[0][0]
        finally:
            con.close()
        return StageResult("cluster", len(std), int(n_golden),
                           detail={"incremental": incremental, "clustered": len(std), "refused_merges": refused,
                                   "redirects": len(redirects),
                                   "new_ids": int((assigned.drop_duplicates("golden_id")["id_origin"] == "new").sum())})

    def _previous_ids(self, con: duckdb.DuckDBPyConnection, scoped: bool = False
                      ) -> tuple[dict[str, str], dict[str, int], set[str]]:
        """(rid -> golden id of the last published run, golden id -> minted order, every id issued).
        ``scoped``: only the records of cluster_scope and those that left the sources."""
        previous: dict[str, str] = {}
        if self._has_table(con, "xref"):
            where = ("WHERE rid IN (SELECT rid FROM cluster_scope) OR rid NOT IN (SELECT rid FROM std_organization)"
                     if scoped else "")
            previous = dict(con.execute(f"SELECT rid, golden_id FROM xref {where}").fetchall())
        reg = con.execute("SELECT golden_id, minted_seq FROM golden_id_registry").fetchall()
        return previous, {g: s for g, s in reg}, {g for g, _ in reg}

    def _survive_fingerprint(self) -> str:
        """What golden values depend on besides the records: rules, source ranks, overrides, versions."""
        sv = self.config.survivorship
        overrides = sv.overrides.read_bytes() if sv.overrides is not None else b""
        return json.dumps({"rules": sv.rules, "priority": {s.name: self.config.priority(s.name)
                                                             for s in self.config.sources},
                           "overrides": hashlib.sha256(overrides).hexdigest(), "std": STANDARDISE_VERSION,
                           "attributes": list(survivorship.ATTRIBUTES)}, sort_keys=True, default=str)

    def _fits_in_place(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether this run's computed golden rows and standardised records have no column the published
        tables lack (then golden/carry_over.sql can update those tables in place)."""
        def columns(relation: str) -> set[str]:
            return {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}  # constants

        return (columns("tmp_golden") <= columns("golden_organization")
                and columns("tmp_lineage") <= columns("golden_attribute_lineage")
                and columns("std_organization") <= columns("organization_record"))

    def survive(self, progress: Progress | None = None) -> StageResult:
        """Golden records by the survivorship rules (config ``survivorship``), with lineage. In an
        incremental run only the golden records whose clusters changed are computed again."""
        sv = self.config.survivorship
        spec = survivorship.spec_from_config(sv.rules) if sv.rules else survivorship.DEFAULT_SPEC
        overrides = protect_overrides(read_overrides(sv.overrides), cipher_for(self.config))
        prio = {s.name: self.config.priority(s.name) for s in self.config.sources}
        con = self.connect()
        try:
            fingerprint = self._survive_fingerprint()
            rows = con.execute("SELECT value FROM run_state WHERE key = 'survive_fingerprint'").fetchall()
            incremental = (self.config.incremental and rows and rows[0][0] == fingerprint
                           and self._has_table(con, "golden_organization") and self._has_table(con, "xref"))
            if incremental:
                run_sql(con, "golden/affected")
                where = "WHERE x.golden_id IN (SELECT golden_id FROM affected)"
            else:
                where = ""
            rec = con.execute(
                f"SELECT s.*, x.golden_id FROM std_organization s JOIN new_xref x USING (rid) {where} ORDER BY rid"
            ).df()
            golden, lineage = survivorship.survive(rec, prio, spec, overrides)
            golden["run_id"] = self.run_id
            lineage["run_id"] = self.run_id
            con.register("tmp_golden", _typed_strings(golden, survivorship.ATTRIBUTES))
            con.register("tmp_lineage", lineage)
            if incremental and self._fits_in_place(con):
                # Golden records of this run's clusters that nothing touched are carried over in place.
                run_sql(con, "golden/carry_over")
            elif incremental:  # the computed tables gained columns: carried-over rows are copied instead
                con.execute(
                    "CREATE OR REPLACE TABLE new_golden_organization AS SELECT * FROM tmp_golden UNION ALL BY NAME "
                    "SELECT * FROM golden_organization WHERE golden_id IN (SELECT golden_id FROM new_xref) "
                    "AND golden_id NOT IN (SELECT golden_id FROM affected)")
                con.execute(
                    "CREATE OR REPLACE TABLE new_golden_attribute_lineage AS SELECT * FROM tmp_lineage UNION ALL "
                    "BY NAME SELECT * FROM golden_attribute_lineage WHERE golden_id IN (SELECT golden_id FROM "
                    "new_xref) AND golden_id NOT IN (SELECT golden_id FROM affected)")
            else:
                con.execute("CREATE OR REPLACE TABLE new_golden_organization AS SELECT * FROM tmp_golden")
                con.execute("CREATE OR REPLACE TABLE new_golden_attribute_lineage AS SELECT * FROM tmp_lineage")
            con.unregister("tmp_golden")
            con.unregister("tmp_lineage")
            if not self._has_table(con, "new_organization_record"):
                con.execute("CREATE OR REPLACE TABLE new_organization_record AS "
                            "SELECT s.*, x.golden_id FROM std_organization s JOIN new_xref x USING (rid) "
                            "ORDER BY s.rid")
            con.execute("INSERT OR REPLACE INTO run_state VALUES ('survive_fingerprint', $v, $run)",
                        {"v": fingerprint, "run": self.run_id})
            n_golden = con.execute("SELECT count(*) FROM new_golden_organization").fetchall()[0][0]
            from pipelines import quality

            quality.validate_outputs(con, self.run_id, self.dir / "docs", incremental=bool(incremental))
        finally:
            con.close()
        return StageResult("survive", len(rec), n_golden,
                           detail={"incremental": bool(incremental), "computed": len(golden),
                                   "carried_over": n_golden - len(golden)})

    def publish(self, results: list[dict[str, Any]]) -> StageResult:
        started = _now()
        state = self.state()
        con = self.connect()
        try:
            con.execute("BEGIN TRANSACTION")
            # Registry of golden ids: new ones get the next sequence numbers, in id order.
            seq0 = con.execute("SELECT coalesce(max(minted_seq), 0) FROM golden_id_registry").fetchone()[0]
            con.execute(
                "INSERT INTO golden_id_registry "
                "SELECT golden_id, $seq0 + row_number() OVER (ORDER BY golden_id), $run, NULL "
                "FROM (SELECT DISTINCT golden_id FROM new_xref WHERE id_origin = 'new') "
                "WHERE golden_id NOT IN (SELECT golden_id FROM golden_id_registry)",
                {"seq0": seq0, "run": self.run_id})
            con.execute("UPDATE golden_id_registry SET retired_run = $run "
                        "WHERE golden_id IN (SELECT retired_id FROM new_redirect)", {"run": self.run_id})
            con.execute("INSERT INTO golden_id_redirect SELECT * FROM new_redirect")
            con.execute("INSERT INTO load_issue SELECT * FROM run_issue")
            con.execute("INSERT INTO quarantine SELECT * FROM run_quarantine")
            con.execute("INSERT INTO quality_metrics SELECT * FROM run_quality")
            con.execute("INSERT INTO identifier_quality SELECT * FROM run_identifier_quality")
            con.execute("INSERT INTO source_load SELECT * FROM run_source_load")
            con.execute("INSERT INTO validation_result SELECT * FROM run_validation")
            run_sql(con, "golden/publish")
            # Derived golden tables (history, hierarchy, financials), in this order, then the analyst views.
            for step in GOLDEN_STEPS:
                run_sql(con, f"golden/{step}", {"run": self.run_id, "now": started})
            run_sql(con, "marts/views")
            run_sql(con, "marts/analyst_views")
            golden_n = con.execute("SELECT count(*) FROM golden_organization").fetchone()[0]
            for r in results:
                con.execute("INSERT INTO run_log VALUES ($run, $stage, $s, $f, $i, $o, $st, $d)",
                            {"run": self.run_id, "stage": r["stage"], "s": r["started_at"], "f": r["finished_at"],
                             "i": r["rows_in"], "o": r["rows_out"], "st": r["status"],
                             "d": json.dumps(r.get("detail", {}), sort_keys=True)})
            finished = _now()
            con.execute("INSERT INTO run_log VALUES ($run, 'publish', $s, $f, $i, $o, 'success', NULL)",
                        {"run": self.run_id, "s": started, "f": finished, "i": golden_n, "o": golden_n})
            con.execute("DROP TABLE IF EXISTS std_organization")
            for t in ("stg_organization", "raw_organization", "run_issue", "new_redirect", "run_quarantine", "run_changed", "run_rescored",
                      "run_quality", "run_identifier_quality", "run_source_load", "run_validation"):
                con.execute(f"DROP TABLE IF EXISTS {t}")
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
            with self.wh.lock():
                base = state.get("base_run")
                now_latest = self.wh.latest_run()
                if now_latest != base:
                    raise RunError(f"the warehouse was published by run {now_latest} after this run started from "
                                   f"{base}; rerun to build on the new state")
                snapshot = self.wh.export_parquet(con, self.run_id)
                con.close()
                con = None
                self.wh.swap_in(self.db_path, snapshot, self.dir / "raw", self.run_id, docs=self.dir / "docs")
            shutil.rmtree(self.dir, ignore_errors=True)  # the run has ended; nothing is left to resume
        finally:
            if con is not None:
                con.close()
        return StageResult("publish", golden_n, golden_n, started_at=started, finished_at=_now())


LIST_COLUMNS = ("aliases", "qualifiers", "qualifiers_en", "invalid_ids")


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as Arrow with list columns typed list<string>: DuckDB would guess their type from a
    sample of rows and fail on a later non-empty list when the sampled ones are all empty."""
    fields = [pa.field(c, pa.list_(pa.string())) for c in LIST_COLUMNS if c in frame.columns]
    table = pa.Table.from_pandas(frame.drop(columns=[f.name for f in fields]), preserve_index=False)
    for f in fields:
        values = [None if not isinstance(v, (list, tuple)) else [str(x) for x in v] for v in frame[f.name]]
        table = table.append_column(f, pa.array(values, type=f.type))
    return table


def source_fingerprint(src: Any, suites_dir: Path | None = None) -> str:
    """A digest of everything a source's landing and its validation depend on besides the data of a
    database: format, encoding, the adapter's code and the format's GX suite (in ``suites_dir``, by
    default the project's); for a file source its bytes (every file of a folder), for a database
    source its URL (password hidden), queries and change columns."""
    from pipelines.quality import SUITES, SUITES_DIR

    h = hashlib.sha256()
    h.update(json.dumps({"format": src.format, "encoding": src.encoding}, sort_keys=True).encode())
    code = sorted(Path(inspect.getsourcefile(conform)).parent.glob("*.py"))  # every adapter module
    suite = (suites_dir or SUITES_DIR) / f"{SUITES[src.format][0]}.json"
    for module_file in [*code, Path(inspect.getsourcefile(arrow_schema)), suite]:
        h.update(module_file.read_bytes())
    if src.path is None:
        from sqlalchemy.engine import make_url

        url = make_url(src.url).render_as_string(hide_password=True)
        h.update(json.dumps({"url": url, "queries": src.queries, "changes": src.changes}, sort_keys=True).encode())
        return h.hexdigest()
    paths = sorted(p for p in src.path.rglob("*") if p.is_file()) if src.path.is_dir() else [src.path]
    for p in paths:
        h.update(str(p.relative_to(src.path) if src.path.is_dir() else p.name).encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _typed_strings(frame: pd.DataFrame, columns: Any) -> pa.Table:
    """A frame as Arrow with the given columns typed string, so a column with no value yet is VARCHAR
    (not DuckDB's NULL type, which a later run could not append to)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in columns:
        if name in table.column_names and table.schema.field(name).type != pa.string():
            i = table.column_names.index(name)
            values = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame[name]]
            table = table.set_column(i, pa.field(name, pa.string()), pa.array(values, type=pa.string()))
    return table


def _duck_type(t: pa.DataType) -> str:
    return {"string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE"}[str(t)]


def _resolve(config: Config | str | Path) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def start_run(config_path: Config | str | Path) -> str:
    """Validate the config, create the run's staging folder (a copy of the published database) and
    return the new run id."""
    cfg = _resolve(config_path)
    wh = Warehouse(cfg.warehouse)
    wh.root.mkdir(parents=True, exist_ok=True)
    # Sorts in start order (microseconds), unique (random suffix).
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)
    run = Run(cfg, run_id)
    run.dir.mkdir(parents=True)
    base = wh.latest_run()
    if wh.exists():
        shutil.copy2(wh.db_path, run.db_path)
    con = run.connect()
    try:
        run_sql(con, "schema/tables")
    finally:
        con.close()
    run.save_state({"run_id": run_id, "config": str(cfg.config_path), "base_run": base, "started_at": _now(),
                    "results": []})
    return run_id


def run_stage(config_path: Config | str | Path, run_id: str, stage: str, progress: Progress | None = None) -> dict[str, Any]:
    """Run one stage of a started run; returns its result as a JSON-serialisable dict."""
    if stage not in STAGES:
        raise RunError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    cfg = _resolve(config_path)
    run = Run(cfg, run_id)
    state = run.state()
    done = [r["stage"] for r in state["results"]]
    expected = STAGES[len(done)] if len(done) < len(STAGES) else None
    if stage != expected:
        raise RunError(f"run {run_id}: stage {stage!r} cannot run now; next stage is {expected!r}")
    started = _now()
    t0 = time.perf_counter()
    if stage == "publish":
        result = run.publish(state["results"])
        return result.as_dict() | {"seconds": round(time.perf_counter() - t0, 3)}
    result = getattr(run, stage)(progress)
    result.started_at, result.finished_at = started, _now()
    state = run.state()  # the stage may have recorded state of its own
    state["results"].append(result.as_dict())
    run.save_state(state)
    return result.as_dict() | {"seconds": round(time.perf_counter() - t0, 3)}


def abort_run(config_path: Config | str | Path, run_id: str, reason: str | None = None) -> None:
    """Discard the staging folder of a failed run; the published warehouse is untouched.

    A short failure report is kept at ``<warehouse>/.runs/<run_id>.failed.json``.
    """
    cfg = _resolve(config_path)
    run = Run(cfg, run_id)
    if run.dir.exists():
        report = {"run_id": run_id, "failed_at": _now(), "reason": reason}
        try:
            report["results"] = run.state().get("results", [])
        except (MdmError, ValueError):
            pass
        (run.wh.runs_dir / f"{run_id}.failed.json").write_text(json.dumps(report, indent=2))
        docs = run.dir / "docs"
        if (docs / "index.html").exists():  # Data Docs of the failed validation, for the engineer to read
            shutil.move(str(docs), str(run.wh.runs_dir / f"{run_id}.docs"))
        shutil.rmtree(run.dir, ignore_errors=True)


def run(config_path: Config | str | Path, progress: Progress | None = None,
        on_stage: Callable[[dict[str, Any]], None] | None = None) -> RunSummary:
    """Run every stage in one process; on any failure discard the run and re-raise."""
    cfg = _resolve(config_path)
    run_id = start_run(cfg)
    results = []
    try:
        for stage in STAGES:
            if progress:
                progress(stage, 0, None)
            res = run_stage(cfg, run_id, stage, progress)
            results.append(res)
            if on_stage:
                on_stage(res)
    except BaseException as e:
        abort_run(cfg, run_id, reason=f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")
        raise
    validated = results[STAGES.index("validate")]["detail"]
    return RunSummary(
        run_id=run_id, warehouse=cfg.warehouse,
        stages=[StageResult(r["stage"], r["rows_in"], r["rows_out"], r["status"], r["started_at"], r["finished_at"],
                            r.get("detail", {})) for r in results],
        records_per_source=validated["records_per_source"],
        golden_records=results[STAGES.index("cluster")]["rows_out"],
        matched_pairs=results[STAGES.index("match")]["rows_out"],
        warnings=validated["warnings"],
        quarantined=validated["quarantined"],
    )
