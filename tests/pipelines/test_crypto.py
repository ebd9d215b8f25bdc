"""Field-level encryption: tokens, keys and key files, what conform encrypts (pipelines/crypto.py)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pandas as pd
import pytest

from mdm import classification
from pipelines.adapters import conform, get_adapter
from pipelines.adapters.base import ExtractContext
from pipelines.config import SourceConfig, load_config
from pipelines.crypto import (
    ENV_KEY,
    EncryptionKeyError,
    FieldCipher,
    Keyring,
    cipher_for,
    default_key_file,
    encode_key,
    key_id,
    load_keyring,
    new_key,
    protect_overrides,
    read_key_file,
)
from pipelines.errors import ConfigError
from pipelines.warehouse import SQL_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _cipher(*keys: bytes) -> FieldCipher:
    return FieldCipher(Keyring.of(list(keys) or [new_key()], "test"))


def _config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "in.csv").write_text("企业名称,统一社会信用代码\n甲公司,91110000000000000X\n", encoding="utf-8")
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(
        "warehouse: wh\nsources:\n  - {name: cn, format: cn_registry_csv, path: in.csv}\n" + extra, encoding="utf-8"
    )
    return cfg


def test_round_trip_and_determinism() -> None:
    c = _cipher()
    for clear in ("+86 10 6552 8888", "黎桂阳", "Lucy Sato", "", "x" * 5000):
        token = c.encrypt(clear)
        assert token.startswith(f"enc:v1:{c.active}:")
        assert clear == "" or clear not in token
        assert c.decrypt(token) == clear
        assert c.encrypt(clear) == token  # deterministic: equality survives
    assert c.encrypt("Lucy Sato") != c.encrypt("Lucy Sat0")
    assert c.decrypt("not a token") == "not a token"


def test_another_key_gives_another_token_and_cannot_decrypt() -> None:
    a, b = _cipher(), _cipher()
    assert a.encrypt("黎桂阳") != b.encrypt("黎桂阳")
    with pytest.raises(EncryptionKeyError, match="not in the"):
        b.decrypt(a.encrypt("黎桂阳"))


def test_an_altered_token_is_refused() -> None:
    c = _cipher()
    token = c.encrypt("13800138000")
    body = token.rsplit(":", 1)[1]
    altered = token[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(EncryptionKeyError, match="does not decrypt"):
        c.decrypt(altered)


def test_decrypt_text_keeps_json_valid_and_rekey_moves_tokens_to_the_active_key() -> None:
    old, new = new_key(), new_key()
    c_old = _cipher(old)
    extra = json.dumps({"legal_representative": c_old.encrypt('王"五'), "registered_capital": "50(万)"})
    both = _cipher(new, old)
    assert json.loads(both.decrypt_text(extra)) == {"legal_representative": '王"五', "registered_capital": "50(万)"}
    moved = both.rekey_text(extra)
    assert key_id(old) not in moved and key_id(new) in moved
    assert json.loads(_cipher(new).decrypt_text(moved))["legal_representative"] == '王"五'


def test_protect_frame_encrypts_declared_columns_and_extra_keys_only() -> None:
    c = _cipher()
    frame = pd.DataFrame(
        {
            "name": ["甲公司", "乙公司"],
            "phone": ["010-1234", None],
            "relationship_manager": ["Lucy Sato", "Lucy Sato"],
            "extra": ['{"legal_representative": "黎桂阳", "registered_capital": "10(万)"}', None],
        }
    )
    out = c.protect_frame(frame, "cn_registry_csv")
    assert out["name"].tolist() == ["甲公司", "乙公司"]
    assert out["phone"][1] is None and c.decrypt(out["phone"][0]) == "010-1234"
    assert out["relationship_manager"][0] == out["relationship_manager"][1]  # equal values, equal tokens
    extra = json.loads(out["extra"][0])
    assert extra["registered_capital"] == "10(万)" and c.decrypt(extra["legal_representative"]) == "黎桂阳"
    # A bank system's unclassified columns are all sensitive.
    crm = c.protect_frame(pd.DataFrame({"extra": ['{"contact_email": "a@b.cn", "score": 3}']}), "sql")
    crm_extra = json.loads(crm["extra"][0])
    assert c.decrypt(crm_extra["contact_email"]) == "a@b.cn" and c.decrypt(crm_extra["score"]) == "3"


def test_conform_with_a_cipher_encrypts_and_without_keeps_clear() -> None:
    frame = pd.DataFrame(
        {
            "source_id": ["1"],
            "name": ["A Ltd"],
            "phone": [" 020 7946 0000 "],
            "extra": ['{"legal_representative": "张三"}'],
        }
    )
    src = SourceConfig(name="cn", format="cn_registry_csv", path=Path("x.csv"))
    c = _cipher()
    out = conform("organization", frame, ExtractContext(src, cipher=c))
    assert c.decrypt(out["phone"][0]) == "020 7946 0000"  # stripped before encryption
    assert "张三" not in out["extra"][0]
    clear = conform("organization", frame, ExtractContext(src))
    assert clear["phone"][0] == "020 7946 0000"


def test_overrides_of_sensitive_attributes_become_tokens() -> None:
    c = _cipher()
    ov = pd.DataFrame(
        {
            "golden_id": ["G1", "G1"],
            "attribute": ["phone", "legal_name"],
            "value": ["13800138000", "甲公司"],
            "steward": ["s", "s"],
            "decided_at": ["2026", "2026"],
        }
    )
    out = protect_overrides(ov, c)
    assert c.decrypt(out["value"][0]) == "13800138000" and out["value"][1] == "甲公司"
    assert ov["value"][0] == "13800138000"  # the caller's frame is left as it was


def test_first_use_creates_an_owner_only_key_file_outside_the_warehouse(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path))
    assert not (tmp_path / ".mdm-keys").exists()
    c = cipher_for(cfg)
    path = tmp_path / ".mdm-keys" / "mdm.key"
    assert path.exists() and not path.resolve().is_relative_to(cfg.warehouse.resolve())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_key_file(path).active == c.active
    assert (cfg.warehouse / ".key-id").read_text().strip() == c.active
    # The next use reads the same key.
    assert cipher_for(cfg).encrypt("x") == c.encrypt("x")


def test_default_key_file_is_beside_the_warehouse_never_inside(tmp_path: Path) -> None:
    path = default_key_file(tmp_path / "project" / "wh")
    assert path == tmp_path / "project" / ".mdm-keys" / "mdm.key"
    # Whatever folder the config is in: every config naming the warehouse finds the key.
    assert default_key_file(tmp_path / "project" / "x" / ".." / "wh") == path


def test_env_key_beats_the_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(_config(tmp_path))
    key = new_key()
    monkeypatch.setenv(ENV_KEY, encode_key(key))
    assert load_keyring(cfg).active == key_id(key)
    assert not (tmp_path / ".mdm-keys").exists()
    monkeypatch.setenv(ENV_KEY, "bm90IGEga2V5")
    with pytest.raises(EncryptionKeyError, match="64 bytes"):
        load_keyring(cfg)


def test_named_key_file_must_exist(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "security: {key_file: keys/mdm.key}\n"))
    assert cfg.security.key_file == tmp_path / "keys" / "mdm.key"
    with pytest.raises(ConfigError, match="key file not found"):
        load_keyring(cfg)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path))
    cipher_for(cfg)
    path = tmp_path / ".mdm-keys" / "mdm.key"
    path.chmod(0o644)
    with pytest.raises(EncryptionKeyError, match="chmod 600"):
        load_keyring(cfg)


def test_a_warehouse_refuses_a_keyring_without_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(_config(tmp_path))
    first = cipher_for(cfg).active
    monkeypatch.setenv(ENV_KEY, encode_key(new_key()))
    with pytest.raises(EncryptionKeyError, match=f"encrypted with key {first}"):
        cipher_for(cfg)


def test_analyst_views_mask_exactly_the_declared_columns() -> None:
    """The SQL of the analyst views cannot import mdm.classification: its lists must equal it."""
    sql = (SQL_DIR / "marts" / "analyst_views.sql").read_text(encoding="utf-8")
    masked = set(re.findall(r"analyst\.mask\((\w+)\) AS (\w+)", sql))
    assert {a for a, b in masked if a == b} == set(classification.SENSITIVE_COLUMNS)
    lineage = re.search(r"attribute IN \(([^)]*)\)", sql).group(1)
    assert set(re.findall(r"'(\w+)'", lineage)) == set(classification.SENSITIVE_ATTRIBUTES)
    quarantine = re.search(r'"column" IN \(([^)]*)\)', sql).group(1)
    assert set(re.findall(r"'(\w+)'", quarantine)) == {*classification.SENSITIVE_COLUMNS, classification.EXTRA_COLUMN}


def test_no_suite_checks_the_format_of_an_encrypted_column() -> None:
    """Landings hold tokens in sensitive columns, so a GX rule on their format would judge ciphertext:
    only presence rules (and the column set) may name them."""
    allowed = {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_column_to_exist",
    }
    sensitive = {*classification.SENSITIVE_COLUMNS, classification.EXTRA_COLUMN}
    for suite in sorted((ROOT / "expectations" / "suites").glob("*.json")):
        for exp in json.loads(suite.read_text(encoding="utf-8"))["expectations"]:
            if exp["kwargs"].get("column") in sensitive:
                assert exp["type"] in allowed, f"{suite.name}: {exp['type']} on {exp['kwargs']['column']}"


@pytest.mark.realdata
def test_real_cn_register_legal_representatives_never_leave_conform_in_clear(realdata: Path) -> None:
    """Every 法人代表 of the real 1998 register (read in place) is a token after conform, and decrypts back."""
    import csv

    path = realdata / "cn-enterprise-registry" / "cn-enterprise-registration-1998-all-provinces.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        names = {r["法人代表"].strip() for r in csv.DictReader(fh) if r.get("法人代表") and r["法人代表"].strip()}
    names -= {"N/A", "None Supplied"}  # the CSV reader reads these as missing (pipelines/adapters/_csv.py)
    assert len(names) > 1000
    src = SourceConfig(name="cn", format="cn_registry_csv", path=path)
    c = _cipher()
    ctx = ExtractContext(src, cipher=c)
    seen: set[str] = set()
    for batch in get_adapter("cn_registry_csv")(ctx):
        frame = conform(batch.table, batch.frame, ctx)
        for text in frame["extra"].dropna():
            rep = json.loads(text).get("legal_representative")
            if rep is not None:
                assert rep.startswith("enc:v1:")
                seen.add(c.decrypt(rep))
    assert seen == names


def test_a_warehouse_moved_without_its_key_asks_for_it(tmp_path: Path) -> None:
    first = tmp_path / "a"
    first.mkdir()
    cfg = load_config(_config(first))
    cipher_for(cfg)
    moved = tmp_path / "b"
    moved.mkdir()
    (moved / "wh").mkdir()
    (moved / "wh" / ".key-id").write_bytes((first / "wh" / ".key-id").read_bytes())
    with pytest.raises(EncryptionKeyError, match="copy the warehouse's key file there"):
        cipher_for(load_config(_config(moved)))
    assert not (moved / ".mdm-keys").exists()  # no new key that would make a second key history


def test_two_first_runs_at_once_agree_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cfg = load_config(_config(tmp_path))
    with ThreadPoolExecutor(8) as pool:
        actives = set(pool.map(lambda _: load_keyring(cfg).active, range(16)))
    assert actives == {read_key_file(tmp_path / ".mdm-keys" / "mdm.key").active}
    assert [p.name for p in (tmp_path / ".mdm-keys").iterdir()] == ["mdm.key"]  # no temporary file left
