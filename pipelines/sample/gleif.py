"""GLEIF records of the sample world: LEI-CDF 3.1 ``LEIRecord`` and RR-CDF ``RelationshipRecord`` elements."""

from __future__ import annotations

import random
from datetime import date, timedelta
from xml.sax.saxutils import escape

from pipelines.sample.entities import Address, Entity
from pipelines.sample.pools import _FORMS, _LOUS, _US_ELF
from pipelines.sample.spaces import _rand_date

LEI_NS = (
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
    '               xmlns:lei="http://www.gleif.org/data/schema/leidata/2016"\n'
    '               xmlns:gleif="http://www.gleif.org/data/schema/golden-copy/extensions/1.0"'
)
RR_NS = (
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
    '                       xmlns:gleif="http://www.gleif.org/data/schema/golden-copy/extensions/1.0"\n'
    '                       xmlns:gleif_header="http://www.gleif.org/schema/golden-copy/header-extension/1.1"\n'
    '                       xmlns:rr="http://www.gleif.org/data/schema/rr/2016"'
)
CONTENT_DATE = "2024-07-01T08:00:00Z"


def _iso_ts(d: date, rng: random.Random) -> str:
    return f"{d.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.000Z"


def _e(text: str) -> str:
    return escape(text)


def _xml_address(tag: str, a: Address, lang: str) -> str:
    lines = a.lines or ("",)
    parts = [
        f'      <lei:{tag} xml:lang="{lang}">',
        f"         <lei:FirstAddressLine>{_e(lines[0])}</lei:FirstAddressLine>",
    ]
    parts += [f"         <lei:AdditionalAddressLine>{_e(x)}</lei:AdditionalAddressLine>" for x in lines[1:]]
    city = a.city + ("市" if a.country == "CN" and not a.city.endswith("市") else "")
    parts.append(f"         <lei:City>{_e(city)}</lei:City>")
    if a.region:
        parts.append(f"         <lei:Region>{a.region}</lei:Region>")
    parts.append(f"         <lei:Country>{a.country}</lei:Country>")
    if a.postal:
        parts.append(f"         <lei:PostalCode>{a.postal}</lei:PostalCode>")
    parts.append(f"      </lei:{tag}>")
    return "\n".join(parts)


def _managing_lou(e: Entity) -> str:
    """The LEI of the LOU that issued ``e``'s LEI (same 4-character prefix)."""
    assert e.lei is not None
    return next(x for x in _LOUS[e.country] if x[:4] == e.lei[:4])


def gleif_record(e: Entity, rng: random.Random) -> str:
    """One LEI-CDF 3.1 ``LEIRecord`` element (as text) for an entity with an LEI."""
    lang = {"CN": "zh", "DE": "de", "FR": "fr"}.get(e.country, "en")
    name = e.name if e.country != "GB" or rng.random() < 0.5 else e.name.upper()
    out = [
        f"<lei:LEIRecord {LEI_NS}>",
        f"   <lei:LEI>{e.lei}</lei:LEI>",
        "   <lei:Entity>",
        f'      <lei:LegalName xml:lang="{lang}">{_e(name)}</lei:LegalName>',
    ]
    if e.former_name:
        out += [
            "      <lei:OtherEntityNames>",
            f'         <lei:OtherEntityName xml:lang="{lang}" type="PREVIOUS_LEGAL_NAME">{_e(e.former_name)}</lei:OtherEntityName>',
            "      </lei:OtherEntityNames>",
        ]
    if e.country == "CN" and e.name_en:
        out += [
            "      <lei:TransliteratedOtherEntityNames>",
            f'         <lei:TransliteratedOtherEntityName xml:lang="en" type="PREFERRED_ASCII_TRANSLITERATED_LEGAL_NAME">{_e(e.name_en.upper() if rng.random() < 0.5 else e.name_en)}</lei:TransliteratedOtherEntityName>',
            "      </lei:TransliteratedOtherEntityNames>",
        ]
    out.append(_xml_address("LegalAddress", e.address, lang))
    out.append(_xml_address("HeadquartersAddress", e.address, lang))
    out.append("      <lei:RegistrationAuthority>")
    out.append(f"         <lei:RegistrationAuthorityID>{e.reg_authority}</lei:RegistrationAuthorityID>")
    if e.reg_id:
        out.append(f"         <lei:RegistrationAuthorityEntityID>{_e(e.reg_id)}</lei:RegistrationAuthorityEntityID>")
    out.append("      </lei:RegistrationAuthority>")
    jur = f"US-{e.us_state}" if e.country == "US" else e.country
    out.append(f"      <lei:LegalJurisdiction>{jur}</lei:LegalJurisdiction>")
    out.append("      <lei:EntityCategory>GENERAL</lei:EntityCategory>")
    elf = _US_ELF[(e.us_state, e.form)] if e.country == "US" else _FORMS[e.form][3]
    out += [
        "      <lei:LegalForm>",
        f"         <lei:EntityLegalFormCode>{elf}</lei:EntityLegalFormCode>",
        "      </lei:LegalForm>",
    ]
    out.append(f"      <lei:EntityStatus>{'ACTIVE' if e.active else 'INACTIVE'}</lei:EntityStatus>")
    out.append(f"      <lei:EntityCreationDate>{e.incorporated.isoformat()}T00:00:00.000Z</lei:EntityCreationDate>")
    out.append("   </lei:Entity>")
    initial = _rand_date(rng, max(e.incorporated, date(2012, 6, 1)), date(2023, 6, 1))
    updated = _rand_date(rng, max(initial, date(2022, 1, 1)), date(2024, 6, 30))
    lapsed = not e.active or rng.random() < 0.15
    renewal = updated + timedelta(days=365 if not lapsed else -30)
    lou = _managing_lou(e)
    out += [
        "   <lei:Registration>",
        f"      <lei:InitialRegistrationDate>{_iso_ts(initial, rng)}</lei:InitialRegistrationDate>",
        f"      <lei:LastUpdateDate>{_iso_ts(updated, rng)}</lei:LastUpdateDate>",
        f"      <lei:RegistrationStatus>{'LAPSED' if lapsed else 'ISSUED'}</lei:RegistrationStatus>",
        f"      <lei:NextRenewalDate>{_iso_ts(renewal, rng)}</lei:NextRenewalDate>",
        f"      <lei:ManagingLOU>{lou}</lei:ManagingLOU>",
        f"      <lei:ValidationSources>{'FULLY_CORROBORATED' if rng.random() < 0.8 else 'ENTITY_SUPPLIED_ONLY'}</lei:ValidationSources>",
        "      <lei:ValidationAuthority>",
        f"         <lei:ValidationAuthorityID>{e.reg_authority}</lei:ValidationAuthorityID>",
    ]
    if e.reg_id:
        out.append(f"         <lei:ValidationAuthorityEntityID>{_e(e.reg_id)}</lei:ValidationAuthorityEntityID>")
    out += ["      </lei:ValidationAuthority>", "   </lei:Registration>", "</lei:LEIRecord>\n"]
    return "\n".join(out)


def rr_record(child: Entity, parent: Entity, rtype: str, rng: random.Random) -> str:
    """One RR-CDF ``RelationshipRecord`` (child StartNode -> parent EndNode)."""
    start = max(child.incorporated, parent.incorporated)
    fy = rng.randrange(2019, 2024)
    initial = _rand_date(rng, date(2017, 6, 1), date(2023, 6, 1))
    updated = _rand_date(rng, initial, date(2024, 6, 30))
    return "\n".join(
        (
            f"<rr:RelationshipRecord {RR_NS}>",
            "   <rr:Relationship>",
            "      <rr:StartNode>",
            f"         <rr:NodeID>{child.lei}</rr:NodeID>",
            "         <rr:NodeIDType>LEI</rr:NodeIDType>",
            "      </rr:StartNode>",
            "      <rr:EndNode>",
            f"         <rr:NodeID>{parent.lei}</rr:NodeID>",
            "         <rr:NodeIDType>LEI</rr:NodeIDType>",
            "      </rr:EndNode>",
            f"      <rr:RelationshipType>{rtype}</rr:RelationshipType>",
            "      <rr:RelationshipPeriods>",
            "         <rr:RelationshipPeriod>",
            f"            <rr:StartDate>{fy}-01-01T00:00:00.000Z</rr:StartDate>",
            f"            <rr:EndDate>{fy}-12-31T00:00:00.000Z</rr:EndDate>",
            "            <rr:PeriodType>ACCOUNTING_PERIOD</rr:PeriodType>",
            "         </rr:RelationshipPeriod>",
            "         <rr:RelationshipPeriod>",
            f"            <rr:StartDate>{start.isoformat()}T00:00:00.000Z</rr:StartDate>",
            "            <rr:PeriodType>RELATIONSHIP_PERIOD</rr:PeriodType>",
            "         </rr:RelationshipPeriod>",
            "      </rr:RelationshipPeriods>",
            f"      <rr:RelationshipStatus>{'ACTIVE' if child.active else 'INACTIVE'}</rr:RelationshipStatus>",
            "      <rr:RelationshipQualifiers>",
            "         <rr:RelationshipQualifier>",
            "            <rr:QualifierDimension>ACCOUNTING_STANDARD</rr:QualifierDimension>",
            f"            <rr:QualifierCategory>{'IFRS' if child.country != 'US' else 'US_GAAP'}</rr:QualifierCategory>",
            "         </rr:RelationshipQualifier>",
            "      </rr:RelationshipQualifiers>",
            "   </rr:Relationship>",
            "   <rr:Registration>",
            f"      <rr:InitialRegistrationDate>{_iso_ts(initial, rng)}</rr:InitialRegistrationDate>",
            f"      <rr:LastUpdateDate>{_iso_ts(updated, rng)}</rr:LastUpdateDate>",
            f"      <rr:RegistrationStatus>{'PUBLISHED' if rng.random() < 0.9 else 'LAPSED'}</rr:RegistrationStatus>",
            f"      <rr:NextRenewalDate>{_iso_ts(updated + timedelta(days=365), rng)}</rr:NextRenewalDate>",
            f"      <rr:ManagingLOU>{_managing_lou(child)}</rr:ManagingLOU>",
            "      <rr:ValidationSources>FULLY_CORROBORATED</rr:ValidationSources>",
            "      <rr:ValidationDocuments>ACCOUNTS_FILING</rr:ValidationDocuments>",
            "   </rr:Registration>",
            "</rr:RelationshipRecord>\n",
        )
    )
