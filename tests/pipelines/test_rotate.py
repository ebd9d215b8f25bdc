"""Key rotation of single tables and files (pipelines/rotate.py); the whole-warehouse rotation is tested
in test_encryption_run.py."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.crypto import FieldCipher, Keyring, key_id, new_key
from pipelines.rotate import _parquet_table_name, rotate_text_file, transform_table


@pytest.fixture()
def keys() -> tuple[bytes, bytes]:
    return new_key(), new_key()


def test_clear_values_of_a_warehouse_from_before_encryption_are_encrypted(keys: tuple[bytes, bytes]) -> None:
    new, _ = keys
    c = FieldCipher(Keyring.of([new], "test"))
    records = pa.table(
        {
            "source": ["cn", "crm", "gleif"],
            "phone": ["010-6552 8888", None, "+1 212 555 0100"],
            "relationship_manager": [None, "Lucy Sato", None],
            "extra": [
                '{"legal_representative": "黎桂阳", "registered_capital": "10(万)"}',
                '{"contact_email": "a@b.cn"}',
                '{"ManagingLOU": "5493001KJTIIGC8Y1R12"}',
            ],
            "name": ["甲公司", "Acme Ltd", "Lucy Sato Consulting"],
            "src_line": [1, 2, 3],
        }
    )
    out = transform_table(
        "organization_record", records, c, {"cn": "cn_registry_csv", "crm": "sql", "gleif": "gleif_lei_xml"}
    )
    assert out.schema == records.schema
    assert [c.decrypt(v) if v else v for v in out.column("phone").to_pylist()] == records.column("phone").to_pylist()
    assert out.column("relationship_manager").to_pylist()[1].startswith(f"enc:v1:{c.active}:")
    extras = [json.loads(v) for v in out.column("extra").to_pylist()]
    assert c.decrypt(extras[0]["legal_representative"]) == "黎桂阳" and extras[0]["registered_capital"] == "10(万)"
    assert c.decrypt(extras[1]["contact_email"]) == "a@b.cn"
    assert extras[2] == {"ManagingLOU": "5493001KJTIIGC8Y1R12"}
    assert out.column("name").to_pylist() == records.column("name").to_pylist()  # not sensitive


def test_lineage_and_quarantine_values_of_sensitive_attributes_only(keys: tuple[bytes, bytes]) -> None:
    old, new = keys
    c_old = FieldCipher(Keyring.of([old], "old"))
    c = FieldCipher(Keyring.of([new, old], "both"))
    lineage = pa.table(
        {
            "attribute": ["phone", "legal_name", "relationship_manager"],
            "value": ["13800138000", "甲公司", c_old.encrypt("Lucy Sato")],
        }
    )
    out = transform_table("golden_attribute_lineage", lineage, c, {}).column("value").to_pylist()
    assert c.decrypt(out[0]) == "13800138000" and out[1] == "甲公司"
    assert key_id(new) in out[2] and c.decrypt(out[2]) == "Lucy Sato"
    quarantine = pa.table({"column": ["phone", "name"], "value": ["13800138000", "甲公司"]})
    q = transform_table("quarantine", quarantine, c, {}).column("value").to_pylist()
    assert c.decrypt(q[0]) == "13800138000" and q[1] == "甲公司"


def test_tokens_in_any_text_file_move_to_the_new_key(tmp_path: Path, keys: tuple[bytes, bytes]) -> None:
    old, new = keys
    c_old = FieldCipher(Keyring.of([old], "old"))
    page = tmp_path / "validation.html"
    page.write_text(f"<td>{c_old.encrypt('黎桂阳')}</td><td>plain</td>", encoding="utf-8")
    plain = tmp_path / "index.html"
    plain.write_text("<p>no tokens</p>", encoding="utf-8")
    c = FieldCipher(Keyring.of([new, old], "both"))
    assert rotate_text_file(page, c) and not rotate_text_file(plain, c)
    text = page.read_text(encoding="utf-8")
    assert key_id(old) not in text and "<td>plain</td>" in text
    assert FieldCipher(Keyring.of([new], "new")).decrypt_text(text) == "<td>黎桂阳</td><td>plain</td>"
    assert oct(page.stat().st_mode & 0o777) == "0o600"


def test_parquet_files_are_named_after_their_table() -> None:
    assert _parquet_table_name(Path("snapshots/r/parquet/golden_organization.parquet")) == "golden_organization"
    assert _parquet_table_name(Path("raw/crm/load=r/organization/part-00001.parquet")) == "organization"
    assert _parquet_table_name(Path("raw/crm/load=r/organization/kept-00000.parquet")) == "organization"
