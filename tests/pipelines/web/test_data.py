"""pipelines.web.data: the detail lists of a golden record come in a fixed order (the LIMIT keeps the same rows
every time, whatever order the table's rows are stored in)."""

from __future__ import annotations

import duckdb

from pipelines.web import data


def test_hierarchy_links_and_lineage_are_ordered_whatever_the_stored_order() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE golden_organization AS SELECT * FROM (VALUES ('G1', 'Parent'), ('G2', 'Child A'), "
        "('G3', 'Child B'), ('G4', 'Grandparent')) t(golden_id, legal_name)"
    )
    con.execute("CREATE TABLE v_organization_group AS SELECT 'G1' AS golden_id, 'G4' AS group_id")
    # Stored in the reverse of the order the page shows.
    con.execute(
        "CREATE TABLE golden_hierarchy AS SELECT * FROM (VALUES "
        "('G1', 'G4', 'IS_ULTIMATELY_CONSOLIDATED_BY', 'ACTIVE', 'L1', 'L4'), "
        "('G3', 'G1', 'IS_DIRECTLY_CONSOLIDATED_BY', 'ACTIVE', 'L3', 'L1'), "
        "('G2', 'G1', 'IS_DIRECTLY_CONSOLIDATED_BY', 'ACTIVE', 'L2', 'L1'), "
        "('G1', 'G4', 'IS_DIRECTLY_CONSOLIDATED_BY', 'ACTIVE', 'L1', 'L4')) "
        "t(child_golden_id, parent_golden_id, relationship_type, relationship_status, child_id, parent_id)"
    )
    got = data.hierarchy(con, "G1")
    assert [(x["relationship_type"], x["parent_golden_id"]) for x in got["parents"]] == [
        ("IS_DIRECTLY_CONSOLIDATED_BY", "G4"),
        ("IS_ULTIMATELY_CONSOLIDATED_BY", "G4"),
    ]
    assert [x["child_golden_id"] for x in got["children"]] == ["G2", "G3"]
    con.execute(
        "CREATE TABLE golden_attribute_lineage AS SELECT * FROM (VALUES "
        "('G1', 'legal_name', 'Parent Ltd', 'uk', 'U1', 'uk:U1', 'source_priority', 2), "
        "('G1', 'legal_name', 'Parent Limited', 'crm', 'C1', 'crm:C1', 'source_priority', 2), "
        "('G1', 'country', 'GB', 'crm', 'C1', 'crm:C1', 'most_frequent', 2)) "
        "t(golden_id, attribute, value, source, source_id, rid, rule, candidates)"
    )
    con.execute("CREATE TABLE organization_record (rid VARCHAR, src_file VARCHAR, src_line BIGINT)")
    assert [(x["attribute"], x["rid"]) for x in data.lineage(con, "G1")] == [
        ("country", "crm:C1"),
        ("legal_name", "crm:C1"),
        ("legal_name", "uk:U1"),
    ]
