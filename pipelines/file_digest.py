"""SHA-256 digests of source files, remembered across runs by the file's stat so that an unchanged file is
not read again at every run start.

A file source's fingerprint (:func:`pipelines.plan.source_fingerprint`) covers every byte of its files: at
1M entities that is 2 GB read at each run start. :class:`DigestCache` keeps, in
``<warehouse>/.file-digests.json`` (owner-only, a cache: deleting it only costs one full read), the digest
of each file together with its stat: device, inode, size, ``mtime_ns`` and ``ctime_ns``. A later plan uses
the remembered digest only when all five still match; otherwise it reads the file again.

How other tools decide, and why this is stricter than they are:

- make compares modification times only (a target older than a prerequisite is rebuilt);
- rsync's default "quick check" skips a file whose size and modification time match (``--checksum`` reads
  every file instead);
- git compares the index's stat data (ctime, mtime, device, inode, uid, gid, size) and re-reads "racily
  clean" files, whose mtime is not older than the index itself.

Here, like git, the ctime is compared too: a program can set a file's mtime back (``touch -d``, ``cp -p``,
``rsync -t``) but not its ctime, which the kernel sets to the current time on every write, rename or chmod;
a file replaced by another one has a new inode. And like git's racy-clean rule, a digest is remembered only
when the file's ctime and mtime are at least :data:`SETTLED_NS` older than the moment reading began and its
stat did not change while it was read: a file written again afterwards gets a later ctime, so its stat
cannot match. What is left is the theoretical miss: a file rewritten in place with the same size within the
same timestamp tick as the remembered stat (excluded by the settled rule unless the system clock is set
back), a filesystem that does not maintain ctime, or bytes changed beneath the filesystem (a raw block
device write). A full run (``mdm run --full``) reads every byte again and does not trust the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

CACHE_FILE = ".file-digests.json"
# A digest is remembered only for a file last changed at least this long before it was read (covers the
# coarse clock the kernel stamps files with, a few milliseconds, with a wide margin).
SETTLED_NS = 2_000_000_000
# The cache is ours, but it is still read with a limit (one entry is about 250 bytes).
MAX_CACHE_BYTES = 32 << 20
_STAT_FIELDS = ("dev", "ino", "size", "mtime_ns", "ctime_ns")


def _stat(path: Path) -> dict[str, int]:
    st = os.stat(path)
    return {
        "dev": st.st_dev,
        "ino": st.st_ino,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
    }


def read_digest(path: Path) -> str:
    """The SHA-256 of every byte of ``path`` (hex)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class DigestCache:
    """File digests keyed by absolute path and stat; ``trust=False`` reads every file (a full run) but still
    records what it read. ``folder=None``: no cache at all."""

    def __init__(self, folder: Path | None, trust: bool = True) -> None:
        self.path = folder / CACHE_FILE if folder is not None else None
        self.trust = trust
        self.old: dict[str, dict[str, int | str]] = self._load() if trust else {}
        self.new: dict[str, dict[str, int | str]] = {}
        self.reads = 0  # files read in full (for tests and reports)

    def _load(self) -> dict[str, dict[str, int | str]]:
        if self.path is None:
            return {}
        try:
            if self.path.stat().st_size > MAX_CACHE_BYTES:
                return {}
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing or damaged: read every file
            return {}
        entries = data.get("files") if isinstance(data, dict) and data.get("version") == 1 else None
        return entries if isinstance(entries, dict) else {}

    def digest(self, path: Path) -> str:
        """The SHA-256 of ``path``: remembered when its stat matches the remembered one, else read."""
        key = str(path.resolve())
        before = _stat(path)
        entry = self.old.get(key)
        if (
            isinstance(entry, dict)
            and all(entry.get(f) == before[f] for f in _STAT_FIELDS)
            and isinstance(entry.get("sha256"), str)
        ):
            self.new[key] = entry
            return str(entry["sha256"])
        started = time.time_ns()
        digest = read_digest(path)
        self.reads += 1
        after = _stat(path)
        settled = max(after["mtime_ns"], after["ctime_ns"]) <= started - SETTLED_NS
        if after == before and settled:
            self.new[key] = {**after, "sha256": digest}
        return digest

    def save(self) -> None:
        """Keep the digests of the files this plan looked at (atomically, owner-only); a failure to write
        only means the next run reads the files again."""
        if self.path is None or not self.path.parent.is_dir():
            return
        tmp = self.path.with_name(f"{CACHE_FILE}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "files": self.new}, fh, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
