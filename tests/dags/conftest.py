"""One migrated Airflow metadata DB (SQLite) per test session: migrating takes long, copying is instant."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AIRFLOW = Path(sys.executable).with_name("airflow")


@pytest.fixture(scope="session")
def airflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly migrated airflow.db; copy it into a test's AIRFLOW_HOME, never use it in place."""
    home = tmp_path_factory.mktemp("airflow_template")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "MDM_CONFIG"}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    proc = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=env, cwd=home, capture_output=True, text=True, timeout=900, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home / "airflow.db"


def copy_db(template: Path, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy2(template, home / "airflow.db")
