"""A file source's digest is taken from the cache only while the file's stat (device, inode, size, mtime,
ctime) is unchanged; a file changed in any way a program can change it is read again, and a full run reads
every file."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path

import pytest

from pipelines import file_digest
from pipelines.config import SourceConfig, load_config
from pipelines.file_digest import CACHE_FILE, DigestCache
from pipelines.plan import make_plan, source_fingerprint
from pipelines.sample import generate
from tests.conftest import sample_config


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading starts 10 s after now, so files written by the test count as settled."""
    real = time.time_ns
    monkeypatch.setattr(file_digest.time, "time_ns", lambda: real() + 10 * file_digest.SETTLED_NS)


def _cache(folder: Path, trust: bool = True) -> DigestCache:
    return DigestCache(folder, trust=trust)


def _rewrite_same_size_same_mtime(path: Path, text: str) -> None:
    """Rewrite a file in place with the same size and put its mtime back, as `touch -d` or `cp -p` would."""
    before = os.stat(path)
    time.sleep(0.05)  # past the kernel's coarse timestamp tick, so the ctime moves
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert after.st_ctime_ns != before.st_ctime_ns


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, settled: None) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    first = _cache(tmp_path)
    digest = first.digest(data)
    assert digest == hashlib.sha256(data.read_bytes()).hexdigest() and first.reads == 1
    first.save()
    assert stat.S_IMODE((tmp_path / CACHE_FILE).stat().st_mode) == 0o600
    second = _cache(tmp_path)
    assert second.digest(data) == digest and second.reads == 0


def test_a_file_rewritten_with_the_same_size_and_mtime_is_read_again(tmp_path: Path, settled: None) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    first = _cache(tmp_path)
    old = first.digest(data)
    first.save()
    _rewrite_same_size_same_mtime(data, "x,y\n3,4\n")
    second = _cache(tmp_path)
    assert second.digest(data) == hashlib.sha256(b"x,y\n3,4\n").hexdigest() != old
    assert second.reads == 1


def test_a_file_replaced_by_another_is_read_again(tmp_path: Path, settled: None) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    first = _cache(tmp_path)
    first.digest(data)
    first.save()
    other = tmp_path / "b.csv"
    other.write_text("x,y\n5,6\n", encoding="utf-8")
    st = os.stat(data)
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    other.replace(data)  # same name, size and mtime; another inode
    second = _cache(tmp_path)
    assert second.digest(data) == hashlib.sha256(b"x,y\n5,6\n").hexdigest() and second.reads == 1


def test_a_file_changed_just_before_it_was_read_is_not_remembered(tmp_path: Path) -> None:
    """The racy case: a file written within SETTLED_NS of its reading could be written again within the same
    timestamp tick after it, with an identical stat; its digest is never remembered."""
    data = tmp_path / "a.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    first = _cache(tmp_path)
    first.digest(data)
    first.save()
    second = _cache(tmp_path)
    second.digest(data)
    assert second.reads == 1
    assert json.loads((tmp_path / CACHE_FILE).read_text(encoding="utf-8"))["files"] == {}


def test_a_full_run_reads_every_file_and_a_damaged_cache_is_ignored(tmp_path: Path, settled: None) -> None:
    data = tmp_path / "a.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    first = _cache(tmp_path)
    first.digest(data)
    first.save()
    full = _cache(tmp_path, trust=False)
    full.digest(data)
    assert full.reads == 1
    (tmp_path / CACHE_FILE).write_text("{not json", encoding="utf-8")
    damaged = _cache(tmp_path)
    damaged.digest(data)
    assert damaged.reads == 1


def test_the_source_fingerprint_is_the_same_from_the_cache_and_from_the_bytes(tmp_path: Path, settled: None) -> None:
    folder = tmp_path / "fsds"
    (folder / "2024q1").mkdir(parents=True)
    (folder / "2024q1" / "sub.txt").write_text("adsh\tname\n1\tAcme\n", encoding="utf-8")
    (folder / "2024q1" / "num.txt").write_text("adsh\ttag\n1\tAssets\n", encoding="utf-8")
    src = SourceConfig(name="sec", format="sec_fsds", path=folder)
    read = source_fingerprint(src)
    cache = _cache(tmp_path)
    assert source_fingerprint(src, digests=cache) == read and cache.reads == 2
    cache.save()
    again = _cache(tmp_path)
    assert source_fingerprint(src, digests=again) == read and again.reads == 0
    _rewrite_same_size_same_mtime(folder / "2024q1" / "num.txt", "adsh\ttag\n1\tDebts\n")
    changed = _cache(tmp_path)
    assert source_fingerprint(src, digests=changed) != read and changed.reads == 1


def test_the_plan_trusts_the_cache_only_in_an_incremental_run(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(tmp_path / "sample", entities=40, seed=3)
    cfg = load_config(sample_config(tmp_path / "sample", tmp_path / "wh", tmp_path / "mdm.yaml"))
    cfg.warehouse.mkdir(mode=0o700)
    reads: list[int] = []
    real_save = DigestCache.save

    def save(self: DigestCache) -> None:
        reads.append(self.reads)
        real_save(self)

    monkeypatch.setattr(DigestCache, "save", save)
    files = sum(
        len([p for p in s.path.rglob("*") if p.is_file()]) if s.path.is_dir() else 1 for s in cfg.sources if s.path
    )
    first = make_plan(cfg, "r1")
    second = make_plan(cfg, "r2")
    full = make_plan(cfg, "r3", full=True)
    assert files > 0 and reads == [files, 0, files]
    assert [s.fingerprint for s in first.sources] == [s.fingerprint for s in second.sources]
    assert [s.fingerprint for s in full.sources] == [s.fingerprint for s in first.sources]
