"""The canonical record contracts shared by every source adapter and the core.

Every adapter turns its source format into batches of these tables. All columns are strings in the
raw layer (dates as ISO ``YYYY-MM-DD``), except where a numeric type is given, so that nothing is
lost or coerced before validation; lineage columns (``src_file``, ``src_line``) say where each row
came from (``src_line`` is the 1-based physical line where a CSV/TSV row or an XML record starts, or
the 1-based ordinal of an SQL result row).
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

S = pa.string()
F = pa.float64()
INT = pa.int64()

# One row per legal-entity record as a source knows it.
ORGANIZATION: Final[dict[str, pa.DataType]] = {
    "source": S,  # config name of the source
    "source_id": S,  # natural key within the source (LEI, USCC, CompanyNumber, CIK, CRM id)
    "source_format": S,  # adapter name (gleif_lei_xml, ...)
    "name": S,  # legal name as given (original script)
    "name_lang": S,  # language tag of the name when known (GLEIF xml:lang)
    "name_en": S,  # English / transliterated name when the source has one
    "other_names": S,  # JSON list of {"name", "type", "lang"?, "date"?} (previous, trading, transliterated)
    "lei": S,
    "uscc": S,  # Chinese Unified Social Credit Code (or legacy registration number)
    "registration_number": S,  # national register number (Companies House number, RA entity id, ...)
    "registration_authority": S,  # GLEIF RA code or register name
    "cik": S,
    "ein": S,
    "legal_form": S,  # legal form as spelled by the source
    "legal_form_code": S,  # ISO 20275 ELF code when given
    "category": S,  # GLEIF EntityCategory / Companies House CompanyCategory / 企业类型
    "entity_status": S,  # ACTIVE / INACTIVE / Active / Dissolved ...
    "registration_status": S,  # GLEIF RegistrationStatus
    "country": S,  # ISO 3166-1 alpha-2 of the legal/registered address when derivable
    "region": S,  # subdivision (US-MA, 上海, county)
    "city": S,
    "address": S,  # street lines joined with ", "
    "postal_code": S,
    "hq_country": S,
    "hq_city": S,
    "hq_address": S,
    "hq_postal_code": S,
    "jurisdiction": S,
    "incorporated_on": S,  # ISO date
    "updated_at": S,  # ISO date or timestamp of the source's last update of the record
    "phone": S,
    "industry_code": S,  # SIC / NACE / 经营范围 code
    "branch": S,
    "relationship_manager": S,
    "opened_on": S,
    "status": S,  # internal (CRM) customer status
    "extra": S,  # JSON object with source-specific attributes kept for lineage
    "src_file": S,
    "src_line": INT,
}

# Parent/subsidiary relationships (GLEIF level 2): child -> parent.
RELATIONSHIP: Final[dict[str, pa.DataType]] = {
    "source": S,
    "child_id": S,  # StartNode id (an LEI for GLEIF)
    "child_id_type": S,  # LEI / ...
    "parent_id": S,  # EndNode id
    "parent_id_type": S,
    "relationship_type": S,  # IS_DIRECTLY_CONSOLIDATED_BY, IS_ULTIMATELY_CONSOLIDATED_BY, ...
    "relationship_status": S,  # ACTIVE / INACTIVE
    "start_date": S,
    "end_date": S,
    "registration_status": S,
    "updated_at": S,
    "src_file": S,
    "src_line": INT,
}

# Financial statement facts (SEC FSDS num.txt joined to sub.txt).
FINANCIAL_FACT: Final[dict[str, pa.DataType]] = {
    "source": S,
    "source_id": S,  # CIK: joins to ORGANIZATION.source_id of the same source
    "filing": S,  # accession number (adsh)
    "form": S,  # 10-K, 10-Q ...
    "period_end": S,  # ISO date (ddate)
    "qtrs": INT,  # duration in quarters (0 = point in time)
    "concept": S,  # tag (Revenues, Assets, ...)
    "version": S,  # taxonomy version
    "value": F,
    "unit": S,  # uom
    "src_file": S,
    "src_line": INT,
}

# Internal accounts and monthly balances (SQL sources).
ACCOUNT: Final[dict[str, pa.DataType]] = {
    "source": S,
    "account_id": S,
    "source_id": S,  # customer id: joins to ORGANIZATION.source_id of the same source
    "product": S,
    "currency": S,
    "opened_on": S,
    "closed_on": S,
    "status": S,
    "src_file": S,
    "src_line": INT,
}

BALANCE: Final[dict[str, pa.DataType]] = {
    "source": S,
    "account_id": S,
    "month": S,  # ISO YYYY-MM
    "balance": F,
    "debit_amount": F,
    "credit_amount": F,
    "txn_count": INT,
    "src_file": S,
    "src_line": INT,
}

TABLES: Final[dict[str, dict[str, pa.DataType]]] = {
    "organization": ORGANIZATION,
    "relationship": RELATIONSHIP,
    "financial_fact": FINANCIAL_FACT,
    "account": ACCOUNT,
    "balance": BALANCE,
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a canonical table."""
    return pa.schema(list(TABLES[table].items()))
