"""Issue 12: ``mdm sql`` and every analyst path run in DuckDB's sandbox. Each attack an analyst could try
(overwrite the published Parquet or a raw landing with COPY, read any file, ATTACH a writable database,
INSTALL an extension, switch the sandbox off again) is refused with a clear message and changes nothing."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipelines import runner, sandbox, sqlshell
from pipelines.cli import app
from pipelines.sample import generate

cli = CliRunner()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sandbox") / "sample"
    generate(out, entities=40, seed=3)
    runner.run(out / "mdm.yaml")
    return out / "mdm.yaml"


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (following the parquet/docs symlinks)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".lock" not in p.name
    }


def refused(cfg: Path, sql: str) -> str:
    """Run ``sql`` through ``mdm sql``; assert a clean refusal and return the error output."""
    res = cli.invoke(app, ["sql", "--config", str(cfg), sql])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert "refused" in res.stderr, res.stderr
    return res.stderr


def test_sandbox_settings_are_on_and_locked(sample: Path) -> None:
    con = sandbox.open_readonly(sample.parent / "warehouse" / "mdm.duckdb")
    try:
        values = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('enable_external_access', 'lock_configuration', 'autoinstall_known_extensions', "
                "'autoload_known_extensions')"
            ).fetchall()
        )
    finally:
        con.close()
    assert values == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


def test_copy_over_published_parquet_and_landings_is_refused(sample: Path) -> None:
    wh = sample.parent / "warehouse"
    before = digests(wh)
    parquet = (wh / "parquet" / "golden_organization.parquet").resolve()
    landing = next((wh / "raw").rglob("*.parquet"))
    assert parquet.is_file() and landing.is_file()
    for target in (parquet, landing):
        copy = (
            f"COPY (SELECT legal_name || ' TAMPERED' AS legal_name FROM golden_organization) "
            f"TO '{target}' (FORMAT parquet)"
        )
        assert "COPY statement is not a query" in refused(sample, copy)
        con = sandbox.open_readonly(wh / "mdm.duckdb")
        try:  # the sandbox refuses it by itself too
            with pytest.raises(duckdb.Error, match="file system operations are disabled"):
                con.execute(copy)
        finally:
            con.close()
    refused(sample, f"EXPORT DATABASE '{wh / 'export'}'")
    assert digests(wh) == before
    assert not (wh / "export").exists()


def test_reading_files_outside_the_database_is_refused(sample: Path) -> None:
    msg = refused(sample, "SELECT * FROM read_csv('/etc/passwd')")
    assert "/etc/passwd" in msg and "root:" not in msg
    landing = next((sample.parent / "warehouse" / "raw").rglob("*.parquet"))
    refused(sample, f"SELECT count(*) FROM read_parquet('{landing}')")
    refused(sample, f"SELECT content FROM read_text('{sample}')")


def test_attach_a_writable_database_is_refused(sample: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    refused(sample, f"ATTACH '{other}' AS w")
    assert not other.exists()
    msg = refused(sample, f"ATTACH '{sample.parent / 'warehouse' / 'mdm.duckdb'}' AS w2")
    assert "ATTACH statement is not a query" in msg


def test_install_and_load_are_refused(sample: Path) -> None:
    refused(sample, "INSTALL httpfs")
    refused(sample, "LOAD httpfs")
    refused(sample, "UPDATE EXTENSIONS")
    con = sandbox.open_readonly(sample.parent / "warehouse" / "mdm.duckdb")
    try:  # the sandbox refuses them by itself too
        for stmt in ("INSTALL httpfs", "LOAD httpfs"):
            with pytest.raises(duckdb.Error, match="disabled"):
                con.execute(stmt)
    finally:
        con.close()


def test_the_sandbox_cannot_be_switched_off_later(sample: Path) -> None:
    for stmt in (
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET autoinstall_known_extensions = true",
        "RESET enable_external_access",
    ):
        assert "SET statement is not a query" in refused(sample, stmt)
        con = sandbox.open_readonly(sample.parent / "warehouse" / "mdm.duckdb")
        try:  # DuckDB refuses it by itself as well (the settings are locked)
            with pytest.raises(duckdb.Error, match="locked"):
                con.execute(stmt)
        finally:
            con.close()
    # In one shell session: the SET fails and the file read after it is still refused.
    out, err = io.StringIO(), io.StringIO()
    con = sqlshell.open_warehouse(sample)
    try:
        failed = sqlshell.Shell(con, Console(file=out), Console(file=err)).loop(
            [
                "SET enable_external_access = true;",
                "SELECT * FROM read_csv('/etc/passwd');",
                "SELECT count(*) AS n FROM golden_organization;",
            ]
        )
    finally:
        con.close()
    assert failed == 2
    assert err.getvalue().count("refused") == 2
    assert "root:" not in out.getvalue() and "1 row" in out.getvalue()


def test_writes_to_the_database_are_refused(sample: Path) -> None:
    db = sample.parent / "warehouse" / "mdm.duckdb"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    refused(sample, "DELETE FROM golden_organization")
    refused(sample, "CREATE TABLE evil AS SELECT 1")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_analyst_paths_use_the_sandbox(sample: Path) -> None:
    """explain, the quality scorecard and the schema docs open the warehouse through pipelines.sandbox."""
    import pipelines.explain
    import pipelines.schema_doc
    import pipelines.scorecard

    for module in (pipelines.explain, pipelines.scorecard, pipelines.schema_doc, sqlshell):
        src = Path(module.__file__).read_text(encoding="utf-8")
        assert "open_readonly(" in src, module.__name__
        assert "duckdb.connect(" not in src and "wh.connect(" not in src, module.__name__
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con = sandbox.open_readonly(sample.parent / "warehouse" / "mdm.duckdb")
        try:
            con.execute("SELECT * FROM read_csv('/etc/passwd')")
        finally:
            con.close()
