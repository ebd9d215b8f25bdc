"""Survivorship (mdm.survivorship): which record's value becomes the golden value, and the lineage that says so."""

from __future__ import annotations

import pandas as pd
import pytest

from mdm.schema import ORGANIZATION
from mdm.standardise import standardise_records
from mdm.survivorship import ATTRIBUTES, survive

LEI = "001GPB6A9XPE8XJICC14"

# Registers rank before the CRM (lower rank wins).
PRIORITY = {"gleif": 1, "ch": 2, "crm": 9, "crm2": 9}
FORMATS = {"gleif": "gleif_lei_xml", "ch": "companies_house_csv", "crm": "sql", "crm2": "sql"}


def records(*rows: dict) -> pd.DataFrame:
    """Standardised records with their golden_id (default 'G1'); source_format follows the source."""
    full = [{c: None for c in ORGANIZATION} | {"golden_id": "G1", "source_format": FORMATS[r["source"]]} | r
            for r in rows]
    return standardise_records(pd.DataFrame(full, dtype=object))


def golden_row(golden: pd.DataFrame, gid: str = "G1") -> dict:
    return golden.set_index("golden_id").loc[gid].to_dict()


def lineage_of(lineage: pd.DataFrame, attribute: str, gid: str = "G1") -> dict:
    rows = lineage[(lineage["golden_id"] == gid) & (lineage["attribute"] == attribute)]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


ACME = [
    {"source": "crm", "source_id": "C1", "name": "Acme Hldgs", "relationship_manager": "Jane Doe",
     "phone": "+44 20 0000 0001", "status": "active", "opened_on": "2015-03-01", "city": "London",
     "updated_at": "2024-06-01"},
    {"source": "gleif", "source_id": LEI, "name": "ACME HOLDINGS PLC", "lei": LEI, "country": "GB",
     "legal_form_code": "B6ES", "updated_at": "2023-01-01"},
    {"source": "ch", "source_id": "8209948", "name": "Acme Holdings plc", "relationship_manager": "REGISTER RM",
     "phone": "+44 20 9999 9999", "city": "LONDON", "postal_code": "SW1A 1AA", "updated_at": "2024-12-31"},
]


def test_source_priority_wins_for_identity_attributes() -> None:
    golden, lineage = survive(records(*ACME), PRIORITY)
    row = golden_row(golden)
    assert row["legal_name"] == "ACME HOLDINGS PLC"  # gleif (rank 1) beats the fresher CH and CRM records
    assert row["lei"] == LEI
    assert row["gb_company_number"] == "08209948"
    assert row["city"] == "LONDON"  # ch (rank 2) beats crm; gleif has none
    assert row["country"] == "GB"
    assert lineage_of(lineage, "legal_name") == {
        "golden_id": "G1", "attribute": "legal_name", "value": "ACME HOLDINGS PLC",
        "source": "gleif", "source_id": LEI, "rule": "source_priority"}
    assert lineage_of(lineage, "city")["source"] == "ch"


def test_crm_wins_relationship_attributes_even_against_better_ranked_registers() -> None:
    golden, lineage = survive(records(*ACME), PRIORITY)
    row = golden_row(golden)
    assert row["relationship_manager"] == "Jane Doe"
    assert row["phone"] == "+44 20 0000 0001"
    assert row["customer_status"] == "active"
    assert row["customer_since"] == "2015-03-01"
    assert lineage_of(lineage, "relationship_manager") == {
        "golden_id": "G1", "attribute": "relationship_manager", "value": "Jane Doe",
        "source": "crm", "source_id": "C1", "rule": "internal_first"}


def test_relationship_attribute_falls_back_to_a_register_when_the_crm_has_none() -> None:
    rows = [ACME[0] | {"relationship_manager": None, "phone": ""}, ACME[1], ACME[2]]
    golden, lineage = survive(records(*rows), PRIORITY)
    row = golden_row(golden)
    assert row["relationship_manager"] == "REGISTER RM"
    assert row["phone"] == "+44 20 9999 9999"
    assert lineage_of(lineage, "relationship_manager")["source"] == "ch"


def test_nulls_and_empty_strings_never_win() -> None:
    rows = [
        {"source": "gleif", "source_id": LEI, "name": "Acme", "name_en": None, "address": "",
         "updated_at": "2024-01-01"},
        {"source": "crm", "source_id": "C1", "name": "Acme Ltd", "name_en": "Acme (English)", "address": "1 High St",
         "updated_at": "2020-01-01"},
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    row = golden_row(golden)
    assert row["legal_name"] == "Acme"
    assert row["name_en"] == "Acme (English)"
    assert row["address"] == "1 High St"
    assert lineage_of(lineage, "address")["source"] == "crm"
    # An attribute nobody has stays empty and has no lineage row.
    assert pd.isna(row["incorporated_on"])
    assert lineage[lineage["attribute"] == "incorporated_on"].empty


def test_ties_go_to_the_most_recent_update_then_the_smallest_rid() -> None:
    rows = [
        {"source": "crm", "source_id": "C1", "name": "Old Name Ltd", "city": "Leeds", "updated_at": "2023-05-01"},
        {"source": "crm2", "source_id": "C2", "name": "New Name Ltd", "city": "York", "updated_at": "2024-05-01"},
        {"source": "crm", "source_id": "C3", "name": "No Date Ltd", "region": "North", "updated_at": None},
        {"source": "crm2", "source_id": "C4", "name": "No Date Either Ltd", "region": "South", "updated_at": None},
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    row = golden_row(golden)
    assert row["legal_name"] == "New Name Ltd"
    assert row["city"] == "York"
    assert lineage_of(lineage, "legal_name")["source_id"] == "C2"
    # Neither has a date: the smaller rid wins ("crm2:C4" < "crm:C3", as '2' sorts before ':').
    assert row["region"] == "South"
    # A record with a date beats one without.
    rows[1] = rows[1] | {"region": "East"}
    golden, _ = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["region"] == "East"


def test_ties_among_internal_records_use_the_most_recent_update() -> None:
    rows = [
        {"source": "crm", "source_id": "C1", "name": "A", "relationship_manager": "Old RM", "updated_at": "2022-01-01"},
        {"source": "crm2", "source_id": "C2", "name": "A", "relationship_manager": "New RM",
         "updated_at": "2024-01-01T09:00:00"},
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["relationship_manager"] == "New RM"
    assert lineage_of(lineage, "relationship_manager")["source"] == "crm2"


def test_a_source_without_priority_ranks_last() -> None:
    rows = [
        {"source": "crm", "source_id": "C1", "name": "Ranked Ltd", "updated_at": "2020-01-01"},
        {"source": "crm2", "source_id": "C2", "name": "Unranked Ltd", "updated_at": "2024-01-01"},
    ]
    golden, _ = survive(records(*rows), {"crm": 9})
    assert golden_row(golden)["legal_name"] == "Ranked Ltd"


def test_one_golden_row_per_cluster_with_counts_and_lineage_per_attribute() -> None:
    rows = [*ACME, {"source": "crm", "source_id": "C9", "name": "Zeta Ltd", "golden_id": "G2"}]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden["golden_id"].tolist() == ["G1", "G2"]
    assert list(golden.columns) == ["golden_id", *ATTRIBUTES, "record_count", "source_count", "sources"]
    g1, g2 = golden_row(golden, "G1"), golden_row(golden, "G2")
    assert (g1["record_count"], g1["source_count"], g1["sources"]) == (3, 3, "ch,crm,gleif")
    assert (g2["record_count"], g2["source_count"], g2["sources"]) == (1, 1, "crm")
    assert g2["legal_name"] == "Zeta Ltd"
    assert list(lineage.columns) == ["golden_id", "attribute", "value", "source", "source_id", "rule"]
    # Exactly one lineage row per golden attribute that has a value, and its value is the golden value.
    assert not lineage.duplicated(["golden_id", "attribute"]).any()
    for gid in ("G1", "G2"):
        row = golden_row(golden, gid)
        valued = {a for a in ATTRIBUTES if pd.notna(row[a])}
        got = lineage[lineage["golden_id"] == gid]
        assert set(got["attribute"]) == valued
        for attr, value in zip(got["attribute"], got["value"]):
            assert value == str(row[attr])
    assert set(lineage["rule"]) == {"source_priority", "internal_first"}


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_survivorship_does_not_depend_on_row_order(order: list[int]) -> None:
    golden, lineage = survive(records(*ACME), PRIORITY)
    g2, l2 = survive(records(*[ACME[i] for i in order]), PRIORITY)
    pd.testing.assert_frame_equal(golden, g2)
    pd.testing.assert_frame_equal(lineage, l2)
