"""Survivorship (mdm.survivorship): which record's value becomes the golden value, and the lineage that says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mdm.schema import ORGANIZATION
from mdm.standardise import standardise_records
from mdm.survivorship import (
    ATTRIBUTES,
    DEFAULT_SPEC,
    LINEAGE_COLUMNS,
    AttributeRule,
    SurvivorshipSpec,
    spec_from_config,
    survive,
)

LEI = "001GPB6A9XPE8XJICC14"

# Registers rank before the CRM (lower rank wins).
PRIORITY = {"gleif": 1, "ch": 2, "crm": 9, "crm2": 9}
FORMATS = {"gleif": "gleif_lei_xml", "ch": "companies_house_csv", "crm": "sql", "crm2": "sql"}


def records(*rows: dict) -> pd.DataFrame:
    """Standardised records with their golden_id (default 'G1'); source_format follows the source."""
    full = [
        {c: None for c in ORGANIZATION} | {"golden_id": "G1", "source_format": FORMATS[r["source"]]} | r for r in rows
    ]
    return standardise_records(pd.DataFrame(full, dtype=object))


def golden_row(golden: pd.DataFrame, gid: str = "G1") -> dict:
    return golden.set_index("golden_id").loc[gid].to_dict()


def lineage_of(lineage: pd.DataFrame, attribute: str, gid: str = "G1") -> dict:
    rows = lineage[(lineage["golden_id"] == gid) & (lineage["attribute"] == attribute)]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def has(row: dict, **expected: object) -> bool:
    """Whether a lineage row has these values (other columns are not compared)."""
    return {k: row[k] for k in expected} == expected


def only(attribute: str, rule: AttributeRule) -> SurvivorshipSpec:
    """The default spec with one attribute's rule replaced."""
    return SurvivorshipSpec(DEFAULT_SPEC.default, {**DEFAULT_SPEC.attributes, attribute: rule})


ACME = [
    {
        "source": "crm",
        "source_id": "C1",
        "name": "Acme Hldgs",
        "relationship_manager": "Jane Doe",
        "phone": "+44 20 0000 0001",
        "status": "active",
        "opened_on": "2015-03-01",
        "city": "London",
        "updated_at": "2024-06-01",
    },
    {
        "source": "gleif",
        "source_id": LEI,
        "name": "ACME HOLDINGS PLC",
        "lei": LEI,
        "country": "GB",
        "legal_form_code": "B6ES",
        "updated_at": "2023-01-01",
    },
    {
        "source": "ch",
        "source_id": "8209948",
        "name": "Acme Holdings plc",
        "relationship_manager": "REGISTER RM",
        "phone": "+44 20 9999 9999",
        "city": "LONDON",
        "postal_code": "SW1A 1AA",
        "updated_at": "2024-12-31",
    },
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
        "golden_id": "G1",
        "attribute": "legal_name",
        "value": "ACME HOLDINGS PLC",
        "source": "gleif",
        "source_id": LEI,
        "rid": f"gleif:{LEI}",
        "rule": "source_priority",
        "candidates": 3,
    }
    assert lineage_of(lineage, "city") == {
        "golden_id": "G1",
        "attribute": "city",
        "value": "LONDON",
        "source": "ch",
        "source_id": "8209948",
        "rid": "ch:8209948",
        "rule": "source_priority",
        "candidates": 2,
    }


def test_crm_wins_relationship_attributes_even_against_better_ranked_registers() -> None:
    golden, lineage = survive(records(*ACME), PRIORITY)
    row = golden_row(golden)
    assert row["relationship_manager"] == "Jane Doe"
    assert row["phone"] == "+44 20 0000 0001"
    assert row["customer_status"] == "active"
    assert row["customer_since"] == "2015-03-01"
    assert lineage_of(lineage, "relationship_manager") == {
        "golden_id": "G1",
        "attribute": "relationship_manager",
        "value": "Jane Doe",
        "source": "crm",
        "source_id": "C1",
        "rid": "crm:C1",
        "rule": "source_priority",
        "candidates": 2,
    }


def test_without_prefer_formats_the_register_wins_relationship_attributes() -> None:
    spec = only("relationship_manager", AttributeRule(("source_priority", "most_recent")))
    golden, lineage = survive(records(*ACME), PRIORITY, spec)
    assert golden_row(golden)["relationship_manager"] == "REGISTER RM"
    assert golden_row(golden)["phone"] == "+44 20 0000 0001"  # other attributes keep their rule
    assert lineage_of(lineage, "relationship_manager")["source"] == "ch"


def test_relationship_attribute_falls_back_to_a_register_when_the_crm_has_none() -> None:
    rows = [ACME[0] | {"relationship_manager": None, "phone": ""}, ACME[1], ACME[2]]
    golden, lineage = survive(records(*rows), PRIORITY)
    row = golden_row(golden)
    assert row["relationship_manager"] == "REGISTER RM"
    assert row["phone"] == "+44 20 9999 9999"
    assert lineage_of(lineage, "relationship_manager")["source"] == "ch"
    assert lineage_of(lineage, "relationship_manager")["candidates"] == 1


def test_nulls_and_blank_strings_never_win() -> None:
    rows = [
        {
            "source": "gleif",
            "source_id": LEI,
            "name": "Acme",
            "name_en": None,
            "address": "",
            "region": "   ",
            "industry_code": " ",
            "updated_at": "2024-01-01",
        },
        {
            "source": "crm",
            "source_id": "C1",
            "name": "Acme Ltd",
            "name_en": "Acme (English)",
            "address": "1 High St",
            "region": "Kent",
            "industry_code": "6419",
            "updated_at": "2020-01-01",
        },
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    row = golden_row(golden)
    assert row["legal_name"] == "Acme"
    assert row["name_en"] == "Acme (English)"
    assert row["address"] == "1 High St"
    assert row["region"] == "Kent"
    assert row["industry_code"] == "6419"  # a blank is not a vote for most_frequent either
    assert lineage_of(lineage, "address")["source"] == "crm"
    assert lineage_of(lineage, "region")["candidates"] == 1
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
    assert has(lineage_of(lineage, "legal_name"), source_id="C2", rule="most_recent", candidates=4)
    # Neither has a date: the smaller rid wins ("crm2:C4" < "crm:C3", as '2' sorts before ':').
    assert row["region"] == "South"
    assert lineage_of(lineage, "region")["rule"] == "tie_break"
    # A record with a date beats one without.
    rows[1] = rows[1] | {"region": "East"}
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["region"] == "East"
    assert lineage_of(lineage, "region")["rule"] == "most_recent"


def test_ties_among_internal_records_use_the_most_recent_update() -> None:
    rows = [
        {"source": "crm", "source_id": "C1", "name": "A", "relationship_manager": "Old RM", "updated_at": "2022-01-01"},
        {
            "source": "crm2",
            "source_id": "C2",
            "name": "A",
            "relationship_manager": "New RM",
            "updated_at": "2024-01-01T09:00:00",
        },
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["relationship_manager"] == "New RM"
    assert lineage_of(lineage, "relationship_manager")["source"] == "crm2"
    assert lineage_of(lineage, "relationship_manager")["rule"] == "most_recent"


def test_the_deciding_rule_is_the_one_after_which_the_value_no_longer_depends_on_the_rest() -> None:
    # Two CRM records agree (up to case and blanks) on the name: source priority decided the value; the more
    # recent record is the one the lineage points at.
    rows = [
        {"source": "crm", "source_id": "C1", "name": "acme ltd ", "updated_at": "2022-01-01"},
        {"source": "crm2", "source_id": "C2", "name": "ACME LTD", "updated_at": "2024-01-01"},
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["legal_name"] == "ACME LTD"
    assert has(lineage_of(lineage, "legal_name"), source_id="C2", rule="source_priority", candidates=2)


def test_most_recent_compares_instants_and_treats_unreadable_dates_as_missing() -> None:
    # entity_status: most recent first, then source priority.
    rows = [
        {
            "source": "gleif",
            "source_id": LEI,
            "name": "A",
            "entity_status": "ACTIVE",
            "updated_at": "2024-03-01T10:00:00+00:00",
        },
        {
            "source": "ch",
            "source_id": "1",
            "name": "A",
            "entity_status": "Dissolved",
            "updated_at": "2024-03-01T11:30:00+02:00",
        },  # 09:30 UTC: older than gleif's 10:00 UTC
        {"source": "crm", "source_id": "C1", "name": "A", "entity_status": "closed", "updated_at": "not a date"},
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["entity_status"] == "ACTIVE"
    assert lineage_of(lineage, "entity_status")["rule"] == "most_recent"
    # The same status everywhere without dates: most_recent cannot decide, source priority does.
    rows = [r | {"updated_at": None} for r in rows]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert has(lineage_of(lineage, "entity_status"), value="ACTIVE", source="gleif", rule="source_priority")
    # A fresher CRM record wins the status over the better-ranked register.
    rows[2] = rows[2] | {"updated_at": "2025-01-01"}
    golden, _ = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["entity_status"] == "closed"


def test_most_complete_prefers_the_record_with_most_attributes_then_falls_through() -> None:
    spec = only("address", AttributeRule(("most_complete", "source_priority")))
    rows = [
        {"source": "gleif", "source_id": LEI, "name": "A", "address": "1 Short St", "updated_at": "2024-01-01"},
        {
            "source": "crm",
            "source_id": "C1",
            "name": "A",
            "address": "1 Full Street",
            "city": "Leeds",
            "postal_code": "LS1 1AA",
            "phone": "1",
            "updated_at": "2020-01-01",
        },
    ]
    golden, lineage = survive(records(*rows), PRIORITY, spec)
    assert golden_row(golden)["address"] == "1 Full Street"
    assert lineage_of(lineage, "address")["rule"] == "most_complete"
    assert golden_row(golden)["legal_name"] == "A"  # the other attributes still follow the default spec
    # Equally complete records: most_complete ties and source priority decides.
    rows[0] = rows[0] | {"city": "Leeds", "postal_code": "LS1 1AA", "phone": "1"}
    golden, lineage = survive(records(*rows), PRIORITY, spec)
    assert golden_row(golden)["address"] == "1 Short St"
    assert lineage_of(lineage, "address")["rule"] == "source_priority"


def test_most_frequent_counts_normalised_values_and_ties_fall_through() -> None:
    # industry_code: most frequent, then source priority.
    rows = [
        {"source": "gleif", "source_id": LEI, "name": "A", "industry_code": "K64.19", "updated_at": "2024-01-01"},
        {"source": "ch", "source_id": "1", "name": "A", "industry_code": "k64.20 ", "updated_at": "2024-01-01"},
        {"source": "crm", "source_id": "C1", "name": "A", "industry_code": "K64.20", "updated_at": "2024-01-01"},
    ]
    golden, lineage = survive(records(*rows), PRIORITY)
    # Two records agree on K64.20; of those, ch (rank 2) supplies the spelling.
    assert golden_row(golden)["industry_code"] == "k64.20 "
    assert has(lineage_of(lineage, "industry_code"), source="ch", rule="most_frequent", candidates=3)
    # One vote each: a tie, so source priority decides.
    rows[2] = rows[2] | {"industry_code": "K70.10"}
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden_row(golden)["industry_code"] == "K64.19"
    assert lineage_of(lineage, "industry_code")["rule"] == "source_priority"


def test_a_per_attribute_priority_overrides_the_run_ranks_for_that_attribute_only() -> None:
    # For the city, gleif drops to rank 5 and the CRM rises to 0; ch keeps its run rank 2.
    spec = only("city", AttributeRule(("source_priority",), priority={"gleif": 5, "crm": 0}))
    rows = [
        {"source": "gleif", "source_id": LEI, "name": "Reg Name", "city": "GLEIF CITY", "updated_at": "2024-01-01"},
        {"source": "ch", "source_id": "1", "name": "Ch Name", "city": "CH CITY", "updated_at": "2024-01-01"},
        {"source": "crm", "source_id": "C1", "name": "Crm Name", "city": "Crm City", "updated_at": "2024-01-01"},
    ]
    golden, _ = survive(records(*rows), PRIORITY, spec)
    assert golden_row(golden)["city"] == "Crm City"
    assert golden_row(golden)["legal_name"] == "Reg Name"
    golden, _ = survive(records(*rows[:2]), PRIORITY, spec)
    assert golden_row(golden)["city"] == "CH CITY"


def test_a_source_without_priority_ranks_last() -> None:
    rows = [
        {"source": "crm", "source_id": "C1", "name": "Ranked Ltd", "updated_at": "2020-01-01"},
        {"source": "crm2", "source_id": "C2", "name": "Unranked Ltd", "updated_at": "2024-01-01"},
    ]
    golden, _ = survive(records(*rows), {"crm": 9})
    assert golden_row(golden)["legal_name"] == "Ranked Ltd"


def test_steward_overrides_beat_every_rule_and_show_in_the_lineage() -> None:
    rows = [*ACME, {"source": "crm", "source_id": "C9", "name": "Zeta Ltd", "golden_id": "G2"}]
    overrides = pd.DataFrame(
        [
            {
                "golden_id": "G1",
                "attribute": "legal_name",
                "value": "Acme Holdings PLC (old)",
                "steward": "bob",
                "decided_at": "2024-01-01T00:00:00",
            },
            {
                "golden_id": "G1",
                "attribute": "legal_name",
                "value": "Acme Holdings PLC",
                "steward": "alice",
                "decided_at": "2025-01-01T00:00:00",
            },  # the later decision counts
            {
                "golden_id": "G2",
                "attribute": "incorporated_on",
                "value": "1999-12-31",
                "steward": "carol",
                "decided_at": "2025-01-01",
            },  # an attribute no record has
            {
                "golden_id": "G-RETIRED",
                "attribute": "legal_name",
                "value": "Gone",
                "steward": "dan",
                "decided_at": "2025-01-01",
            },
        ]
    )
    golden, lineage = survive(records(*rows), PRIORITY, overrides=overrides)
    assert golden_row(golden)["legal_name"] == "Acme Holdings PLC"
    assert golden_row(golden, "G2")["incorporated_on"] == "1999-12-31"
    assert golden_row(golden)["lei"] == LEI  # attributes without an override keep their rule
    assert lineage_of(lineage, "legal_name") == {
        "golden_id": "G1",
        "attribute": "legal_name",
        "value": "Acme Holdings PLC",
        "source": "alice",
        "source_id": None,
        "rid": None,
        "rule": "steward_override",
        "candidates": 3,
    }
    assert has(lineage_of(lineage, "incorporated_on", "G2"), source="carol", rule="steward_override", candidates=0)
    assert not lineage.duplicated(["golden_id", "attribute"]).any()
    assert "G-RETIRED" not in set(golden["golden_id"]) | set(lineage["golden_id"])
    assert lineage[["golden_id", "attribute"]].equals(
        lineage[["golden_id", "attribute"]].sort_values(["golden_id", "attribute"])
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"attribute": "nickname"}, "nickname"),
        ({"value": None}, "has no value"),
        ({"value": "  "}, "has no value"),
    ],
)
def test_bad_overrides_are_refused(row: dict, message: str) -> None:
    base = {"golden_id": "G1", "attribute": "legal_name", "value": "X", "steward": "bob", "decided_at": "2025-01-01"}
    with pytest.raises(ValueError, match=message):
        survive(records(*ACME), PRIORITY, overrides=pd.DataFrame([base | row]))


def test_one_golden_row_per_cluster_with_counts_and_lineage_per_attribute() -> None:
    rows = [*ACME, {"source": "crm", "source_id": "C9", "name": "Zeta Ltd", "golden_id": "G2"}]
    golden, lineage = survive(records(*rows), PRIORITY)
    assert golden["golden_id"].tolist() == ["G1", "G2"]
    assert list(golden.columns) == ["golden_id", *ATTRIBUTES, "record_count", "source_count", "sources"]
    g1, g2 = golden_row(golden, "G1"), golden_row(golden, "G2")
    assert (g1["record_count"], g1["source_count"], g1["sources"]) == (3, 3, "ch,crm,gleif")
    assert (g2["record_count"], g2["source_count"], g2["sources"]) == (1, 1, "crm")
    assert g2["legal_name"] == "Zeta Ltd"
    assert (
        list(lineage.columns)
        == list(LINEAGE_COLUMNS)
        == ["golden_id", "attribute", "value", "source", "source_id", "rid", "rule", "candidates"]
    )
    # Exactly one lineage row per golden attribute that has a value, and its value is the golden value.
    assert not lineage.duplicated(["golden_id", "attribute"]).any()
    for gid in ("G1", "G2"):
        row = golden_row(golden, gid)
        valued = {a for a in ATTRIBUTES if pd.notna(row[a])}
        got = lineage[lineage["golden_id"] == gid]
        assert set(got["attribute"]) == valued
        for attr, value in zip(got["attribute"], got["value"]):
            assert value == str(row[attr])
    assert lineage_of(lineage, "legal_name", "G2")["candidates"] == 1


def shuffled_clusters() -> pd.DataFrame:
    """Forty clusters of records that tie on rank and date in many ways, with repeated values."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(120):
        src = ["gleif", "ch", "crm", "crm2"][i % 4]
        rows.append(
            {
                "source": src,
                "source_id": f"S{i}",
                "golden_id": f"G{rng.integers(0, 40)}",
                "name": ["Acme", "ACME ", "Beta", None][rng.integers(0, 4)],
                "industry_code": ["64.19", "64.20", None][rng.integers(0, 3)],
                "entity_status": ["ACTIVE", "INACTIVE"][rng.integers(0, 2)],
                "relationship_manager": ["Ann", "Bo", ""][rng.integers(0, 3)],
                "updated_at": [None, "2024-01-01", "2023-01-01"][rng.integers(0, 3)],
            }
        )
    return records(*rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_survivorship_does_not_depend_on_row_order(seed: int) -> None:
    recs = shuffled_clusters()
    spec = only("address", AttributeRule(("most_complete", "most_frequent")))
    golden, lineage = survive(recs, PRIORITY, spec)
    g2, l2 = survive(recs.sample(frac=1, random_state=seed).reset_index(drop=True), PRIORITY, spec)
    pd.testing.assert_frame_equal(golden, g2)
    pd.testing.assert_frame_equal(lineage, l2)
    assert {"source_priority", "most_recent", "most_frequent"} <= set(lineage["rule"])


CONFIG = {
    "default": ["source_priority", "most_recent"],
    "attributes": {
        "legal_name": {"rules": ["source_priority", "most_recent"]},
        "relationship_manager": {"rules": ["source_priority"], "prefer_formats": ["sql"]},
        "phone": {"rules": ["most_recent"], "priority": {"crm": 1, "gleif": 5}},
    },
}


def test_spec_from_config_reads_rules_priorities_and_formats() -> None:
    with pytest.raises(ValueError, match="'phone': 'priority' has no effect"):
        spec_from_config(CONFIG)
    config = CONFIG | {
        "attributes": CONFIG["attributes"]
        | {
            "phone": {"rules": ["source_priority", "most_recent"], "priority": {"crm": 1, "gleif": 5}},
            "city": {"prefer_formats": ["sql"]},
        }
    }
    spec = spec_from_config(config)
    assert spec.default == ("source_priority", "most_recent")
    assert spec.rule_for("relationship_manager") == AttributeRule(("source_priority",), prefer_formats=("sql",))
    assert spec.rule_for("phone") == AttributeRule(("source_priority", "most_recent"), {"crm": 1, "gleif": 5})
    assert spec.rule_for("city") == AttributeRule(("source_priority", "most_recent"), prefer_formats=("sql",))
    # Unlisted attributes keep the default spec's rule...
    assert spec.rule_for("industry_code") == DEFAULT_SPEC.rule_for("industry_code")
    # ...unless there is no base, when they follow the config's default.
    bare = spec_from_config({"default": ["most_recent"]}, base=None)
    assert bare.rule_for("industry_code") == AttributeRule(("most_recent",))
    golden, _ = survive(records(*ACME), PRIORITY, spec)
    assert golden_row(golden)["city"] == "London"  # the CRM now wins the city


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"attributes": {"nickname": {"rules": ["most_recent"]}}}, "unknown attribute 'nickname'"),
        ({"attributes": {"phone": {"rules": ["newest"]}}}, "'phone': unknown rule 'newest'"),
        ({"attributes": {"phone": {"rule": ["most_recent"]}}}, "'phone': unknown key 'rule'"),
        ({"attributes": {"phone": {"rules": "most_recent"}}}, "'phone': 'rules' must be a list"),
        ({"attributes": {"phone": {"rules": []}}}, "'phone': 'rules' must name at least one rule"),
        ({"attributes": {"phone": {"rules": ["most_recent", "most_recent"]}}}, "'phone': a rule is listed twice"),
        (
            {"attributes": {"phone": {"rules": ["source_priority"], "priority": {"crm": "first"}}}},
            "'phone': 'priority' must map",
        ),
        (
            {"attributes": {"phone": {"rules": ["most_recent"], "prefer_formats": ["sql"]}}},
            "'phone': 'prefer_formats' has no effect",
        ),
        (
            {"attributes": {"phone": {"rules": ["source_priority"], "prefer_formats": "sql"}}},
            "'phone': 'prefer_formats' must be a list",
        ),
        ({"attributes": {"phone": ["source_priority"]}}, "'phone': must be a mapping"),
        ({"default": ["freshest"]}, "'default': unknown rule 'freshest'"),
        ({"defaults": ["most_recent"]}, "unknown key 'defaults'"),
        ({"attributes": ["phone"]}, "'attributes' must be a mapping"),
    ],
)
def test_spec_from_config_names_what_is_wrong(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec_from_config(config)


def test_a_spec_refuses_unknown_attributes_and_rules() -> None:
    with pytest.raises(ValueError, match="unknown attribute 'nickname'"):
        SurvivorshipSpec(("source_priority",), {"nickname": AttributeRule(("source_priority",))})
    with pytest.raises(ValueError, match="'city': unknown rule 'oldest'"):
        SurvivorshipSpec(("source_priority",), {"city": AttributeRule(("oldest",))})
    with pytest.raises(ValueError, match="'default': 'rules' must name at least one rule"):
        spec_from_config({"default": []}, base=None)
