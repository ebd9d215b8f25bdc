"""What the runs leave besides the records: the matching (pairs, token frequencies, model), the run log and
the data-quality tables."""

from __future__ import annotations

from pipelines.descriptions.shared import Doc

MATCHING: dict[str, Doc] = {
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
}

RUNS: dict[str, Doc] = {
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
}
