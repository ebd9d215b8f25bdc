"""Fixtures of the workbench tests: one generated sample run (300 entities, seed 7), copied per module
that changes it, users of every role, and a TestClient."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import sample_config

PASSWORD = "correct horse battery"
ROLES = {"stew": "steward", "eng": "engineer", "ana": "analyst", "aud": "auditor"}


@pytest.fixture(scope="session")
def web_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated sample published once (never changed: tests work on copies)."""
    from pipelines import control, runner, users
    from pipelines.sample import generate

    base = tmp_path_factory.mktemp("web")
    generate(base / "sample", entities=300, seed=7)
    cfg = sample_config(base / "sample", base / "wh", base / "mdm.yaml")
    runner.run(cfg)
    con = control.connect(base / "wh")
    try:
        for name, role in ROLES.items():
            users.add_user(con, name, PASSWORD, role)
    finally:
        con.close()
    return cfg


def copy_warehouse(cfg: Path, dest: Path) -> Path:
    """A private copy of the published warehouse (links kept) with its own config."""
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    shutil.copytree(raw["warehouse"], dest / "wh", symlinks=True)
    raw["warehouse"] = str(dest / "wh")
    out = dest / "mdm.yaml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    token = csrf_of(client.get("/signin").text)
    return client.post(
        "/signin", data={"csrf": token, "name": name, "password": password, "next": "/"}, follow_redirects=False
    )
