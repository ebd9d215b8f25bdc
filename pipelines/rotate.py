"""Key rotation: re-encrypt every sensitive value of a warehouse under a new key, then retire the old one.

What is rewritten, file by file under the warehouse folder (symlinks are not followed; their targets
are in the folder anyway):

- DuckDB files (``mdm.duckdb``): copied into a new file (schema first, then every table with its values
  re-encrypted), which replaces the old one by an atomic rename. A new file rather than an update in
  place: DuckDB does not wipe freed blocks, and the old file would keep the old ciphertext.
- Parquet files (exports of every kept snapshot, raw landings of every load): each rewritten to a
  temporary file and renamed over the old one.
- Text files holding a token (Data Docs HTML and JSON, failure reports; :data:`TEXT_SUFFIXES`): tokens
  replaced in place of the bytes, by an atomic rename. Other files are left alone.

In every table, sensitive columns (:mod:`mdm.classification`) that still hold clear values (a warehouse
from before encryption) are encrypted too, and every token under an older key anywhere in any text
column is re-encrypted. The old key stays in the keyring until every file is done: a rotation that
crashes leaves each file either old or new, all readable, and running ``mdm keys rotate`` again finishes
it (with the same new key). Rotation holds the warehouse's publish lock and refuses to start while a
run is in progress.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mdm import classification
from pipelines.crypto import (
    ENV_KEY,
    EncryptionKeyError,
    FieldCipher,
    Keyring,
    load_keyring,
    mark_warehouse,
    new_key,
    write_key_file,
)
from pipelines.sqlrow import one_row
from pipelines.warehouse import RUN_ID, Warehouse

TOKEN_BYTES = re.compile(rb"enc:v1:[0-9a-f]{12}:[A-Za-z0-9_-]+")
# Files whose tokens are rewritten in place of their bytes; other files (SQLite control store, WAL files,
# archives) are never edited byte-wise.
TEXT_SUFFIXES = frozenset({".html", ".json", ".txt", ".csv", ".md", ".xml", ".js"})
LINEAGE_TABLE = "golden_attribute_lineage"
QUARANTINE_TABLE = "quarantine"


class RotationError(EncryptionKeyError):
    """Rotation cannot start or finish; the message says why and what to do."""


@dataclass
class RotationReport:
    old_keys: list[str]
    new_key: str
    databases: list[str] = field(default_factory=list)
    parquet_files: int = 0
    text_files: int = 0
    retired: bool = False
    message: str = ""


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _runs_in_progress(wh: Warehouse) -> list[str]:
    if not wh.runs_dir.is_dir():
        return []
    return sorted(p.name for p in wh.runs_dir.iterdir() if p.is_dir() and RUN_ID.match(p.name))


# -- values ---------------------------------------------------------------------------------------------


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def transform_table(name: str, table: pa.Table, cipher: FieldCipher, formats: dict[str, str]) -> pa.Table:
    """An Arrow table of warehouse table ``name`` with every sensitive value under the active key.

    ``formats``: source name -> format, for the rows of a table that has ``source`` but no ``source_format``
    (which keys of ``extra`` are sensitive depends on the format)."""
    cols = table.column_names

    def col(c: str) -> list[Any]:
        return table.column(c).to_pylist()

    if "source_format" in cols:
        row_formats = col("source_format")
    elif "source" in cols:
        row_formats = [formats.get(s or "", "") for s in col("source")]
    else:
        row_formats = [""] * table.num_rows
    for i, f in enumerate(table.schema):
        if not _is_text(f.type):
            continue
        values = col(f.name)
        out: list[Any]
        if classification.is_sensitive_column(f.name):
            out = cipher.protect_values(values, clear=False)
        elif f.name == classification.EXTRA_COLUMN:
            out = [
                cipher.rekey_text(cipher.protect_extra(v, fmt, clear=False)) if v is not None else None
                for v, fmt in zip(values, row_formats)
            ]
        elif f.name == "value" and name in (LINEAGE_TABLE, QUARANTINE_TABLE):
            kinds = col("attribute") if name == LINEAGE_TABLE else col("column")
            out = [
                cipher.protect(v)
                if k in classification.SENSITIVE_ATTRIBUTES or (k is not None and classification.is_sensitive_column(k))
                else cipher.rekey_text(v)
                for v, k in zip(values, kinds)
            ]
        else:
            if not any(v is not None and "enc:v1:" in v for v in values):
                continue
            out = [cipher.rekey_text(v) for v in values]
        table = table.set_column(i, f, pa.array(out, type=f.type))
    return table


# -- files ----------------------------------------------------------------------------------------------


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.rotate-{secrets.token_hex(4)}")


def rotate_duckdb(path: Path, cipher: FieldCipher, formats: dict[str, str]) -> None:
    """Rewrite a DuckDB file into a new one with every value under the active key (see module doc)."""
    tmp = _tmp_beside(path)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("ATTACH $p AS rot_src (READ_ONLY)", {"p": str(path)})
        target = one_row(con.execute("SELECT current_database()"))[0]
        con.execute(f"COPY FROM DATABASE rot_src TO {_q(target)} (SCHEMA)")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'rot_src' "
            "ORDER BY schema_name, table_name"
        ).fetchall()
        for schema, name in tables:
            src = f"rot_src.{_q(schema)}.{_q(name)}"
            dest = f"{_q(target)}.{_q(schema)}.{_q(name)}"
            data = con.sql(f"SELECT * FROM {src}").to_arrow_table()
            data = transform_table(name, data, cipher, formats)
            con.register("rot_data", data)
            con.execute(f"INSERT INTO {dest} SELECT * FROM rot_data")
            con.unregister("rot_data")
        con.execute("DETACH rot_src")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def rotate_parquet(path: Path, cipher: FieldCipher, formats: dict[str, str], name: str) -> None:
    table = pq.read_table(path)
    new = transform_table(name, table, cipher, formats)
    if new is table:
        return
    tmp = _tmp_beside(path)
    pq.write_table(new, tmp, compression="zstd")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def rotate_text_file(path: Path, cipher: FieldCipher) -> bool:
    """Replace the tokens in a file's bytes; whether it had any."""
    data = path.read_bytes()
    if b"enc:v1:" not in data:
        return False
    new = TOKEN_BYTES.sub(lambda m: cipher.rekey_text(m.group(0).decode("ascii")).encode("ascii"), data)
    if new != data:
        tmp = _tmp_beside(path)
        tmp.write_bytes(new)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return True


def _parquet_table_name(path: Path) -> str:
    """The warehouse table a Parquet file holds: exports are named <table>.parquet, landings live in
    raw/<source>/load=<run>/<table>/part-*.parquet."""
    return path.stem if not path.name.startswith(("part-", "kept-")) else path.parent.name


def _files(root: Path) -> list[Path]:
    out = []
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        for f in filenames:
            p = Path(dirpath) / f
            if not p.is_symlink() and p.is_file() and f != ".lock":
                out.append(p)
    return sorted(out)


# -- the rotation ---------------------------------------------------------------------------------------


def _target_ring(config: Any) -> Keyring:
    """The keyring to rotate with: active = the key to rotate to (a new key added to a key file holding
    one key; the active key of an unfinished rotation; the first key of MDM_ENCRYPTION_KEY)."""
    ring = load_keyring(config, create=False)
    path = ring.path
    if path is None:
        if len(ring.keys) < 2:
            raise RotationError(
                f"the key comes from {ENV_KEY}: make a new key (`mdm keys generate`), set {ENV_KEY}=<new>,<old>, "
                f"run `mdm keys rotate` again, then remove <old> from {ENV_KEY}"
            )
        return ring
    if len(ring.keys) == 1:
        key = new_key()
        ring = Keyring.of([key, *ring.keys.values()], ring.origin, path)
        write_key_file(path, ring)  # the old key stays until every file is re-encrypted
    return ring


def rotate_keys(config: Any, progress: Callable[[str], None] | None = None) -> RotationReport:
    """Re-encrypt every sensitive value under the warehouse of ``config`` with a new key and retire the
    old keys (see module doc)."""
    wh = Warehouse(config.warehouse)
    if not wh.root.is_dir():
        raise RotationError(f"no warehouse at {wh.root}")
    busy = _runs_in_progress(wh)
    if busy:
        raise RotationError(
            f"runs in progress (or abandoned) in {wh.runs_dir}: {', '.join(busy)}; wait for them "
            "to end (or remove an abandoned one's folder) and rotate again"
        )
    ring = _target_ring(config)
    cipher = FieldCipher(ring)
    formats = {s.name: s.format for s in config.sources}
    report = RotationReport(old_keys=sorted(k for k in ring.keys if k != ring.active), new_key=ring.active)
    with wh.lock():
        for path in _files(wh.root):
            if progress:
                progress(str(path.relative_to(wh.root)))
            if path.suffix == ".duckdb":
                rotate_duckdb(path, cipher, formats)
                report.databases.append(str(path))
            elif path.suffix == ".parquet":
                rotate_parquet(path, cipher, formats, _parquet_table_name(path))
                report.parquet_files += 1
            elif path.suffix in TEXT_SUFFIXES and rotate_text_file(path, cipher):
                report.text_files += 1
        mark_warehouse(wh.root, ring.active)
        late = _runs_in_progress(wh)
        if late:
            report.message = (
                f"runs started during the rotation ({', '.join(late)}); old keys kept: rotate again after they end"
            )
            return report
        if ring.path is not None:
            write_key_file(
                ring.path, Keyring(ring.active, {ring.active: ring.keys[ring.active]}, ring.origin, ring.path)
            )
            report.message = f"old keys {', '.join(report.old_keys) or '-'} removed from {ring.path}"
        else:
            report.message = f"remove the old keys from {ENV_KEY}: keep only the first one"
        report.retired = True
    return report
