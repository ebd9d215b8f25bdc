"""Peak memory of a process and everything it started, sampled from ``/proc`` (Linux).

``ru_maxrss`` is exact but per process: a run that spreads work over worker processes
(``performance.workers``) has its memory in several processes at once, and the largest child's
``ru_maxrss`` says nothing about their sum. :class:`TreeMemory` samples, every ``interval`` seconds, the
proportional set size (PSS: shared pages divided among the processes sharing them, so forked workers are
not counted twice) of this process and all its descendants, and keeps the largest sum. A sample can miss a
short spike between two reads, so the figure is a lower bound of the true peak, reported next to the exact
per-process ``ru_maxrss``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids of every process visible in ``/proc``."""
    kids: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def process_kib(pid: int) -> int:
    """Proportional set size of ``pid`` in KiB (its resident size where PSS is not available; 0 once gone)."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        resident_pages = int((PROC / str(pid) / "statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def tree_kib(pid: int) -> int:
    """Memory of ``pid`` and its descendants now, in KiB (sum of PSS)."""
    return sum(process_kib(p) for p in descendants(pid))


class TreeMemory:
    """Context manager: the peak memory (MiB) of this process tree while the block runs, sampled by a thread.

    ``peak_mb`` is ``None`` where ``/proc`` is not there (not Linux).
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-memory", daemon=True)
        self._pid = os.getpid()

    def _sample(self) -> None:
        self.peak_kib = max(self.peak_kib, tree_kib(self._pid))
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> TreeMemory:
        if PROC.is_dir():
            self._sample()
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._sample()

    def __enter__(self) -> TreeMemory:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def peak_mb(self) -> float | None:
        return self.peak_kib / 1024 if self.samples else None
