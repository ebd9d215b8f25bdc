"""The golden records and what hangs on them: history, lineage, cross-reference, golden ids, hierarchy and
financials."""

from __future__ import annotations

from pipelines.descriptions.shared import FINANCIAL_COLUMNS, HIERARCHY_COLUMNS, Doc

# The golden record's attributes (mdm/survivorship.py GOLDEN_COLUMNS): each the surviving value of the cluster.
GOLDEN_COLUMNS: dict[str, str] = {
    "legal_name": "Surviving legal name (original script).",
    "legal_name_lang": "Language tag of legal_name when known.",
    "name_en": "Surviving English or transliterated name.",
    "lei": "Valid LEI of the entity.",
    "uscc": "Valid Chinese Unified Social Credit Code.",
    "cn_registration_number": "Legacy Chinese 15-digit registration number (before the USCC).",
    "gb_company_number": "Valid Companies House number.",
    "cik": "SEC Central Index Key.",
    "ein": "US Employer Identification Number.",
    "registration_authority": "GLEIF registration authority code or register name.",
    "registration_number": "National register number.",
    "legal_form": "Legal form as spelled by the winning source.",
    "legal_form_code": "ISO 20275 ELF code.",
    "category": "Entity category.",
    "entity_status": "Entity status (ACTIVE / INACTIVE ...).",
    "country": "ISO 3166-1 alpha-2 country of the legal address.",
    "region": "Subdivision of the legal address.",
    "city": "City of the legal address.",
    "address": "Street lines of the legal address.",
    "postal_code": "Postal code of the legal address.",
    "hq_country": "Country of the headquarters.",
    "hq_city": "City of the headquarters.",
    "hq_address": "Street lines of the headquarters.",
    "hq_postal_code": "Postal code of the headquarters.",
    "jurisdiction": "Legal jurisdiction.",
    "incorporated_on": "Date of incorporation (ISO).",
    "industry_code": "Industry code (SIC, NACE, ...).",
    "phone": "Phone number (internal systems).",
    "branch": "Bank branch holding the customer.",
    "relationship_manager": "Relationship manager of the customer.",
    "customer_status": "Internal customer status.",
    "customer_since": "Date the customer relationship was opened.",
    "record_count": "Number of source records in the cluster.",
    "source_count": "Number of distinct sources in the cluster.",
    "sources": "Comma-separated names of the sources in the cluster (a list in customer_360.sources).",
    "run_id": "Run that published this version of the golden record.",
}

GOLDEN: dict[str, Doc] = {
    "golden_organization": Doc(
        "One row per legal entity: the golden record of a cluster of source records, "
        "each attribute the value survivorship chose (see golden_attribute_lineage). "
        "Replaced at every publish.",
        GOLDEN_COLUMNS,
    ),
    "golden_organization_history": Doc(
        "Every version of every golden record (slowly changing dimension, type 2): a new row when a golden "
        "record appears or any attribute changes, the previous one closed; golden ids that disappear are "
        "closed. Valid from valid_from (inclusive) to valid_to (exclusive). Query a date with "
        "golden_organization_as_of(ts). Gains the columns golden_organization gains (NULL in older versions).",
        {
            "row_hash": "md5 of the version's non-NULL attributes (all columns but golden_id and run_id, keys sorted).",
            "valid_from": "When this version became current: publish start of the run that wrote it (UTC).",
            "valid_to": "When it stopped being current (UTC); NULL for the current version.",
            "run_id": "Run that opened this version.",
        },
        inherits=("golden_organization",),
    ),
    "golden_attribute_lineage": Doc(
        "Where each golden attribute value came from: record, source and rule.",
        {
            "attribute": "Golden attribute name.",
            "value": "The surviving value.",
            "source": "Source of the record the value came from.",
            "source_id": "Key of that record in its source.",
            "rid": "Record id of that record.",
            "rule": "Survivorship rule that decided (source_priority, most_recent, most_complete, most_frequent, "
            "tie_break, steward_override).",
            "candidates": "Records of the cluster that had a value for the attribute.",
        },
    ),
    "xref": Doc(
        "Cross-reference: one row per source record with the golden record it belongs to.",
        {
            "match_rule": "Why the record is in its cluster: id:<scheme> (shared identifier), score (model match), "
            "singleton, steward.",
            "id_origin": "How the cluster got its golden id: new, kept (the id of its previous cluster) or merged "
            "(the oldest id of the clusters it joined).",
            "cluster_key": "Deterministic key of the cluster in this run (smallest rid).",
        },
    ),
    "golden_id_registry": Doc(
        "Every golden id ever issued.",
        {
            "minted_seq": "Order of creation: smaller is older.",
            "created_run": "Run that issued the id.",
            "retired_run": "Run that retired it (merged into another), NULL while in use.",
        },
    ),
    "golden_id_redirect": Doc(
        "Retired golden ids and the id that replaced them.",
        {
            "retired_id": "Golden id no longer in use.",
            "surviving_id": "Golden id that took over its records (NULL when none did).",
            "reason": "Why the id was retired (merge, ...).",
        },
    ),
    "golden_hierarchy": Doc(
        "Parent/subsidiary relationships between golden records: relationship rows (GLEIF level 2) with "
        "both ends resolved by LEI through any source record carrying that valid LEI. One row per source, "
        "child, parent and type (the latest update wins); relationships with neither end loaded are left out.",
        {
            "child_golden_id": "Golden record of the child (StartNode); NULL when the child is not loaded.",
            "parent_golden_id": "Golden record of the parent (EndNode); NULL when the parent is not loaded.",
            "child_id": "LEI of the child as given.",
            "parent_id": "LEI of the parent as given (kept when the parent is not loaded).",
            **HIERARCHY_COLUMNS,
        },
    ),
    "golden_financial_fact": Doc(
        "Financial facts of the golden records: financial_fact joined to xref on (source, source_id = CIK).",
        {
            **FINANCIAL_COLUMNS,
            "period_end": "Date the value refers to (DATE).",
            "measure": "Headline measure the tag reports (financial_concept), NULL for other tags.",
            "source_id": "Filer key in the source (CIK).",
        },
    ),
    "financial_concept": Doc(
        "Which tag reports which headline measure, and which tag wins at the same period.",
        {
            "concept": "XBRL tag.",
            "measure": "Headline measure: revenue, net_income, assets, liabilities, equity, liabilities_and_equity.",
            "kind": "flow (a duration: the annual figure is preferred) or balance (a point in time, qtrs = 0).",
            "preference": "Rank among the tags of the measure (1 wins).",
        },
    ),
}
