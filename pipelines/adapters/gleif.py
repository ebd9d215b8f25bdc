"""GLEIF adapters: LEI-CDF level-1 records as organizations, RR-CDF level-2 records as relationships.

Both read a GLEIF golden-copy or delta XML file, plain (``.xml``) or as the single XML member of a
``.zip`` archive (the member is streamed, never extracted). The files are several GB, so they are
parsed with :func:`lxml.etree.iterparse` on the end events of the record elements only, and every
processed record is cleared and unlinked from its parent: memory stays bounded by one record (plus
the current batch). Elements are matched on their local names, so LEI-CDF 3.x and 2.1 (namespace
``http://www.gleif.org/data/schema/leidata/2016`` with the ``gleif:`` golden-copy extension) and
RR-CDF 1.x/2.x files are read alike whatever their namespace prefixes; the element names of the
older LEI-CDF 1.0 (``leidata/2014``: ``Line1``..``Line4``, ``BusinessRegisterEntityID``, a plain-text
``LegalForm``, ``SuccessorLEI``) are understood too.

Parsing is XXE-safe: no DTD loading, no entity resolution, no network access, no ``huge_tree``.

Lineage: ``src_line`` is the 1-based line where the record's start tag begins. libxml2's own
``sourceline`` is not used for it, because it gives the line where a (multi-line) start tag *ends*
and becomes a heuristic guess beyond line 65,535; instead the byte stream handed to the parser is
scanned for record start tags as it is read (:class:`_StartTagLines`), and the n-th record element
gets the line of the n-th start tag.

``name_en`` (the name used to match against English-language registers) is chosen, first found:

1. the legal name itself when its ``xml:lang`` is English;
2. an ``OtherEntityName`` of type ``ALTERNATIVE_LANGUAGE_LEGAL_NAME`` in English (the registered
   English name of, say, a Chinese or Japanese company);
3. the ``PREFERRED_ASCII_TRANSLITERATED_LEGAL_NAME`` (a transliteration chosen by the entity/LOU);
4. the legal name when it is written in Latin script (diacritics are kept: ``Všeobecná úverová
   banka, a.s.`` is better than its upper-cased automatic transliteration);
5. the ``AUTO_ASCII_TRANSLITERATED_LEGAL_NAME`` (GLEIF's machine transliteration), so that names
   in other scripts still get a Latin form;

otherwise it is NULL.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from lxml import etree

from pipelines.adapters.base import Batch, ExtractContext, chunked
from pipelines.adapters.limits import ByteStream, check_path, open_file, open_member

XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"

# Address children that make up the street part of an address, in LEI-CDF 2.1/3.x
# (FirstAddressLine ... AdditionalAddressLine) and LEI-CDF 1.0 (Line1 ... Line4) naming.
_STREET_PARTS: Final = frozenset(
    {
        "FirstAddressLine",
        "AddressNumber",
        "AddressNumberWithinBuilding",
        "AdditionalAddressLine",
        "Line1",
        "Line2",
        "Line3",
        "Line4",
    }
)
# ELF code GLEIF uses for "legal form not in the ELF code list": the name is in OtherLegalForm.
OTHER_LEGAL_FORM_CODE: Final = "8888"

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:$|T)")


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


def _iso_date(
    ctx: ExtractContext, value: str | None, what: str, *, file: str, line: int | None, key: str | None
) -> str | None:
    """The ``YYYY-MM-DD`` part of an ISO date or timestamp; warn and give None for anything else."""
    if value is None:
        return None
    m = _ISO_DATE.match(value)
    if m:
        return m.group(1)
    ctx.warn(f"{what} {value!r} is not an ISO date; left empty", file=file, line=line, key=key, code="gleif_bad_date")
    return None


def _json(obj: Any) -> str | None:
    """Canonical JSON text of a non-empty object or list (None when empty)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True) if obj else None


# --------------------------------------------------------------------------- level 1: LEI records


def _is_latin(text: str) -> bool:
    """True when every letter of ``text`` belongs to the Latin script."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(unicodedata.name(c, "").startswith("LATIN") for c in letters)


def _address(elem: etree._Element | None) -> dict[str, str | None]:
    """Street (joined with ", "), city, region, country and postal code of an address element.

    MailRouting ("C/O ...") is left out: it is a delivery note, not part of the street address.
    """
    kids = _kids(elem)
    street = [
        t for child in (elem if elem is not None else ()) if _local(child) in _STREET_PARTS and (t := _text(child))
    ]
    return {
        "address": ", ".join(street) or None,
        "city": _first_text(kids, "City"),
        "region": _first_text(kids, "Region"),
        "country": _first_text(kids, "Country"),
        "postal_code": _first_text(kids, "PostalCode"),
    }


def _names(entity: dict[str, list[etree._Element]]) -> list[dict[str, str | None]]:
    """Other and transliterated names as {"name", "type", "lang"}, in document order."""
    out = []
    for group, item in (
        ("OtherEntityNames", "OtherEntityName"),
        ("TransliteratedOtherEntityNames", "TransliteratedOtherEntityName"),
    ):
        for container in entity.get(group, []):
            for child in _kids(container).get(item, []):
                name = _text(child)
                if name:
                    out.append({"name": name, "type": child.get("type"), "lang": child.get(XML_LANG)})
    return out


def _name_en(legal: str | None, lang: str | None, others: list[dict[str, str | None]]) -> str | None:
    """The English or Latin-script name of an entity (order documented in the module docstring)."""

    def of_type(kind: str, english: bool = False) -> str | None:
        for o in others:
            if o["type"] == kind and (not english or (o["lang"] or "").lower().startswith("en")):
                return o["name"]
        return None

    if legal and (lang or "").lower().startswith("en"):
        return legal
    return (
        of_type("ALTERNATIVE_LANGUAGE_LEGAL_NAME", english=True)
        or of_type("PREFERRED_ASCII_TRANSLITERATED_LEGAL_NAME")
        or (legal if legal and _is_latin(legal) else None)
        or of_type("AUTO_ASCII_TRANSLITERATED_LEGAL_NAME")
    )


def _lei_row(ctx: ExtractContext, rec: etree._Element, file: str, line: int | None) -> dict[str, Any]:
    """One organization row from an LEIRecord element."""
    top = _kids(rec)
    lei = _first_text(top, "LEI")
    if lei is None:
        ctx.warn(
            "LEIRecord has no LEI; passed on for the loader to quarantine",
            file=file,
            line=line,
            code="gleif_missing_lei",
        )
    entity = _kids(_first(top, "Entity"))
    reg = _kids(_first(top, "Registration"))

    legal_el = _first(entity, "LegalName")
    legal = _text(legal_el)
    lang = legal_el.get(XML_LANG) if legal_el is not None else None
    others = _names(entity)

    legal_addr = _address(_first(entity, "LegalAddress"))
    hq_addr = _address(_first(entity, "HeadquartersAddress"))

    # LEI-CDF 2.1/3.x: RegistrationAuthority/{RegistrationAuthorityID, RegistrationAuthorityEntityID};
    # LEI-CDF 1.0: BusinessRegisterEntityID with the register code in its 'register' attribute.
    ra = _kids(_first(entity, "RegistrationAuthority"))
    ra_id = _first_text(ra, "RegistrationAuthorityID")
    ra_entity = _first_text(ra, "RegistrationAuthorityEntityID")
    bre = _first(entity, "BusinessRegisterEntityID")
    if bre is not None:
        ra_id = ra_id or bre.get("register")
        ra_entity = ra_entity or _text(bre)

    # LEI-CDF 2.1/3.x: LegalForm/{EntityLegalFormCode, OtherLegalForm}; 1.0: LegalForm holds the form as text.
    # The OtherLegalForm text is kept whenever given (with code 8888 it is the only name of the form).
    lf_el = _first(entity, "LegalForm")
    lf = _kids(lf_el)
    legal_form_code = _first_text(lf, "EntityLegalFormCode")
    legal_form = _first_text(lf, "OtherLegalForm") or (_text(lf_el) if not lf else None)
    if legal_form_code == OTHER_LEGAL_FORM_CODE and legal_form is None:
        ctx.warn(
            "EntityLegalFormCode 8888 (other legal form) without an OtherLegalForm name",
            file=file,
            line=line,
            key=lei,
            code="gleif_other_legal_form_missing",
        )

    successor = _kids(_first(entity, "SuccessorEntity"))
    extra = {
        "ManagingLOU": _first_text(reg, "ManagingLOU"),
        "InitialRegistrationDate": _first_text(reg, "InitialRegistrationDate"),
        "NextRenewalDate": _first_text(reg, "NextRenewalDate"),
        "ValidationSources": _first_text(reg, "ValidationSources"),
        "SuccessorLEI": _first_text(successor, "SuccessorLEI") or _first_text(entity, "SuccessorLEI"),
        "SuccessorEntityName": _first_text(successor, "SuccessorEntityName"),
        "OtherRegistrationAuthorityID": _first_text(ra, "OtherRegistrationAuthorityID"),
        "EntitySubCategory": _first_text(entity, "EntitySubCategory"),
    }

    return {
        "source_id": lei,
        "lei": lei,
        "name": legal,
        "name_lang": lang,
        "name_en": _name_en(legal, lang, others),
        "other_names": _json(others),
        **legal_addr,
        "hq_country": hq_addr["country"],
        "hq_city": hq_addr["city"],
        "hq_address": hq_addr["address"],
        "hq_postal_code": hq_addr["postal_code"],
        "registration_authority": ra_id,
        "registration_number": ra_entity,
        "jurisdiction": _first_text(entity, "LegalJurisdiction"),
        "category": _first_text(entity, "EntityCategory"),
        "legal_form_code": legal_form_code,
        "legal_form": legal_form,
        "entity_status": _first_text(entity, "EntityStatus"),
        "registration_status": _first_text(reg, "RegistrationStatus"),
        "updated_at": _first_text(reg, "LastUpdateDate"),
        "incorporated_on": _iso_date(
            ctx, _first_text(entity, "EntityCreationDate"), "EntityCreationDate", file=file, line=line, key=lei
        ),
        "extra": _json({k: v for k, v in extra.items() if v is not None}),
        "src_file": file,
        "src_line": line,
    }


def extract_lei(ctx: ExtractContext) -> Iterator[Batch]:
    """Adapter for ``gleif_lei_xml``: LEI-CDF 3.x/2.1 golden copy or delta -> ``organization`` rows."""

    def rows() -> Iterator[dict[str, Any]]:
        for rec, file, line in _iter_records(ctx, kind="GLEIF LEI-CDF", root="LEIData", record="LEIRecord"):
            yield _lei_row(ctx, rec, file, line)

    yield from chunked(rows(), ctx.chunk_size, "organization")


# --------------------------------------------------------------------------- level 2: relationship records


def _rr_row(ctx: ExtractContext, rec: etree._Element, file: str, line: int | None) -> dict[str, Any]:
    """One relationship row from a RelationshipRecord element (StartNode = child, EndNode = parent).

    Start and end dates come from the period of type RELATIONSHIP_PERIOD only: the other period
    types (ACCOUNTING_PERIOD, DOCUMENT_FILING_PERIOD) date the evidence, not the relationship.
    """
    top = _kids(rec)
    rel = _kids(_first(top, "Relationship"))
    reg = _kids(_first(top, "Registration"))
    start = _kids(_first(rel, "StartNode"))
    end = _kids(_first(rel, "EndNode"))
    child_id, parent_id = _first_text(start, "NodeID"), _first_text(end, "NodeID")
    key = f"{child_id}->{parent_id}"
    if child_id is None or parent_id is None:
        ctx.warn(
            "RelationshipRecord lacks a StartNode or EndNode NodeID; passed on for the loader to quarantine",
            file=file,
            line=line,
            key=key,
            code="gleif_rr_missing_node",
        )

    start_date = end_date = None
    for periods in rel.get("RelationshipPeriods", []):
        for period in _kids(periods).get("RelationshipPeriod", []):
            p = _kids(period)
            if _first_text(p, "PeriodType") == "RELATIONSHIP_PERIOD":
                where: dict[str, Any] = {"file": file, "line": line, "key": key}
                start_date = _iso_date(ctx, _first_text(p, "StartDate"), "StartDate", **where)
                end_date = _iso_date(ctx, _first_text(p, "EndDate"), "EndDate", **where)
                break

    return {
        "child_id": child_id,
        "child_id_type": _first_text(start, "NodeIDType"),
        "parent_id": parent_id,
        "parent_id_type": _first_text(end, "NodeIDType"),
        "relationship_type": _first_text(rel, "RelationshipType"),
        "relationship_status": _first_text(rel, "RelationshipStatus"),
        "start_date": start_date,
        "end_date": end_date,
        "registration_status": _first_text(reg, "RegistrationStatus"),
        "updated_at": _first_text(reg, "LastUpdateDate"),
        "src_file": file,
        "src_line": line,
    }


def extract_rr(ctx: ExtractContext) -> Iterator[Batch]:
    """Adapter for ``gleif_rr_xml``: RR-CDF 1.x/2.x relationship records -> ``relationship`` rows."""

    def rows() -> Iterator[dict[str, Any]]:
        for rec, file, line in _iter_records(
            ctx, kind="GLEIF RR-CDF", root="RelationshipData", record="RelationshipRecord"
        ):
            yield _rr_row(ctx, rec, file, line)

    yield from chunked(rows(), ctx.chunk_size, "relationship")
