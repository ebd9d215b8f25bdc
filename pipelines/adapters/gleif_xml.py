"""Streaming GLEIF XML: the records of a LEI-CDF or RR-CDF file, one element at a time.

A GLEIF golden-copy or delta file (plain ``.xml`` or the single XML member of a ``.zip``, streamed) is
parsed with :func:`lxml.etree.iterparse` on the end events of the record elements only; every processed
record is cleared and unlinked from its parent, so memory stays bounded by one record. Parsing is
XXE-safe (no DTD loading, no entity resolution, no network access, no ``huge_tree``). Each record comes
with the 1-based line where its start tag begins (:class:`_StartTagLines`). The row mapping is
:mod:`pipelines.adapters.gleif`'s.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Final

from lxml import etree

from pipelines.adapters.base import ExtractContext
from pipelines.adapters.limits import ByteStream, check_path, open_file, open_member

# --------------------------------------------------------------------------- input streams


class _StartTagLines:
    """A binary reader that hands bytes to the parser and notes the line of each record start tag.

    It matches ``<Name`` or ``<prefix:Name`` followed by whitespace, ``/`` or ``>`` (so
    ``<lei:LEIRecords>`` and ``</lei:LEIRecord>`` do not count). Bytes near the end of a chunk are
    held back until the next read so that a tag split across two reads is still seen whole. A record
    start tag written inside a comment or CDATA section would shift the numbering (GLEIF files have
    none); a stream in which no start tag is seen (e.g. UTF-16) falls back to lxml's line.
    """

    _HOLD: Final = 128  # longer than any start tag prefix the pattern can match

    def __init__(self, raw: ByteStream, local_name: str) -> None:
        self._raw = raw
        prefix = rb"<(?:[^\s<>/:!?\"'=]{1,64}:)?"
        self._pattern = re.compile(prefix + re.escape(local_name.encode()) + rb"[\s/>]")
        self._pending = b""  # bytes read but not yet scanned (the tail of the previous chunk)
        self._line = 1  # line number at the start of self._pending
        self.starts: deque[int] = deque()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        buf = self._pending + data
        limit = max(0, len(buf) - self._HOLD) if data else len(buf)
        pos = 0
        line = self._line
        for m in self._pattern.finditer(buf):
            if m.start() >= limit:
                break
            line += buf.count(b"\n", pos, m.start())
            pos = m.start()
            self.starts.append(line)
        self._line = line + buf.count(b"\n", pos, limit)
        self._pending = buf[limit:]
        return data

    def line_of_next(self, fallback: int | None) -> int | None:
        """The start line of the next record element in document order (``fallback`` if none was seen)."""
        return self.starts.popleft() if self.starts else fallback


@contextmanager
def _open_xml(ctx: ExtractContext, kind: str) -> Iterator[tuple[ByteStream, str]]:
    """Open the configured file, or the single XML member of a zip archive, as a binary stream.

    Yields the stream and its lineage name (``path`` or ``archive.zip!member``). Raises a
    SourceError for a missing, empty or unreadable file and for a zip without exactly one XML member.
    """
    path: Path = ctx.path
    check_path(ctx, path, what=f"{kind} file")
    if path.stat().st_size == 0:
        raise ctx.error(f"file is empty: expected a {kind} XML document", file=path, line=1)
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".zip":
            raise ctx.error("not a readable zip archive", file=path)
        try:
            with open_file(ctx, path) as fh:
                yield fh, str(path)
        except OSError as e:
            raise ctx.error(f"cannot read file: {e}", file=path) from None
        return
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".xml")]
            if len(members) != 1:
                names = [i.filename for i in members] or [i.filename for i in zf.infolist()]
                raise ctx.error(
                    f"zip archive must hold exactly one .xml file, found {len(members)}: {names[:10]}", file=path
                )
            member = members[0]
            label = f"{path}!{member.filename}"
            if member.file_size == 0:
                raise ctx.error(f"file is empty: expected a {kind} XML document", file=label, line=1)
            with open_member(ctx, zf, member, label) as fh:
                yield fh, label
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise ctx.error(f"cannot read zip archive: {e}", file=path) from None


def _iter_records(
    ctx: ExtractContext, *, kind: str, root: str, record: str
) -> Iterator[tuple[etree._Element, str, int | None]]:
    """Stream the ``record`` elements of a GLEIF file whose root element is ``root``.

    Yields (element, src_file, start line). The element is cleared, and its already processed
    siblings removed, as soon as the caller asks for the next one, so the caller must copy what it
    needs before that. XML errors become SourceErrors naming the file and the line lxml reports.
    """
    with _open_xml(ctx, kind) as (raw, label):
        scanner = _StartTagLines(raw, record)
        events = etree.iterparse(
            scanner,
            events=("end",),
            tag=f"{{*}}{record}",
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
        )
        count = 0
        try:
            for _, elem in events:
                if count == 0:
                    _check_root(ctx, elem.getroottree().getroot(), root, kind, label)
                count += 1
                yield elem, label, scanner.line_of_next(elem.sourceline)
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as e:
            raise ctx.error(
                f"malformed XML after {count} {record} record(s): {e.msg}", file=label, line=e.lineno or None
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise ctx.error(f"cannot read file after {count} {record} record(s): {e}", file=label) from None
        if count == 0:
            _check_root(ctx, events.root, root, kind, label)


def _check_root(ctx: ExtractContext, elem: etree._Element | None, expected: str, kind: str, label: str) -> None:
    """Raise a SourceError unless the document element has the local name ``expected``."""
    name = _local(elem) if elem is not None else None
    if name != expected:
        raise ctx.error(
            f"not a {kind} file: document element is <{name}>, expected <{expected}>",
            file=label,
            line=elem.sourceline if elem is not None else None,
        )


# --------------------------------------------------------------------------- element helpers


@lru_cache(maxsize=4096)
def _local_name(tag: object) -> str | None:
    """Local name of a ``{namespace}name`` tag (None for the tag of a comment or processing instruction).

    Cached: a GLEIF file uses a few dozen distinct tags for hundreds of millions of elements.
    """
    return tag.rpartition("}")[2] if isinstance(tag, str) else None


def _local(elem: etree._Element) -> str | None:
    """Local name of an element (None for comments and processing instructions)."""
    return _local_name(elem.tag)


def _kids(elem: etree._Element | None) -> dict[str, list[etree._Element]]:
    """Child elements of ``elem`` grouped by local name, in document order."""
    out: dict[str, list[etree._Element]] = {}
    if elem is None:
        return out
    for child in elem:
        name = _local_name(child.tag)
        if name is not None:
            out.setdefault(name, []).append(child)
    return out


def _text(elem: etree._Element | None) -> str | None:
    """Stripped text of an element, None when absent or blank."""
    if elem is None or elem.text is None:
        return None
    return elem.text.strip() or None


def _first(kids: dict[str, list[etree._Element]], name: str) -> etree._Element | None:
    found = kids.get(name)
    return found[0] if found else None


def _first_text(kids: dict[str, list[etree._Element]], name: str) -> str | None:
    return _text(_first(kids, name))
