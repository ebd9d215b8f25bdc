"""What the data dictionary is made of (:class:`Doc`), and the column descriptions several relations share."""

from __future__ import annotations

from dataclasses import dataclass, field

# Columns that mean the same wherever they appear (a table's own description of a column wins).
COMMON: dict[str, str] = {
    "run_id": "Run that wrote the row (run ids sort in start order; see run_log).",
    "source": "Config name of the source the row came from.",
    "source_id": "Natural key of the record within its source (LEI, USCC, company number, CIK, CRM id).",
    "golden_id": "Persistent id of the golden record (legal entity).",
    "src_file": "File the row was read from (`archive.zip!member` inside a zip; the SQL URL for databases).",
    "src_line": "1-based line where the row starts in src_file (XML: the record element; SQL: the row ordinal).",
    "rid": "Record id `source:source_id`.",
}

FINANCIAL_COLUMNS: dict[str, str] = {
    "filing": "SEC accession number (adsh) of the filing that reported the fact.",
    "form": "Form of the filing (10-K, 10-Q, 10-Q/A, 8-K, ...).",
    "period_end": "Date the value refers to (end of the period, or the balance-sheet date).",
    "qtrs": "Duration in quarters (0 = point in time, 1 = a quarter, 4 = a year).",
    "concept": "XBRL tag as reported (Revenues, SalesRevenueNet, Assets, ...).",
    "version": "Taxonomy of the tag (us-gaap/2008, or the filer's own).",
    "value": "Reported value.",
    "unit": "Unit of measure (USD, CAD, ...).",
}

HIERARCHY_COLUMNS: dict[str, str] = {
    "relationship_type": "GLEIF relationship type: IS_DIRECTLY_CONSOLIDATED_BY, IS_ULTIMATELY_CONSOLIDATED_BY, "
    "IS_FUND-MANAGED_BY, IS_SUBFUND_OF, ...",
    "relationship_status": "ACTIVE or INACTIVE.",
    "start_date": "Start of the relationship (ISO date) when given.",
    "end_date": "End of the relationship (ISO date) when given.",
    "registration_status": "GLEIF registration status of the relationship record (PUBLISHED, LAPSED, ...).",
}


@dataclass(frozen=True)
class Doc:
    """What a table or view holds; ``inherits`` names a relation whose column descriptions apply too."""

    description: str
    columns: dict[str, str] = field(default_factory=dict)
    inherits: tuple[str, ...] = ()
