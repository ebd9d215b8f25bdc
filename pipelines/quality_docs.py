"""Great Expectations' Data Docs of a validate stage, from a bounded sample of each source.

The verdicts of the stage come from the SQL evaluation of the suites over every row
(:mod:`pipelines.suite_sql`); Great Expectations validates a sample of each source (its first rows
and its failed rows, :func:`pipelines.staged_rows.sample`) so the Data Docs show the suites and
results with real rows, without holding a whole source in memory. When the sample is the whole
source, GX sees exactly what the SQL evaluation saw; otherwise the table-level bounds (row count) are
not applied to the sample, which stands for the whole.

The Data Docs decide nothing, so they are rendered off the stage's critical path: :func:`start` returns a
:class:`DocsJob` whose worker process (forked by :mod:`pipelines.parallel`'s forkserver, so it inherits no
DuckDB connection or open file of the run) imports GX and validates each sample as soon as the stage hands
it over, while the stage goes on with its SQL. :meth:`DocsJob.wait` renders the site and returns when it is
written, re-raising the worker's error; the stage waits before it ends (and before it raises a validation
failure, whose Data Docs are kept), so the docs of a completed stage are complete. Where no child process
can be started (a daemonic process) the job runs in the stage's own process, as :func:`document` does.
"""

from __future__ import annotations

import os
import queue
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.errors import MdmError

# How often a waiting stage checks that the worker is still alive.
_POLL_SECONDS = 0.2


class DocsError(MdmError):
    """The Data Docs could not be rendered (the worker's error or exit code)."""


@dataclass(frozen=True)
class Sample:
    suite: str
    source: str
    frame: pd.DataFrame  # the sampled rows
    params: dict[str, Any]  # the suite parameters of the source's load
    rows: int  # rows of the whole source


def _validate(validator: Any, s: Sample, run_id: str) -> None:
    params = dict(s.params)
    if len(s.frame) < s.rows:  # a sample: the row-count bounds are the whole source's
        params.update({k: v for k, v in (("min_rows", 0), ("max_rows", None)) if k in params})
    validator.validate(s.suite, s.frame, batch=s.source, run_id=run_id, params=params)


def document(docs: Path, run_id: str, samples: list[Sample]) -> None:
    """Validate each sample with Great Expectations (imported here only) and render the Data Docs."""
    from pipelines.validation import Validator

    validator = Validator(docs_dir=docs, render_each=False)  # build_docs renders every page once
    for s in samples:
        _validate(validator, s, run_id)
    validator.build_docs()


def _serve(docs: str, run_id: str, umask: int, requests: Any, replies: Any) -> None:
    """The worker: GX imported first (while the stage works), then each sample as it arrives; ``None``
    renders the site. Replies ``None`` when done, else the error's traceback."""
    os.umask(umask)  # the run's file permissions (owner-only), whatever the forkserver had
    try:
        from pipelines.validation import Validator

        validator = Validator(docs_dir=Path(docs), render_each=False)  # build_docs renders every page once
        while (s := requests.get()) is not None:
            _validate(validator, s, run_id)
        validator.build_docs()
    except BaseException:
        replies.put(traceback.format_exc())
        return
    replies.put(None)


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


class DocsJob:
    """The Data Docs of one stage, rendered as the samples come: :meth:`add` each, then :meth:`wait` (or
    :meth:`cancel` when the stage fails for another reason)."""

    def __init__(self, docs: Path, run_id: str, in_worker: bool = True) -> None:
        import multiprocessing

        self.docs, self.run_id = Path(docs), run_id
        self._samples: list[Sample] = []  # in this process, when no worker could be started
        self._proc: Any = None
        if not in_worker or multiprocessing.current_process().daemon:  # a daemonic process may not have children
            return
        from pipelines.parallel import context, starting_workers

        ctx = context()
        self._requests, self._replies = ctx.Queue(), ctx.Queue()
        self._proc = ctx.Process(
            target=_serve,
            args=(str(self.docs), run_id, _current_umask(), self._requests, self._replies),
            name="mdm-data-docs",
            daemon=True,  # never outlives the run's process
        )
        with starting_workers():
            self._proc.start()

    @property
    def in_worker(self) -> bool:
        return self._proc is not None

    def add(self, sample: Sample) -> None:
        if self._proc is None:
            self._samples.append(sample)
        else:
            self._requests.put(sample)  # a feeder thread sends it: the stage does not wait for the worker

    def wait(self) -> None:
        """Render the Data Docs and return when they are written; raises :class:`DocsError` on failure."""
        if self._proc is None:
            document(self.docs, self.run_id, self._samples)
            self._samples = []
            return
        proc, self._proc = self._proc, None
        try:
            self._requests.put(None)
            while True:
                try:
                    error = self._replies.get(timeout=_POLL_SECONDS)
                    break
                except queue.Empty:
                    if not proc.is_alive():
                        try:  # it may have replied just before it exited
                            error = self._replies.get(timeout=_POLL_SECONDS)
                            break
                        except queue.Empty:
                            raise DocsError(
                                f"the Data Docs worker of run {self.run_id} exited with code {proc.exitcode} "
                                f"before rendering {self.docs}"
                            ) from None
            proc.join()
        finally:
            _stop(proc)
            self._close()
        if error is not None:
            raise DocsError(f"the Data Docs of run {self.run_id} could not be rendered in {self.docs}:\n{error}")

    def cancel(self) -> None:
        """Stop the worker without rendering (the stage failed; a retry renders the docs again)."""
        proc, self._proc = self._proc, None
        self._samples = []
        if proc is not None:
            _stop(proc)
            self._close()

    def _close(self) -> None:
        for q in (self._requests, self._replies):
            q.cancel_join_thread()  # nothing left to deliver: never block this process's exit on it
            q.close()


def _stop(proc: Any) -> None:
    if proc.is_alive():
        proc.terminate()
    proc.join()


# Below this many records a stage is over before a worker would have imported GX: starting the worker (and
# in an Airflow task the forkserver it comes from) would cost more than rendering in the stage's process.
WORKER_MIN_RECORDS = 50_000


def start(docs: Path, run_id: str, records: int | None = None) -> DocsJob:
    """Start rendering the Data Docs of a stage of run ``run_id`` into ``docs`` (see :class:`DocsJob`): in a
    worker process, unless the stage handles fewer than :data:`WORKER_MIN_RECORDS` ``records``."""
    return DocsJob(docs, run_id, in_worker=records is None or records >= WORKER_MIN_RECORDS)
