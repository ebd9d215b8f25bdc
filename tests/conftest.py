from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

# One encryption key for every test warehouse (a public test key, 64 bytes): tests that compare the values
# of two warehouses compare equal tokens. Tests of key files and key creation remove it (monkeypatch).
os.environ.setdefault("MDM_ENCRYPTION_KEY", base64.b64encode(hashlib.sha512(b"mdm-pipeline tests").digest()).decode())
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real public sample files; tests that need it skip cleanly when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder not found: {REALDATA}")
    return REALDATA


def make_ctx(tmp_path: Path | None = None, **source):
    """An ExtractContext for a source given as config keys (name defaults to 'src')."""
    from pipelines.adapters.base import ExtractContext
    from pipelines.config import SourceConfig

    source.setdefault("name", "src")
    return ExtractContext(SourceConfig(**source))


def sample_config(sample: Path, warehouse: Path, dest: Path, **extra: object) -> Path:
    """A generated sample's mdm.yaml rewritten with absolute paths and the given warehouse; ``extra``
    sets top-level keys (``incremental``, ``matching``, ``survivorship`` ...)."""
    import yaml

    raw = yaml.safe_load((sample / "mdm.yaml").read_text(encoding="utf-8"))
    raw["warehouse"] = str(warehouse)
    for s in raw["sources"]:
        if "path" in s:
            s["path"] = str(sample / s["path"])
        if "url" in s:
            s["url"] = "sqlite:///" + str(sample / s["url"].removeprefix("sqlite:///"))
    if raw.get("marts", {}).get("fx_rates"):
        raw["marts"]["fx_rates"] = str(sample / raw["marts"]["fx_rates"])
    raw.update(extra)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def read_frame(db: Path, sql: str, params: dict | list | None = None) -> pd.DataFrame:
    """A read-only query on a DuckDB file, as a DataFrame."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).df()
    finally:
        con.close()


def query_warehouse(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a read-only query on a published warehouse."""
    import duckdb

    con = duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# Hypothesis (fuzzing, issue 12): the default profile keeps every property test small enough for `make test`
# (the fuzz tests together take well under a minute); HYPOTHESIS_PROFILE=deep runs many more examples.
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "mdm",
        max_examples=30,
        deadline=5000,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    settings.register_profile(
        "deep",
        max_examples=3000,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mdm"))


_hypothesis_profiles()
