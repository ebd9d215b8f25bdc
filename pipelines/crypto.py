"""Field-level encryption of sensitive values (see :mod:`mdm.classification`) with AES-SIV.

A sensitive value is stored as the text token ``enc:v1:<key id>:<base64url ciphertext>``. AES-SIV
(RFC 5297, ``cryptography``'s ``AESSIV`` with a 512-bit key) is *deterministic*: one clear value gives
one token under one key. So survivorship (``most_frequent``), joins, deduplication and change detection
keep working on tokens, and the token is the consistent masking token analysts see. The price: whoever
reads tokens learns which records share a phone number or a representative (never the value itself).
That equality is what matching and stewardship already expose in the clear (records are merged on it),
and SIV keeps the other guarantees (integrity, no key reuse problem of a fixed nonce).

Keys (64 random bytes) come from, in this order:

1. the environment variable ``MDM_ENCRYPTION_KEY``: base64 keys separated by commas, the first one
   active (the others only decrypt, e.g. during a rotation);
2. the key file named in the config (``security: {key_file: ...}``), which must exist;
3. the default key file ``.mdm-keys/mdm.key`` beside the warehouse folder (in its parent folder), created
   by the first run, owner-only.

A key file is JSON ``{"active": <key id>, "keys": {<key id>: <base64 key>}}``. A key id is a digest of
the key, so it names the key without revealing it. The warehouse remembers the id of its key in
``<warehouse>/.key-id``: a run refuses to start with a keyring that lacks it, rather than mixing keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import pandas as pd
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from mdm import classification
from pipelines.errors import ConfigError, MdmError

log = logging.getLogger(__name__)

ENV_KEY = "MDM_ENCRYPTION_KEY"
KEY_BYTES = 64  # AES-256-SIV
PREFIX = "enc:v1:"
TOKEN = re.compile(r"enc:v1:([0-9a-f]{12}):([A-Za-z0-9_-]+)")
KEY_ID_FILE = ".key-id"  # in the warehouse folder: the id of the key its values are under
MAX_KEY_FILE = 1 << 20


class EncryptionKeyError(MdmError):
    """A key is missing, unreadable or unsafe; or a token does not decrypt."""


def key_id(key: bytes) -> str:
    """A short public name of a key (a digest of it)."""
    return hashlib.sha256(b"mdm-key-id\0" + key).hexdigest()[:12]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionKeyError(f"{where}: not a base64 key") from None
    if len(key) != KEY_BYTES:
        raise EncryptionKeyError(
            f"{where}: a key must be {KEY_BYTES} bytes (base64 of {KEY_BYTES} random bytes), not {len(key)}"
        )
    return key


@dataclass(frozen=True)
class Keyring:
    """The keys a process may use: ``active`` encrypts, every key decrypts its own tokens."""

    active: str
    keys: dict[str, bytes]
    origin: str  # where the keys came from, for messages
    path: Path | None = None  # the key file, when the keys came from one

    @classmethod
    def of(cls, keys: list[bytes], origin: str, path: Path | None = None) -> Keyring:
        return cls(key_id(keys[0]), {key_id(k): k for k in keys}, origin, path)


# -- key files -----------------------------------------------------------------------------------------


def read_key_file(path: Path) -> Keyring:
    """The keyring of a key file; refuses a file that others can read."""
    try:
        st = path.stat()
        if st.st_size > MAX_KEY_FILE:
            raise EncryptionKeyError(f"key file {path}: larger than {MAX_KEY_FILE} bytes, not a key file")
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise EncryptionKeyError(
                f"key file {path}: readable by other users (mode {stat.S_IMODE(st.st_mode):o}); run: chmod 600 {path}"
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise EncryptionKeyError(f"key file {path}: cannot read it: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError):
        raise EncryptionKeyError(f"key file {path}: not a key file (JSON with 'active' and 'keys')") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), dict) or raw.get("active") not in raw["keys"]:
        raise EncryptionKeyError(f"key file {path}: needs 'keys' (id -> base64 key) and 'active' naming one of them")
    keys = {kid: _decode_key(str(text), f"key file {path}: key {kid}") for kid, text in raw["keys"].items()}
    for kid, key in keys.items():
        if key_id(key) != kid:
            raise EncryptionKeyError(f"key file {path}: key {kid} does not match its id")
    return Keyring(raw["active"], keys, f"key file {path}", path)


def write_key_file(path: Path, ring: Keyring, *, exclusive: bool = False) -> bool:
    """Write a keyring atomically, owner-only (0600 in a 0700 folder). ``exclusive``: only when no key file
    exists yet (two first runs at once agree on one key); returns whether this call wrote it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps(
        {"active": ring.active, "keys": {k: encode_key(v) for k, v in ring.keys.items()}}, indent=2, sort_keys=True
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # fails when the file exists: never replaces a key another process made
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def default_key_file(warehouse: Path) -> Path:
    """Where the key of a warehouse lives when the config names no key file: beside the warehouse folder,
    in ``<its parent>/.mdm-keys/mdm.key`` (so every config that names the warehouse finds it, and a copy of
    the warehouse folder alone holds no key); ``$XDG_CONFIG_HOME/mdm/keys/`` for a warehouse at ``/``."""
    warehouse = Path(warehouse).resolve()
    if warehouse.parent != warehouse:
        return warehouse.parent / ".mdm-keys" / "mdm.key"
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "mdm" / "keys" / "root-warehouse.key"


def key_file_of(config: Any) -> tuple[Path, bool]:
    """(key file of a config, whether the config names it)."""
    named = getattr(getattr(config, "security", None), "key_file", None)
    if named is not None:
        return Path(named), True
    return default_key_file(config.warehouse), False


def load_keyring(config: Any, *, create: bool = True) -> Keyring:
    """The keyring of a config (environment, named key file, default key file; see the module doc).

    With ``create`` and no key anywhere, a new key file is created at the default place and a warning
    says where. Raises :class:`EncryptionKeyError` when the warehouse's key (``.key-id``) is not in the keyring."""
    env = os.environ.get(ENV_KEY)
    if env:
        keys = [_decode_key(part, f"{ENV_KEY} (key {i + 1})") for i, part in enumerate(env.split(",")) if part.strip()]
        if not keys:
            raise EncryptionKeyError(f"{ENV_KEY} is set but holds no key")
        ring = Keyring.of(keys, f"environment variable {ENV_KEY}")
    else:
        path, named = key_file_of(config)
        if path.exists():
            ring = read_key_file(path)
        elif named:
            raise ConfigError(f"security.key_file: key file not found: {path}")
        elif not create:
            raise EncryptionKeyError(f"no encryption key: {ENV_KEY} is not set and {path} does not exist")
        elif (kid := warehouse_key_id(config.warehouse)) is not None:
            raise EncryptionKeyError(
                f"the warehouse {config.warehouse} is encrypted with key {kid}, but there is no "
                f"key file at {path}: copy the warehouse's key file there, name it in "
                f"security.key_file or set {ENV_KEY}"
            )
        else:
            ring = Keyring.of([new_key()], f"key file {path}", path)
            try:
                created = write_key_file(path, ring, exclusive=True)
            except OSError as e:
                raise EncryptionKeyError(
                    f"cannot create the key file {path}: {e.strerror or e}; name a writable "
                    f"one in security.key_file or set {ENV_KEY}"
                ) from None
            if not created:  # another process made it meanwhile
                return load_keyring(config, create=False)
            log.warning(
                "created the encryption key file %s (owner-only). Back it up: without it the "
                "encrypted values of %s cannot be read.",
                path,
                config.warehouse,
            )
    expected = warehouse_key_id(config.warehouse)
    if expected is not None and expected not in ring.keys:
        raise EncryptionKeyError(
            f"the warehouse {config.warehouse} is encrypted with key {expected}, which is not in "
            f"the {ring.origin} (keys: {', '.join(sorted(ring.keys))}); give the right key"
        )
    return ring


def warehouse_key_id(warehouse: Path) -> str | None:
    path = Path(warehouse) / KEY_ID_FILE
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def mark_warehouse(warehouse: Path, kid: str) -> None:
    """Record in the warehouse the id of the key its values are encrypted with (not a secret)."""
    root = Path(warehouse)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = root / f".{KEY_ID_FILE}.tmp"
    tmp.write_text(kid + "\n", encoding="ascii")
    os.chmod(tmp, 0o600)
    os.replace(tmp, root / KEY_ID_FILE)


# -- the cipher ----------------------------------------------------------------------------------------


class FieldCipher:
    """Encrypts and decrypts sensitive values as tokens under a :class:`Keyring`."""

    def __init__(self, ring: Keyring) -> None:
        self.ring = ring
        self._siv = {kid: AESSIV(key) for kid, key in ring.keys.items()}

    @property
    def active(self) -> str:
        return self.ring.active

    def encrypt(self, value: str) -> str:
        ct = self._siv[self.ring.active].encrypt(value.encode("utf-8"), None)
        return f"{PREFIX}{self.ring.active}:{base64.urlsafe_b64encode(ct).rstrip(b'=').decode('ascii')}"

    def decrypt(self, token: str) -> str:
        """The clear value of a token (a value that is no token is returned as it is)."""
        m = TOKEN.fullmatch(token)
        return self._open(m) if m else token

    def _open(self, m: re.Match[str]) -> str:
        kid, body = m.group(1), m.group(2)
        siv = self._siv.get(kid)
        if siv is None:
            raise EncryptionKeyError(f"value encrypted with key {kid}, which is not in the {self.ring.origin}")
        try:
            return siv.decrypt(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), None).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError):
            raise EncryptionKeyError(f"a value under key {kid} does not decrypt (altered or not a token)") from None

    def decrypt_text(self, text: str | None) -> str | None:
        """Every token inside a text (a JSON object, an HTML page) replaced by its clear value."""
        if text is None or PREFIX not in text:
            return text
        return TOKEN.sub(
            lambda m: json.dumps(self._open(m), ensure_ascii=False)[1:-1] if _in_json(text) else self._open(m), text
        )

    @overload
    def rekey_text(self, text: str) -> str: ...
    @overload
    def rekey_text(self, text: None) -> None: ...
    @overload
    def rekey_text(self, text: str | None) -> str | None: ...
    def rekey_text(self, text: str | None) -> str | None:
        """Every token inside a text not under the active key re-encrypted under it."""
        if text is None or PREFIX not in text:
            return text
        return TOKEN.sub(lambda m: m.group(0) if m.group(1) == self.active else self.encrypt(self._open(m)), text)

    def protect(self, value: str | None) -> str | None:
        """A sensitive value as a token under the active key: clear text is encrypted, a token under an
        older key re-encrypted, a token under the active key kept."""
        if value is None:
            return None
        m = TOKEN.fullmatch(value)
        if m is None:
            return self.encrypt(value)
        return value if m.group(1) == self.active else self.encrypt(self._open(m))

    def protect_values(self, values: Iterable[Any], *, clear: bool = True) -> list[str | None]:
        """:meth:`encrypt` (``clear``: every value is clear text, as a source gives it) or :meth:`protect`
        of each value, each distinct value once."""
        done: dict[str, str | None] = {}
        out: list[str | None] = []
        op = self.encrypt if clear else self.protect
        for v in values:
            if v is None or (isinstance(v, float) and v != v):
                out.append(None)
                continue
            v = str(v)
            t = done.get(v)
            if t is None:
                t = done[v] = op(v)
            out.append(t)
        return out

    def protect_extra(self, text: str | None, source_format: str, *, clear: bool = True) -> str | None:
        """An ``extra`` JSON object with its sensitive keys' values (by the source format) as tokens."""
        if text is None:
            return None
        try:
            obj = json.loads(text)
        except ValueError:
            # Not JSON: the whole text is one value of unknown meaning, so sensitive.
            return self.encrypt(text) if clear else self.protect(text)
        if not isinstance(obj, dict):
            return self.encrypt(text) if clear else self.protect(text)
        changed = False
        for k, v in obj.items():
            if v is None or not classification.is_sensitive_extra_key(source_format, k):
                continue
            clear_text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
            obj[k] = self.encrypt(clear_text) if clear else self.protect(clear_text)
            changed = True
        return json.dumps(obj, ensure_ascii=False, sort_keys=True) if changed else text

    def protect_frame(self, frame: pd.DataFrame, source_format: str | pd.Series, *, clear: bool = True) -> pd.DataFrame:
        """A frame with its sensitive columns (:mod:`mdm.classification`) as tokens; ``source_format`` is
        the format of every row (or a Series of them) and decides which keys of ``extra`` are sensitive."""
        out = frame.copy(deep=False)
        for col in frame.columns:
            if classification.is_sensitive_column(col):
                out[col] = pd.Series(
                    self.protect_values(frame[col].tolist(), clear=clear), index=frame.index, dtype="object"
                )
            elif col == classification.EXTRA_COLUMN:
                if isinstance(source_format, str) and not classification.sensitive_extra_keys(source_format):
                    continue  # a format whose extra holds nothing sensitive (GLEIF, SEC)
                formats = (
                    source_format.tolist() if isinstance(source_format, pd.Series) else [source_format] * len(frame)
                )
                out[col] = pd.Series(
                    [
                        None
                        if v is None or (isinstance(v, float) and v != v)
                        else self.protect_extra(str(v), f, clear=clear)
                        for v, f in zip(frame[col].tolist(), formats)
                    ],
                    index=frame.index,
                    dtype="object",
                )
        return out


def _in_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def cipher_for(config: Any, *, create: bool = True) -> FieldCipher:
    """The cipher of a config (keys from :func:`load_keyring`); marks an unmarked warehouse with the
    active key's id. This is what a run passes to the adapters (``ExtractContext.cipher``)."""
    ring = load_keyring(config, create=create)
    if warehouse_key_id(config.warehouse) is None and create:
        mark_warehouse(config.warehouse, ring.active)
    return FieldCipher(ring)


def protect_overrides(overrides: pd.DataFrame | None, cipher: FieldCipher) -> pd.DataFrame | None:
    """Steward overrides (``golden_id, attribute, value, ...``) with the values of sensitive attributes
    as tokens, so an override never puts a clear phone number into the golden record."""
    if overrides is None or overrides.empty:
        return overrides
    out = overrides.copy()
    mask = out["attribute"].isin(classification.SENSITIVE_ATTRIBUTES)
    out.loc[mask, "value"] = cipher.protect_values(out.loc[mask, "value"].tolist(), clear=False)
    return out
