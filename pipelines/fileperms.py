"""Owner-only files (issue 12): everything the pipeline creates is readable and writable by its owner only.

:func:`owner_only` sets the process umask to ``0o077`` so that every file (0600) and folder (0700) the
process creates afterwards - warehouse folder, DuckDB files, Parquet exports, raw landings, staging,
Data Docs, generated samples - has no group or other permission bits, whichever library creates it
(DuckDB, pyarrow, Great Expectations). It is called at every process entry point: the CLI's ``main``,
the runner's ``start_run`` and the Airflow task entry. :func:`restrict_tree` tightens a folder made
before (e.g. a warehouse published by an older version).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
_GROUP_OTHER = stat.S_IRWXG | stat.S_IRWXO


def owner_only() -> int:
    """Make every file and folder this process creates from now on owner-only; returns the previous umask."""
    return os.umask(OWNER_ONLY_UMASK)


def loose_paths(root: Path) -> list[Path]:
    """``root`` and everything under it that has a group or other permission bit (symlinks are skipped)."""
    root = Path(root)
    found = []
    for p in [root, *root.rglob("*")]:
        if p.is_symlink():
            continue
        if p.lstat().st_mode & _GROUP_OTHER:
            found.append(p)
    return found


def restrict_tree(root: Path) -> int:
    """Remove group and other permission bits from ``root`` and everything under it (not following
    symlinks); returns the number of paths changed."""
    changed = 0
    for p in loose_paths(root):
        os.chmod(p, stat.S_IMODE(p.lstat().st_mode) & ~_GROUP_OTHER)
        changed += 1
    return changed
