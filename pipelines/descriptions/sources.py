"""The standardised source data of the last run: organisation records, relationships, financial facts,
accounts and balances."""

from __future__ import annotations

from pipelines.descriptions.shared import FINANCIAL_COLUMNS, HIERARCHY_COLUMNS, Doc

# Attributes of a legal entity as sources deliver them (mdm/schema.py ORGANIZATION).
ORGANIZATION_COLUMNS: dict[str, str] = {
    "source_format": "Adapter that read the record (gleif_lei_xml, companies_house_csv, sql, ...).",
    "name": "Legal name as the source gives it (original script).",
    "name_lang": "Language tag of the name when known (GLEIF xml:lang).",
    "name_en": "English or transliterated name when the source has one.",
    "other_names": "JSON list of other names: {name, type, lang?, date?} (previous, trading, transliterated).",
    "lei": "Legal Entity Identifier as given (ISO 17442).",
    "uscc": "Chinese Unified Social Credit Code, or a legacy 15-digit registration number.",
    "registration_number": "National register number (Companies House number, GLEIF RA entity id, ...).",
    "registration_authority": "GLEIF registration authority code or register name.",
    "cik": "SEC Central Index Key.",
    "ein": "US Employer Identification Number.",
    "legal_form": "Legal form as spelled by the source.",
    "legal_form_code": "ISO 20275 ELF code when given.",
    "category": "Entity category (GLEIF EntityCategory, Companies House CompanyCategory, 企业类型).",
    "entity_status": "Entity status as given (ACTIVE / INACTIVE / Active / Dissolved ...).",
    "registration_status": "GLEIF registration status of the LEI (ISSUED, LAPSED, RETIRED, ...).",
    "country": "ISO 3166-1 alpha-2 country of the legal/registered address.",
    "region": "Subdivision (US-MA, 上海, county).",
    "city": "City of the legal/registered address.",
    "address": "Street lines of the legal/registered address joined with ', '.",
    "postal_code": "Postal code of the legal/registered address.",
    "hq_country": "Country of the headquarters address.",
    "hq_city": "City of the headquarters address.",
    "hq_address": "Street lines of the headquarters address.",
    "hq_postal_code": "Postal code of the headquarters address.",
    "jurisdiction": "Legal jurisdiction (ISO 3166 code or subdivision).",
    "incorporated_on": "Date of incorporation (ISO).",
    "updated_at": "When the source last updated the record (ISO date or timestamp).",
    "phone": "Phone number (internal systems).",
    "industry_code": "Industry code (SIC, NACE, 经营范围 code).",
    "branch": "Bank branch that holds the customer (internal systems).",
    "relationship_manager": "Relationship manager of the customer (internal systems).",
    "opened_on": "Date the customer relationship was opened (internal systems).",
    "status": "Internal customer status (internal systems).",
    "extra": "JSON object of source-specific attributes kept for lineage.",
}

SOURCES: dict[str, Doc] = {
    "organization_record": Doc(
        "Standardised source records of the last run, one per source and natural key, with their golden id.",
        {
            **ORGANIZATION_COLUMNS,
            "name_core": "Name standardised for matching: NFKC, simplified Chinese, case, legal form and noise removed.",
            "legal_form_norm": "Legal form mapped to its ISO 20275 / CJK normal form.",
            "country_iso": "ISO 3166-1 alpha-2 country derived from the record.",
            "city_norm": "City standardised for matching.",
            "postal_norm": "Postal code standardised per country.",
            "address_norm": "Address standardised for matching (street types, abbreviations).",
            "branch_flag": "True when the name marks a branch (分公司, 支行, Branch).",
            "name_cjk": "True when the name is in Chinese/Japanese/Korean script.",
            "std_version": "Version of the standardisation that produced the record (reused while unchanged).",
            "id_LEI": "Valid LEI (NULL when absent or invalid).",
            "id_USCC": "Valid USCC.",
            "id_CN_REG": "Legacy Chinese registration number.",
            "id_GB_COH": "Valid Companies House number.",
            "id_CIK": "SEC CIK.",
            "id_NATIONAL": "Valid national register or tax number as scheme:value (FR-SIREN:542051180, RU-OGRN:..., "
            "RA000602:... for a register known only by its GLEIF RA code).",
            "content_hash": "md5 of the record's canonical attributes (lineage excluded), to detect changed records.",
            "aliases": "Every name of the record standardised (legal, English, former) for candidate search.",
            "qualifiers": "Distinguishing name qualifiers (regions, branch markers, Group/集团).",
            "qualifiers_en": "Qualifiers of the English name.",
            "invalid_ids": "Identifiers present but invalid (kept, never used for deterministic matching).",
        },
    ),
    "relationship": Doc(
        "Relationships as loaded in the last run (GLEIF level 2 child -> parent).",
        {
            "child_id": "StartNode id (an LEI for GLEIF).",
            "child_id_type": "Scheme of child_id (LEI).",
            "parent_id": "EndNode id.",
            "parent_id_type": "Scheme of parent_id (LEI).",
            "updated_at": "When the relationship record was last updated (source timestamp).",
            **HIERARCHY_COLUMNS,
        },
    ),
    "financial_fact": Doc(
        "Financial statement facts as loaded in the last run (SEC FSDS num.txt joined to sub.txt).",
        {
            **FINANCIAL_COLUMNS,
            "period_end": "Date the value refers to (ISO text).",
            "source_id": "Filer CIK: joins to organization_record.source_id of the same source.",
        },
    ),
    "account": Doc(
        "Internal accounts of customers (SQL sources), as loaded in the last run.",
        {
            "account_id": "Account key in the source.",
            "source_id": "Customer id: joins to organization_record.source_id of the same source.",
            "product": "Product of the account.",
            "currency": "ISO 4217 currency of the account.",
            "opened_on": "Date the account was opened.",
            "closed_on": "Date the account was closed.",
            "status": "Account status.",
        },
    ),
    "balance": Doc(
        "Monthly balances of internal accounts, as loaded in the last run.",
        {
            "account_id": "Account key (joins to account).",
            "month": "Month (ISO YYYY-MM).",
            "balance": "End-of-month balance.",
            "debit_amount": "Debits in the month.",
            "credit_amount": "Credits in the month.",
            "txn_count": "Transactions in the month.",
        },
    ),
}
