from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
