"""The standardise stage in batches and worker processes: std_organization is the same whatever the batch
size and the number of workers, and the same as standardising every staged record at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mdm.schema import TABLES
from mdm.standardise import LIST_COLUMNS, STANDARD_COLUMNS, standardise_records
from pipelines import runner
from pipelines.config import PerformanceConfig, load_config
from pipelines.plan import read_plan
from pipelines.sample import generate
from pipelines.stages import standardise
from pipelines.stages.base import StageContext
from tests.conftest import sample_config


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(config, staging folder) of a run of a generated sample stopped after validate."""
    tmp = tmp_path_factory.mktemp("std_stage")
    generate(tmp / "sample", entities=120, seed=11)
    cfg = sample_config(tmp / "sample", tmp / "wh", tmp / "mdm.yaml")
    run_id = runner.start_run(cfg, full=True)
    for stage in ("extract", "validate"):
        runner.run_stage(cfg, run_id, stage)
    return cfg, tmp / "wh" / ".runs" / run_id


def run_stage(staged: tuple[Path, Path], tmp: Path, workers: int, batch_rows: int) -> tuple[pd.DataFrame, dict]:
    cfg_path, folder = staged
    db = tmp / f"work-{workers}-{batch_rows}.duckdb"
    shutil.copy(folder / runner.WORK_DB, db)
    cfg = load_config(cfg_path)
    # batch_rows below the config's minimum (1,000), so that this small sample makes several batches.
    perf = PerformanceConfig.model_construct(workers=workers, batch_rows=batch_rows)
    cfg = cfg.model_copy(update={"performance": perf})
    con = duckdb.connect(str(db))
    try:
        ctx = StageContext(cfg, read_plan(folder), folder, {})
        con.begin()
        result = standardise.run(con, ctx)
        con.commit()
        std = con.execute("SELECT * FROM std_organization ORDER BY rid").df()
        staged_rows = con.execute("SELECT * FROM stg_organization ORDER BY source, source_id").df()
        # The content hash as the stage has always made it: md5 of the JSON of every attribute but the lineage.
        content = ", ".join(f"{c} := {c}" for c in TABLES["organization"] if c not in ("src_file", "src_line"))
        hashes = dict(
            con.execute(
                f"SELECT source || ':' || source_id, md5(to_json(struct_pack({content}))) FROM stg_organization"
            ).fetchall()
        )
    finally:
        con.close()
    return std, {"result": result, "staged": staged_rows, "hashes": hashes}


def rows(frame: pd.DataFrame) -> list[str]:
    """Each row as JSON (lists and NaN-free), for an exact comparison."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        json.dumps({k: (list(v) if hasattr(v, "tolist") else v) for k, v in r.items()}, default=str, sort_keys=True)
        for r in clean.to_dict("records")
    ]


def test_batches_and_workers_give_the_same_table(staged: tuple[Path, Path], tmp_path: Path) -> None:
    one, info = run_stage(staged, tmp_path, workers=1, batch_rows=1_000_000)
    many, info_many = run_stage(staged, tmp_path, workers=2, batch_rows=37)
    n = len(info["staged"])
    assert n > 4 * 37  # several batches, more than the workers hold at once
    assert info["result"].detail == info_many["result"].detail == {"standardised": n, "reused": 0, "incremental": False}
    assert list(one.columns) == list(many.columns)
    assert rows(one) == rows(many)
    # Every standardised column is there, typed as before: lists are VARCHAR[], the flags BOOLEAN.
    assert set(STANDARD_COLUMNS) <= set(one.columns)
    assert all(isinstance(v, list | tuple) or hasattr(v, "tolist") for v in one["aliases"])


def test_the_table_is_what_standardising_all_records_at_once_gives(staged: tuple[Path, Path], tmp_path: Path) -> None:
    std, info = run_stage(staged, tmp_path, workers=2, batch_rows=50)
    staged_rows = info["staged"]
    expected = standardise_records(staged_rows.astype(object).where(staged_rows.notna(), None))
    expected["content_hash"] = expected["rid"].map(info["hashes"])
    expected = expected.sort_values("rid").reset_index(drop=True)
    assert len(std) == len(expected) == len(info["hashes"])
    # The order of columns std_organization always had: staged columns, scalar standardised ones, the hash,
    # then the list columns.
    scalar = [c for c in STANDARD_COLUMNS if c not in LIST_COLUMNS]
    assert list(std.columns) == [*staged_rows.columns, *scalar, "content_hash", *LIST_COLUMNS]
    assert rows(std) == rows(expected[list(std.columns)])
