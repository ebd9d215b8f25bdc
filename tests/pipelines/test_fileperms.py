"""Issue 12: every file and folder the pipeline creates is owner-only (no group or other permission bits)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from pipelines import runner
from pipelines.fileperms import loose_paths, owner_only, restrict_tree
from pipelines.sample import generate

MDM = Path(sys.executable).parent / "mdm"


def test_mdm_generate_and_run_create_owner_only_files(tmp_path: Path) -> None:
    """Through the installed `mdm` entry point, started with a permissive umask (022, the usual default)."""
    sample = tmp_path / "sample"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for args in (
        ["generate", "--entities", "30", "--seed", "5", "--out", str(sample)],
        ["run", "--config", str(sample / "mdm.yaml")],
    ):
        res = subprocess.run(
            [str(MDM), *args],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert res.returncode == 0, res.stdout + res.stderr
    wh = sample / "warehouse"
    files = [p for p in wh.rglob("*") if p.is_file() and not p.is_symlink()]
    # mdm.duckdb is a fixed link to the published snapshot's database (pipelines/warehouse.py)
    assert (wh / "mdm.duckdb").resolve() in files and any(p.suffix == ".parquet" for p in files)
    assert any("raw" in p.parts for p in files) and any(p.suffix == ".html" for p in files)
    assert loose_paths(wh) == []
    assert loose_paths(sample) == []  # the generated sample too
    assert stat.S_IMODE(wh.stat().st_mode) == 0o700
    assert stat.S_IMODE((wh / "mdm.duckdb").stat().st_mode) == 0o600


def test_runner_used_as_a_library_creates_owner_only_files(tmp_path: Path) -> None:
    """The runner called in-process (as the Airflow tasks do) under umask 022."""
    sample = tmp_path / "sample"
    old = os.umask(0o022)
    try:
        generate(sample, entities=20, seed=5)
        os.umask(0o022)
        runner.run(sample / "mdm.yaml")
    finally:
        os.umask(old)
    assert loose_paths(sample / "warehouse") == []


def test_restrict_tree_tightens_an_existing_folder(tmp_path: Path) -> None:
    root = tmp_path / "old"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.parquet").write_bytes(b"x")
    os.chmod(root, 0o755)
    os.chmod(root / "sub", 0o775)
    os.chmod(root / "sub" / "a.parquet", 0o644)
    (root / "link").symlink_to(root / "sub")
    assert len(loose_paths(root)) == 3
    assert restrict_tree(root) == 3
    assert loose_paths(root) == []
    assert stat.S_IMODE((root / "sub" / "a.parquet").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "sub").stat().st_mode) == 0o700


def test_owner_only_sets_the_umask(tmp_path: Path) -> None:
    old = owner_only()
    try:
        (tmp_path / "f").write_text("x")
        (tmp_path / "d").mkdir()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700
