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
scanned for record start tags as it is read (:mod:`pipelines.adapters.gleif_xml`), and the n-th record element
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
from collections.abc import Iterator
from typing import Any, Final

from lxml import etree

from pipelines.adapters.base import Batch, ExtractContext, chunked
from pipelines.adapters.gleif_xml import (
    _first,
    _first_text,
    _iter_records,
    _kids,
    _local,
    _text,
)

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
