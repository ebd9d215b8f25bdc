"""Survivorship: one golden value per attribute per cluster, with lineage.

Rule (this release): the record of the highest-priority source that has a value wins; ties go to the
most recent source update, then to the smallest rid. Registers beat internal systems for identity
attributes; internal systems (format ``sql``) win for relationship attributes.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

# golden attribute -> standardised record column
ATTRIBUTES: dict[str, str] = {
    "legal_name": "name",
    "legal_name_lang": "name_lang",
    "name_en": "name_en",
    "lei": "id_LEI",
    "uscc": "id_USCC",
    "cn_registration_number": "id_CN_REG",
    "gb_company_number": "id_GB_COH",
    "cik": "id_CIK",
    "ein": "ein",
    "registration_authority": "registration_authority",
    "registration_number": "registration_number",
    "legal_form": "legal_form",
    "legal_form_code": "legal_form_code",
    "category": "category",
    "entity_status": "entity_status",
    "country": "country_iso",
    "region": "region",
    "city": "city",
    "address": "address",
    "postal_code": "postal_code",
    "hq_country": "hq_country",
    "hq_city": "hq_city",
    "hq_address": "hq_address",
    "hq_postal_code": "hq_postal_code",
    "jurisdiction": "jurisdiction",
    "incorporated_on": "incorporated_on",
    "industry_code": "industry_code",
    "phone": "phone",
    "branch": "branch",
    "relationship_manager": "relationship_manager",
    "customer_status": "status",
    "customer_since": "opened_on",
}
# Attributes the bank's own systems know best.
INTERNAL_FIRST = frozenset({"phone", "branch", "relationship_manager", "customer_status", "customer_since"})
INTERNAL_FORMATS = frozenset({"sql"})


def survive(records: pd.DataFrame, priority: Mapping[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """records: standardised records with golden_id. priority: source name -> rank (lower wins).

    Returns (golden frame one row per golden_id, lineage: golden_id, attribute, value, source, source_id, rule).
    """
    r = records.copy()
    r["_prio"] = r["source"].map(priority).astype(float)
    r["_internal"] = r["source_format"].isin(INTERNAL_FORMATS)
    r["_upd"] = r["updated_at"].fillna("")
    golden = (
        r.groupby("golden_id")
        .agg(record_count=("rid", "size"), source_count=("source", "nunique"),
             sources=("source", lambda s: ",".join(sorted(set(s)))))
        .reset_index()
    )
    lineage_parts = []
    for attr, col in ATTRIBUTES.items():
        cand = r.loc[r[col].notna() & (r[col].astype(str).str.len() > 0),
                     ["golden_id", col, "source", "source_id", "rid", "_prio", "_internal", "_upd"]]
        if attr in INTERNAL_FIRST:
            cand = cand.assign(_k=~cand["_internal"])
            order, asc, rule = ["golden_id", "_k", "_prio", "_upd", "rid"], [True, True, True, False, True], "internal_first"
        else:
            order, asc, rule = ["golden_id", "_prio", "_upd", "rid"], [True, True, False, True], "source_priority"
        win = cand.sort_values(order, ascending=asc).drop_duplicates("golden_id", keep="first")
        golden = golden.merge(win[["golden_id", col]].rename(columns={col: attr}), on="golden_id", how="left")
        lineage_parts.append(pd.DataFrame({
            "golden_id": win["golden_id"].values, "attribute": attr, "value": win[col].astype(str).values,
            "source": win["source"].values, "source_id": win["source_id"].values, "rule": rule,
        }))
    lineage = pd.concat(lineage_parts, ignore_index=True).sort_values(["golden_id", "attribute"]).reset_index(drop=True)
    cols = ["golden_id", *ATTRIBUTES, "record_count", "source_count", "sources"]
    return golden[cols].sort_values("golden_id").reset_index(drop=True), lineage
