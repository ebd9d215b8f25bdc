"""``mdm keys``: the encryption keys of sensitive values (see pipelines/crypto.py and pipelines/rotate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli_common import command_group, console, err
from pipelines.errors import MdmError

keys_app = command_group("Encryption keys of sensitive values: where they are, rotation.")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")]


def _fail(e: Exception) -> typer.Exit:
    err.print(f"[red]error:[/red] {e}")
    return typer.Exit(1)


@keys_app.command("status")
def status(config: ConfigOption) -> None:
    """Show where the key of a warehouse comes from and the id of the active key (never the key).

    Example: mdm keys status --config demo/mdm.yaml
    """
    from pipelines.config import load_config
    from pipelines.crypto import load_keyring, warehouse_key_id

    try:
        cfg = load_config(config, check_files=False)
        ring = load_keyring(cfg, create=False)
    except MdmError as e:
        raise _fail(e) from None
    console.print(f"keys from: {ring.origin}")
    console.print(f"active key: {ring.active}   keys: {', '.join(sorted(ring.keys))}")
    console.print(f"warehouse {cfg.warehouse} is under key: {warehouse_key_id(cfg.warehouse) or '(none yet)'}")


@keys_app.command("generate")
def generate() -> None:
    """Print a new random key (base64) for the environment variable MDM_ENCRYPTION_KEY.

    Example: mdm keys generate
    """
    from pipelines.crypto import encode_key, new_key

    console.print(encode_key(new_key()))


@keys_app.command("rotate")
def rotate(config: ConfigOption) -> None:
    """Re-encrypt every sensitive value of the warehouse (database, Parquet exports, raw landings,
    quarantine, Data Docs) under a new key, then retire the old key.

    With a key file, the new key is added to it and the old one removed at the end. With
    MDM_ENCRYPTION_KEY, set it to "<new>,<old>" first (mdm keys generate makes <new>).
    A rotation that stops half-way leaves everything readable; run it again to finish.

    Example: mdm keys rotate --config demo/mdm.yaml
    """
    from pipelines.config import load_config
    from pipelines.rotate import rotate_keys

    try:
        cfg = load_config(config, check_files=False)
        report = rotate_keys(cfg)
    except (MdmError, OSError) as e:
        raise _fail(e) from None
    console.print(
        f"re-encrypted under key {report.new_key}: {len(report.databases)} database(s), "
        f"{report.parquet_files} Parquet file(s), {report.text_files} other file(s)"
    )
    console.print(report.message)
    if not report.retired:
        raise typer.Exit(1)
