"""``mdm keys``: status, generate, rotate through the command line (errors without tracebacks)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import load_config
from pipelines.crypto import ENV_KEY, cipher_for, read_key_file

cli = CliRunner()


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)


def _config(tmp_path: Path) -> Path:
    (tmp_path / "in.csv").write_text("企业名称,统一社会信用代码\n甲公司,91110000000000000X\n", encoding="utf-8")
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text("warehouse: wh\nsources:\n  - {name: cn, format: cn_registry_csv, path: in.csv}\n", encoding="utf-8")
    return cfg


def test_every_keys_command_has_an_example() -> None:
    for cmd in ("status", "generate", "rotate"):
        res = cli.invoke(app, ["keys", cmd, "--help"])
        assert res.exit_code == 0 and "Example: mdm keys" in res.output


def test_generate_prints_a_fresh_64_byte_key() -> None:
    a, b = (cli.invoke(app, ["keys", "generate"]).output.strip() for _ in range(2))
    assert len(base64.b64decode(a)) == 64 and a != b


def test_status_names_the_key_file_and_id_never_the_key(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    res = cli.invoke(app, ["keys", "status", "--config", str(cfg)])
    assert res.exit_code == 1 and "no encryption key" in res.output and "Traceback" not in res.output
    active = cipher_for(load_config(cfg)).active
    res = cli.invoke(app, ["keys", "status", "--config", str(cfg)])
    assert res.exit_code == 0 and active in res.output and str(tmp_path / ".mdm-keys" / "mdm.key") in res.output
    key = read_key_file(tmp_path / ".mdm-keys" / "mdm.key").keys[active]
    assert base64.b64encode(key).decode() not in res.output


def test_rotate_with_a_single_env_key_explains_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path)
    key = cli.invoke(app, ["keys", "generate"]).output.strip()
    monkeypatch.setenv(ENV_KEY, key)
    cipher_for(load_config(cfg))  # the warehouse folder and its key id
    res = cli.invoke(app, ["keys", "rotate", "--config", str(cfg)])
    assert res.exit_code == 1 and f"{ENV_KEY}=<new>,<old>" in res.output and "Traceback" not in res.output
