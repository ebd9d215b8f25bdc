"""Size limits on everything a file adapter reads (issue 12): clear SourceErrors, never an endless read.

* A source path must be a regular file (or, for formats that take one, a folder): a device such as
  ``/dev/zero``, a FIFO or a socket is refused before it is opened.
* A file is at most the source's ``max_file_size`` (default 64 GiB: real register files are a few GB),
  checked on its declared size and again by counting the bytes read (files in ``/proc`` declare 0).
* A zip member is checked before it is opened: its declared uncompressed size against
  ``max_file_size`` and its compression ratio against ``max_zip_ratio`` (default 200; real register
  zips compress 5-30 times, a zip of NULs about 1000 times); while streaming, the bytes read are
  counted against the declared size and the limit, so a member that lies about its size is stopped
  as soon as it passes them, with memory bounded by one read.
* A physical line of a CSV or tab-separated file is at most ``max_line_size`` bytes (default 16 MiB):
  a file without newlines fails at that size instead of being read into memory whole.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from pipelines.adapters.base import ExtractContext

_CHUNK = 1 << 16


class ByteStream(Protocol):
    """A readable binary stream as the adapters use one: a :class:`BoundedReader` or an open binary file."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def check_path(ctx: ExtractContext, path: Path, *, folder_ok: bool = False, what: str = "file") -> bool:
    """Refuse anything but a regular file (or a folder when ``folder_ok``) and a file over the source's
    ``max_file_size``. Returns True for a folder. SourceError when the path does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ctx.error(f"{what} not found", file=path) from None
    except OSError as e:
        raise ctx.error(f"cannot read the {what}: {e.strerror or e}", file=path) from None
    if stat.S_ISDIR(st.st_mode):
        if folder_ok:
            return True
        raise ctx.error(f"is a folder, expected a {what}", file=path)
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        allowed = "regular files and folders" if folder_ok else "regular files"
        raise ctx.error(f"refused: {kind} cannot be a source (only {allowed} are read)", file=path)
    limit = ctx.source.max_file_size
    if st.st_size > limit:
        raise ctx.error(
            f"refused: the file is {_size(st.st_size)}, over the source's max_file_size of "
            f"{_size(limit)} (raise max_file_size in the config if it is genuine)",
            file=path,
        )
    return False


class BoundedReader(io.RawIOBase):
    """A binary stream that counts the bytes read through it and raises a SourceError once they pass
    ``limit`` (``why`` says which limit). Reads are never larger than asked, so memory stays bounded."""

    def __init__(self, raw: IO[bytes], ctx: ExtractContext, label: str, limit: int, why: str) -> None:
        super().__init__()
        self._raw = raw
        self._ctx = ctx
        self._label = label
        self._limit = limit
        self._why = why
        self.count = 0

    def readable(self) -> bool:
        return True

    def _counted(self, data: bytes) -> bytes:
        self.count += len(data)
        if self.count > self._limit:
            raise self._ctx.error(f"refused: more than {_size(self._limit)} read, {self._why}", file=self._label)
        return data

    def read(self, size: int | None = -1) -> bytes:
        cap = self._limit + 1 - self.count  # at most one byte past the limit: enough to see it passed
        return self._counted(self._raw.read(cap if size is None or size < 0 else min(size, cap)))

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        cap = self._limit + 1 - self.count
        return self._counted(self._raw.readline(cap if size is None or size < 0 else min(size, cap)))

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def open_file(ctx: ExtractContext, path: Path) -> BoundedReader:
    """A checked regular file (see :func:`check_path`) opened for reading, its bytes counted."""
    check_path(ctx, path)
    try:
        raw = path.open("rb")
    except OSError as e:
        raise ctx.error(f"cannot open the file: {e.strerror or e}", file=path) from None
    return BoundedReader(
        raw,
        ctx,
        str(path),
        ctx.source.max_file_size,
        "the source's max_file_size (the file grew or declares a wrong size)",
    )


def check_member(ctx: ExtractContext, info: zipfile.ZipInfo, label: str) -> None:
    """Refuse a zip member whose declared size is over ``max_file_size`` or whose ratio is over ``max_zip_ratio``."""
    limit, ratio_limit = ctx.source.max_file_size, ctx.source.max_zip_ratio
    if info.file_size > limit:
        raise ctx.error(
            f"refused: the zip member is {_size(info.file_size)} uncompressed, over the source's "
            f"max_file_size of {_size(limit)}",
            file=label,
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _CHUNK and ratio > ratio_limit:
        raise ctx.error(
            f"refused: the zip member expands {ratio:,.0f} times ({_size(info.compress_size)} -> "
            f"{_size(info.file_size)}), over the source's max_zip_ratio of {ratio_limit:g} "
            f"(a zip bomb?)",
            file=label,
        )


def open_member(ctx: ExtractContext, archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> BoundedReader:
    """A checked zip member (see :func:`check_member`) opened for streaming, its bytes counted against its
    declared size, ``max_file_size`` and ``max_zip_ratio`` times its compressed size."""
    check_member(ctx, info, label)
    limit = min(
        info.file_size, ctx.source.max_file_size, max(_CHUNK, int(info.compress_size * ctx.source.max_zip_ratio))
    )
    return BoundedReader(
        archive.open(info),
        ctx,
        label,
        limit,
        "the zip member's declared size, the source's max_file_size or max_zip_ratio",
    )


def lines(ctx: ExtractContext, stream: ByteStream, label: str, *, first_line: int = 1) -> Iterator[bytes]:
    """The ``\\n``-terminated lines of a binary stream, each at most ``max_line_size`` bytes (else a
    SourceError naming the line), without ever holding more than one line."""
    limit = ctx.source.max_line_size
    number = first_line
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            raise ctx.error(
                f"refused: line longer than the source's max_line_size of {_size(limit)} "
                f"(not a line-oriented text file?)",
                file=label,
                line=number,
            )
        yield line
        number += 1
