"""The data dictionary's words: what every table, view, table macro and column of the warehouse means.

Data only; :mod:`pipelines.schema_doc` renders it with the live DuckDB catalogue into docs/schema.md, and
:mod:`pipelines.comments` puts it on the tables as DuckDB comments. Tables declared by a SQL header
(``-- description:``/``-- column``, see pipelines/catalog.py) describe themselves there instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.marts import mart_docs

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

FIGURES: dict[str, str] = {
    "revenue": "Latest revenue (Revenues, or an alias: RevenueFromContractWithCustomer..., SalesRevenueNet ...): "
    "the annual figure (qtrs = 4) when there is one, else the longest duration of the latest period.",
    "revenue_concept": "Tag the revenue figure was reported under.",
    "revenue_period_end": "Period end of the revenue figure.",
    "revenue_qtrs": "Duration of the revenue figure in quarters (4 = annual).",
    "net_income": "Latest net income (NetIncomeLoss, or ProfitLoss / NetIncomeLossAvailableToCommonStockholdersBasic), "
    "annual when available.",
    "net_income_concept": "Tag the net income figure was reported under.",
    "net_income_period_end": "Period end of the net income figure.",
    "net_income_qtrs": "Duration of the net income figure in quarters (4 = annual).",
    "assets": "Latest total assets (point in time).",
    "assets_period_end": "Balance-sheet date of assets.",
    "liabilities": "Latest total liabilities (point in time).",
    "liabilities_period_end": "Balance-sheet date of liabilities.",
    "equity": "Latest stockholders' equity (StockholdersEquity, else including non-controlling interest).",
    "equity_concept": "Tag the equity figure was reported under.",
    "equity_period_end": "Balance-sheet date of equity.",
    "currency": "Unit of the figures, or MIXED when they differ.",
    "figures_period_end": "Latest period end among the figures.",
}


@dataclass(frozen=True)
class Doc:
    """What a table or view holds; ``inherits`` names a relation whose column descriptions apply too."""

    description: str
    columns: dict[str, str] = field(default_factory=dict)
    inherits: tuple[str, ...] = ()


RELATIONS: dict[str, Doc] = {
    # -- golden records ------------------------------------------------------------------------------
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
    # -- standardised source data --------------------------------------------------------------------
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
    # -- matching --------------------------------------------------------------------------------------
    "match_pair": Doc(
        "Scored candidate pairs of the last run: features, score, band and each feature's weight.",
        {
            "rid_a": "Record id of the first record.",
            "rid_b": "Record id of the second record.",
            "rule": "score (Fellegi-Sunter model) or id:<scheme> (deterministic identifier match).",
            "score": "Match probability.",
            "band": "match, review or non-match (thresholds of the config's matching section).",
            "name": "Name similarity (0-1).",
            "name_tokens": "IDF-weighted name token overlap (0-1).",
            "name_distinct": "Evidence from words only one name has (0-1): 1 none, 0.5-1 words on one side only, "
            "near 0 a rare word each (Baltic Amber / Baltic Granite), 0 different numbers (Fund 1 / 2).",
            "qualifiers": "Agreement of name qualifiers (0-1).",
            "country": "Same country: 1, different: 0.",
            "city": "City similarity (0-1).",
            "postal": "Postal code similarity (0-1).",
            "address": "Address similarity (0-1).",
            "branch": "Branch-marker agreement (0-1).",
            "label": "Training label: 1 match, 0 non-match (from identifiers or steward decisions), -1 none.",
            "contributions": "JSON: each feature's level and weight in the model.",
        },
    ),
    "match_token_frequency": Doc(
        "Name tokens and the number of standardised records holding each (document "
        "frequency): the inverse-frequency weights of the name_tokens feature. An "
        "incremental run updates it from the records that changed.",
        {
            "token": "A name token (a word, or a character bigram of a Chinese name).",
            "records": "Records whose names hold the token.",
        },
    ),
    "match_model": Doc(
        "The Fellegi-Sunter model of the last run: m and u per feature level.",
        {
            "feature": "Comparison feature (_prior for the prior match probability).",
            "level": "Agreement level of the feature.",
            "lower_bound": "Smallest similarity of the level.",
            "m": "P(level | match).",
            "u": "P(level | non-match).",
            "weight": "log2(m/u): evidence the level adds.",
        },
    ),
    # -- runs and quality ------------------------------------------------------------------------------
    "run_log": Doc(
        "One row per stage of every published run.",
        {
            "stage": "extract, validate, standardise, match, cluster, survive, publish.",
            "started_at": "Stage start (UTC).",
            "finished_at": "Stage end (UTC).",
            "rows_in": "Rows the stage read.",
            "rows_out": "Rows the stage produced.",
            "status": "success (failed runs are not published).",
            "detail": "JSON with stage-specific counts.",
        },
    ),
    "run_state": Doc(
        "Values a run leaves for the next one (e.g. the matching fingerprint of incremental runs).",
        {"key": "Name of the value.", "value": "The value (text or JSON)."},
    ),
    "run_changed": Doc("Record ids that were new or changed in the last run (incremental matching).", {}),
    "load_issue": Doc(
        "Warnings and rejected rows of every load, naming file, line and key.",
        {
            "file": "File of the problem.",
            "line": "Line of the problem.",
            "key": "Natural key of the affected row.",
            "code": "Kind of problem (nul_byte, bad_date, duplicate_key, ...).",
            "message": "What was wrong and what was done.",
        },
    ),
    "quarantine": Doc(
        "Rows kept out by a row-level expectation.",
        {
            "file": "File of the row.",
            "line": "Line of the row.",
            "rule": "Expectation that failed.",
            "column": "Column checked.",
            "value": "Offending value.",
        },
    ),
    "quality_metrics": Doc(
        "Per run, source and attribute: completeness, validity, uniqueness.",
        {
            "attribute": "Canonical attribute.",
            "completeness": "Share of rows with a value.",
            "validity": "Share of values that are valid (identifiers, countries, dates).",
            "uniqueness": "Share of values that are distinct.",
            "rows": "Rows measured.",
        },
    ),
    "identifier_quality": Doc(
        "Per run, source and identifier attribute: how many values fell in each class.",
        {
            "attribute": "Identifier attribute (lei, uscc, registration_number, ...).",
            "class": "Class of the value (valid, invalid_checksum, legacy, missing, ...).",
            "rows": "Rows in the class.",
        },
    ),
    "source_load": Doc(
        "Per run, source and canonical table: rows loaded and the columns filled.",
        {
            "format": "Adapter of the source.",
            "table": "Canonical table (organization, relationship, financial_fact, account, balance).",
            "rows": "Rows loaded.",
            "populated": "Canonical columns with at least one value.",
            "fingerprint": "Fingerprint of the source's input: format, encoding and adapter code, plus a file's bytes or "
            "a database's URL, queries and change columns. An incremental run does not parse again a file "
            "whose fingerprint is unchanged, and reads only the changed rows of such a database.",
            "watermarks": "Database sources with change columns: per query, the latest update time read (JSON); the "
            "next incremental run reads the rows updated at or after it.",
        },
    ),
    "validation_result": Doc(
        "Great Expectations suite results per run and batch.",
        {
            "suite": "Expectation suite.",
            "batch": "What was validated (a source's landing, organisation records, golden records).",
            "success": "Whether every expectation passed.",
            "evaluated": "Expectations evaluated.",
            "failed_rows": "Rows that failed.",
            "detail": "JSON with the failed expectations and observed values.",
        },
    ),
    # -- analyst views ---------------------------------------------------------------------------------
    "v_golden_organization": Doc(
        "The golden record with its latest headline financial figures (see v_golden_financials_latest).",
        {
            "revenue": FIGURES["revenue"],
            "revenue_qtrs": FIGURES["revenue_qtrs"],
            "net_income": FIGURES["net_income"],
            "net_income_qtrs": FIGURES["net_income_qtrs"],
            "assets": FIGURES["assets"],
            "liabilities": FIGURES["liabilities"],
            "equity": FIGURES["equity"],
            "figures_currency": FIGURES["currency"],
            "figures_period_end": FIGURES["figures_period_end"],
        },
        inherits=("golden_organization",),
    ),
    "v_xref": Doc(
        "The cross-reference with the golden record's name.",
        {"legal_name": "Legal name of the golden record."},
        inherits=("xref",),
    ),
    "v_financial_latest": Doc(
        "The latest fact per golden record and tag: annual (qtrs = 4) for flows, point in "
        "time (qtrs = 0) for balances, then the latest period, 10-K before 10-Q.",
        inherits=("golden_financial_fact",),
    ),
    "v_golden_financials_latest": Doc(
        "One row per golden record with financial facts: the latest figure of each "
        "headline measure over all the tags that report it.",
        FIGURES,
    ),
    "v_hierarchy": Doc(
        "golden_hierarchy with the names of both ends.",
        {
            "child_name": "Legal name of the child golden record.",
            "child_lei": "LEI of the child.",
            "parent_name": "Legal name of the parent golden record (NULL when not loaded).",
            "parent_lei": "LEI of the parent.",
            "child_golden_id": "Golden record of the child.",
            "parent_golden_id": "Golden record of the parent (NULL when not loaded).",
        },
        inherits=("golden_hierarchy",),
    ),
    "v_organization_group": Doc(
        "The group of every golden record, from ACTIVE consolidation relationships.",
        {
            "direct_parent_golden_id": "Parent by IS_DIRECTLY_CONSOLIDATED_BY (NULL when none or not loaded).",
            "ultimate_parent_golden_id": "Parent by IS_ULTIMATELY_CONSOLIDATED_BY when loaded, else the top of the "
            "chain of loaded direct parents; NULL for a group's top.",
            "group_id": "Golden id of the group's top: the ultimate parent, or the record itself.",
            "depth": "Direct-parent steps up to the ultimate parent (0 for the top or a standalone record).",
            "direct_parent_lei": "LEI of the direct parent as reported (also when not loaded).",
            "ultimate_parent_lei": "LEI of the ultimate parent as reported (also when not loaded).",
        },
    ),
}

# The marts describe themselves in their SQL headers (sql/marts/<name>.sql: -- description:, -- column x:).
RELATIONS.update({d.name: Doc(d.description, d.columns) for d in mart_docs().values()})

MACROS: dict[str, str] = {
    "golden_organization_as_of": "golden_organization_as_of(ts): the version of every golden record valid at ts "
    "(UTC): `SELECT * FROM golden_organization_as_of(TIMESTAMP '2025-01-31 00:00:00')`. "
    "Columns as golden_organization_history.",
}
