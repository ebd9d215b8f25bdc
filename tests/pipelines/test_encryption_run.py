"""Encryption at rest over a whole run (issue 12, points 3 and 4): a known phone number, a relationship
manager and a legal representative (法人代表) of a generated sample appear nowhere under the warehouse
folder (no file's bytes, no DuckDB table, no Parquet column), stewards read them back, analysts see
tokens that join, and a key rotation leaves everything readable with the new key only."""

from __future__ import annotations

import contextlib
import csv
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from pipelines import rotate as rotate_mod
from pipelines import runner
from pipelines.access import open_for_role
from pipelines.config import load_config
from pipelines.crypto import ENV_KEY, EncryptionKeyError, FieldCipher, Keyring, read_key_file, warehouse_key_id
from pipelines.sample import generate
from tests.conftest import sample_config

ENTITIES = 300
SEED = 11


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, entities=ENTITIES, seed=SEED)
    return out


@pytest.fixture(scope="module")
def secrets_of(sample: Path) -> dict[str, str]:
    """A CRM phone number and relationship manager, and a 法人代表 of the CN register that appears in no
    other column of the register (so finding it anywhere means it leaked)."""
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    phone, manager = con.execute(
        "SELECT phone, relationship_manager FROM customers WHERE phone IS NOT NULL "
        "AND length(phone) >= 10 AND relationship_manager IS NOT NULL "
        "ORDER BY source_id LIMIT 1"
    ).fetchone()
    con.close()
    with open(sample / "registry" / "cn_registry.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    others = "\n".join(v for r in rows for k, v in r.items() if k != "法人代表" and v)
    rep = next(r["法人代表"] for r in rows if len(r["法人代表"] or "") >= 2 and r["法人代表"] not in others)
    return {"phone": phone, "relationship_manager": manager, "legal_representative": rep}


def _config(sample: Path, root: Path) -> Path:
    return sample_config(sample, root / "warehouse", root / "mdm.yaml")


@pytest.fixture(scope="module")
def published(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = _config(sample, tmp_path_factory.mktemp("enc"))
    with pytest.MonkeyPatch.context() as mp:  # module scope: set up before the autouse fixture above runs
        mp.delenv(ENV_KEY, raising=False)
        runner.run(cfg)  # without a key anywhere the first run creates the key file
    return cfg


def _encodings(value: str) -> list[bytes]:
    out = [value.encode("utf-8")]
    for enc in ("gb18030", "utf-16-le"):
        with contextlib.suppress(UnicodeEncodeError):
            out.append(value.encode(enc))
    return out


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
    ).fetchall()
    return ['"{}"."{}"."{}"'.format(*r) for r in rows]


def _leaks(warehouse: Path, needles: list[str]) -> list[str]:
    """Where any needle is found under the warehouse: file bytes, DuckDB rows, Parquet rows."""
    found = []
    files = [p for p in warehouse.rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".duckdb" for p in files)
    assert any(p.suffix == ".html" for p in files)  # Data Docs are among the files searched
    for p in files:
        data = p.read_bytes()
        found += [f"{p}: bytes of {n!r}" for n in needles for b in _encodings(n) if b in data]
    for p in files:
        if p.suffix == ".duckdb":
            con = duckdb.connect(str(p), read_only=True)
            try:
                for t in _tables(con):
                    for n in needles:
                        if con.execute(
                            f"SELECT count(*) FROM {t} AS r WHERE contains(r::VARCHAR, $n)", {"n": n}
                        ).fetchone()[0]:
                            found.append(f"{p}: table {t} holds {n!r}")
            finally:
                con.close()
        elif p.suffix == ".parquet":
            con = duckdb.connect()
            try:
                for n in needles:
                    if con.execute(
                        "SELECT count(*) FROM read_parquet($f, hive_partitioning = false) AS r "
                        "WHERE contains(r::VARCHAR, $n)",
                        {"f": str(p), "n": n},
                    ).fetchone()[0]:
                        found.append(f"{p}: Parquet rows hold {n!r}")
            finally:
                con.close()
    return found


def _steward_counts(cfg: Path, s: dict[str, str]) -> tuple[int, int, int]:
    con = open_for_role(load_config(cfg), "steward")
    try:
        phone = con.execute(
            "SELECT count(*) FROM organization_record WHERE mdm_decrypt(phone) = $p", {"p": s["phone"]}
        ).fetchone()[0]
        manager = con.execute(
            "SELECT count(*) FROM golden_organization WHERE mdm_decrypt(relationship_manager) = $m",
            {"m": s["relationship_manager"]},
        ).fetchone()[0]
        rep = con.execute(
            "SELECT count(*) FROM organization_record "
            "WHERE json_extract_string(mdm_decrypt(extra), '$.legal_representative') = $r",
            {"r": s["legal_representative"]},
        ).fetchone()[0]
    finally:
        con.close()
    return phone, manager, rep


def _join_counts(cfg: Path) -> tuple[int, int]:
    """Golden records whose phone is the phone of one of their own records: by the stewards' clear values
    and by the analysts' tokens (the two must agree: tokens join as the values do)."""
    sql = (
        "SELECT count(DISTINCT g.golden_id) FROM {golden} g JOIN {records} o ON o.golden_id = g.golden_id AND {o} = {g}"
    )
    st = open_for_role(load_config(cfg), "steward")
    try:
        clear = st.execute(
            sql.format(
                golden="golden_organization",
                records="organization_record",
                o="mdm_decrypt(o.phone)",
                g="mdm_decrypt(g.phone)",
            )
        ).fetchone()[0]
    finally:
        st.close()
    an = open_for_role(load_config(cfg), "analyst")
    try:
        tokens = an.execute(
            sql.format(golden="v_golden_organization", records="v_organization_record", o="o.phone", g="g.phone")
        ).fetchone()[0]
        assert all(
            p.startswith("tok:")
            for (p,) in an.execute("SELECT phone FROM v_organization_record WHERE phone IS NOT NULL").fetchall()
        )
        shown = an.execute("SELECT phone FROM v_golden_organization WHERE phone IS NOT NULL").fetchall()
        assert shown and all(p.startswith("tok:") and len(p) == 20 for (p,) in shown)
    finally:
        an.close()
    return clear, tokens


def test_sample_holds_the_values_in_clear(sample: Path, secrets_of: dict[str, str]) -> None:
    """Positive control: the byte search finds the values where they are in clear (the sources)."""
    assert secrets_of["phone"].encode() in (sample / "internal" / "crm.sqlite").read_bytes()
    assert secrets_of["legal_representative"].encode() in (sample / "registry" / "cn_registry.csv").read_bytes()


def test_no_sensitive_value_in_clear_under_the_warehouse(published: Path, secrets_of: dict[str, str]) -> None:
    warehouse = load_config(published).warehouse
    assert _leaks(warehouse, list(secrets_of.values())) == []


def test_stewards_read_the_clear_values(published: Path, secrets_of: dict[str, str]) -> None:
    phone, manager, rep = _steward_counts(published, secrets_of)
    assert phone >= 1 and manager >= 1 and rep == 1


def test_analysts_see_tokens_that_join(published: Path) -> None:
    clear, tokens = _join_counts(published)
    assert clear > 0 and tokens == clear


def test_analysts_have_no_decrypt_function(published: Path) -> None:
    con = open_for_role(load_config(published), "analyst")
    try:
        with pytest.raises(duckdb.Error, match="mdm_decrypt"):
            con.execute("SELECT mdm_decrypt(phone) FROM main.golden_organization").fetchall()
    finally:
        con.close()


def _copy(published: Path, sample: Path, root: Path) -> Path:
    """A copy of the published warehouse and its key file under ``root``; returns its config."""
    src = published.parent
    shutil.copytree(src / "warehouse", root / "warehouse", symlinks=True)
    shutil.copytree(src / ".mdm-keys", root / ".mdm-keys")
    return _config(sample, root)


def test_rotation_reencrypts_everything_and_retires_the_old_key(
    published: Path, sample: Path, tmp_path: Path, secrets_of: dict[str, str]
) -> None:
    cfg = _copy(published, sample, tmp_path)
    key_file = tmp_path / ".mdm-keys" / "mdm.key"
    old = read_key_file(key_file)
    report = rotate_mod.rotate_keys(load_config(cfg))
    assert report.retired and report.old_keys == [old.active] and report.new_key != old.active
    new = read_key_file(key_file)
    assert set(new.keys) == {report.new_key} and warehouse_key_id(tmp_path / "warehouse") == report.new_key
    # No token under the old key is left anywhere (searching by its id), no clear value appeared ...
    assert _leaks(tmp_path / "warehouse", [f"enc:v1:{old.active}:"]) == []
    assert _leaks(tmp_path / "warehouse", list(secrets_of.values())) == []
    # ... everything reads with the new key alone, analysts' tokens still join ...
    assert _steward_counts(cfg, secrets_of) == _steward_counts(published, secrets_of)
    assert _join_counts(cfg) == _join_counts(published)
    # ... and the old key alone reads nothing any more.
    con = duckdb.connect(str(tmp_path / "warehouse" / "mdm.duckdb"), read_only=True)
    token = con.execute("SELECT phone FROM golden_organization WHERE phone IS NOT NULL LIMIT 1").fetchone()[0]
    con.close()
    with pytest.raises(EncryptionKeyError):
        FieldCipher(Keyring(old.active, old.keys, "old")).decrypt(token)
    # The pipeline runs on over the rotated warehouse.
    summary = runner.run(cfg)
    assert summary.ok
    assert _leaks(tmp_path / "warehouse", list(secrets_of.values())) == []
    assert _steward_counts(cfg, secrets_of)[2] == 1


def test_a_rotation_that_stops_half_way_stays_readable_and_finishes_on_rerun(
    published: Path, sample: Path, tmp_path: Path, secrets_of: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _copy(published, sample, tmp_path)
    key_file = tmp_path / ".mdm-keys" / "mdm.key"
    old = read_key_file(key_file).active
    real = rotate_mod.rotate_parquet
    done = []

    def crash_after_three(*args, **kwargs):
        if len(done) == 3:
            raise OSError("disk full (simulated)")
        done.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(rotate_mod, "rotate_parquet", crash_after_three)
    with pytest.raises(OSError, match="simulated"):
        rotate_mod.rotate_keys(load_config(cfg))
    ring = read_key_file(key_file)
    assert old in ring.keys and len(ring.keys) == 2  # both keys kept: old and new data both readable
    assert _steward_counts(cfg, secrets_of) == _steward_counts(published, secrets_of)
    monkeypatch.setattr(rotate_mod, "rotate_parquet", real)
    report = rotate_mod.rotate_keys(load_config(cfg))
    assert report.retired and report.new_key == ring.active  # the same new key, no third one
    assert set(read_key_file(key_file).keys) == {ring.active}
    assert _leaks(tmp_path / "warehouse", [f"enc:v1:{old}:"]) == []
    assert _steward_counts(cfg, secrets_of) == _steward_counts(published, secrets_of)


def test_rotation_refuses_while_a_run_is_in_progress(published: Path, sample: Path, tmp_path: Path) -> None:
    cfg = _copy(published, sample, tmp_path)
    run_id = runner.start_run(cfg)
    with pytest.raises(rotate_mod.RotationError, match=run_id):
        rotate_mod.rotate_keys(load_config(cfg))
    runner.abort_run(cfg, run_id)
