"""Fixtures of the adapter tests: the PostgreSQL test server (see tests/pg.sh)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The SQLAlchemy URL of the PostgreSQL test server: env MDM_TEST_PG_URL or `bash tests/pg.sh url`.

    When the server does not answer, the test is skipped locally but fails under CI=true, so that CI
    cannot pass by silently skipping the PostgreSQL tests.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = (
        os.environ.get("MDM_TEST_PG_URL")
        or subprocess.run(
            ["bash", str(ROOT / "tests" / "pg.sh"), "url"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except Exception as e:
        shown = make_url(url).render_as_string(hide_password=True)
        first = (str(getattr(e, "orig", None) or e).strip().splitlines() or [type(e).__name__])[0]
        msg = f"PostgreSQL test server not available at {shown} ({first}); run `bash tests/pg.sh start`"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh, uniquely named schema in the test database, dropped after the test."""
    from sqlalchemy import create_engine

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        engine.dispose()
