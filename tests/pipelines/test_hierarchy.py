"""The corporate hierarchy between golden records (sql/golden/hierarchy.sql) and the group view
v_organization_group (sql/marts/views.sql).

Real data: the GLEIF level-2 sample (bodspipelines-rr-data.xml) with the 13-entity LEI sample, read in
place; which relationship ends are loaded is computed from the files. Generated data: a sample with
parents and subsidiaries, checked against the relationship rows themselves. A hand-made cycle checks
that the recursive walk ends.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from lxml import etree

from mdm.schema import TABLES
from pipelines import runner
from pipelines.sample import generate
from pipelines.stages import publish
from pipelines.warehouse import run_sql
from tests.conftest import read_frame as read

LEI_NS = "{http://www.gleif.org/data/schema/leidata/2016}"
RR_NS = "{http://www.gleif.org/data/schema/rr/2016}"
DIRECT = "IS_DIRECTLY_CONSOLIDATED_BY"
ULTIMATE = "IS_ULTIMATELY_CONSOLIDATED_BY"


# --- real GLEIF files -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_db(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hierarchy_real")
    g = realdata / "gleif"
    cfg = root / "mdm.yaml"
    cfg.write_text(
        f"warehouse: {root / 'warehouse'}\nsources:\n"
        f'  - {{name: gleif, format: gleif_lei_xml, path: "{g / "bodspipelines-lei-data.xml"}"}}\n'
        f'  - {{name: gleif_rr, format: gleif_rr_xml, path: "{g / "bodspipelines-rr-data.xml"}"}}\n',
        encoding="utf-8",
    )
    return runner.run(cfg).warehouse / "mdm.duckdb"


def rr_rows(path: Path) -> list[tuple[str, str, str, str]]:
    """(child LEI, parent LEI, type, status) of every RelationshipRecord."""
    rows = []
    for rec in etree.parse(str(path)).iter(f"{RR_NS}RelationshipRecord"):
        rows.append(
            (
                rec.findtext(f".//{RR_NS}StartNode/{RR_NS}NodeID"),
                rec.findtext(f".//{RR_NS}EndNode/{RR_NS}NodeID"),
                rec.findtext(f".//{RR_NS}RelationshipType"),
                rec.findtext(f".//{RR_NS}RelationshipStatus"),
            )
        )
    return rows


def test_real_relationships_resolve_to_the_loaded_entities(realdata: Path, real_db: Path) -> None:
    tree = etree.parse(str(realdata / "gleif" / "bodspipelines-lei-data.xml"))
    leis = {e.findtext(f"{LEI_NS}LEI") for e in tree.iter(f"{LEI_NS}LEIRecord")}
    rels = rr_rows(realdata / "gleif" / "bodspipelines-rr-data.xml")
    assert len(leis) == 13 and len(rels) == 10
    touching = {r for r in rels if r[0] in leis or r[1] in leis}
    # In this sample five relationships (fund management, sub-fund) have a loaded child and no loaded parent.
    assert len(touching) == 5 and all(r[0] in leis and r[1] not in leis for r in touching)
    assert {r[2] for r in touching} == {"IS_FUND-MANAGED_BY", "IS_SUBFUND_OF"}

    h = read(
        real_db,
        "SELECT h.*, g.lei AS child_golden_lei FROM golden_hierarchy AS h "
        "LEFT JOIN golden_organization AS g ON g.golden_id = h.child_golden_id",
    )
    assert set(zip(h.child_id, h.parent_id, h.relationship_type, h.relationship_status)) == touching
    assert len(h) == 5
    assert h["child_golden_id"].notna().all() and (h["child_golden_lei"] == h["child_id"]).all()
    assert h["parent_golden_id"].isna().all() and h["parent_id"].notna().all()
    named = read(real_db, "SELECT * FROM v_hierarchy")
    assert len(named) == 5 and named["child_name"].notna().all() and named["parent_name"].isna().all()
    # No consolidation relationship among them: every entity is its own group.
    group = read(real_db, "SELECT * FROM v_organization_group")
    assert len(group) == 13
    assert (group["group_id"] == group["golden_id"]).all() and (group["depth"] == 0).all()
    assert group["direct_parent_golden_id"].isna().all() and group["ultimate_parent_golden_id"].isna().all()


# --- generated sample ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hierarchy_sample")
    generate(out, entities=200, seed=3)
    return runner.run(out / "mdm.yaml").warehouse / "mdm.duckdb"


def lei_to_golden(db: Path) -> dict[str, str]:
    m = read(db, "SELECT DISTINCT id_LEI, golden_id FROM organization_record WHERE id_LEI IS NOT NULL")
    assert not m["id_LEI"].duplicated().any()  # one golden record per LEI
    return dict(zip(m.id_LEI, m.golden_id))


def test_generated_children_get_their_parents_golden_ids(sample_db: Path) -> None:
    golden_of = lei_to_golden(sample_db)
    rel = read(sample_db, "SELECT * FROM relationship")
    direct = rel[
        (rel.relationship_type == DIRECT)
        & (rel.relationship_status == "ACTIVE")
        & rel.child_id.isin(list(golden_of))
        & rel.parent_id.isin(list(golden_of))
    ]
    assert len(direct) >= 5
    group = read(sample_db, "SELECT * FROM v_organization_group").set_index("golden_id")
    for child, parent in zip(direct.child_id, direct.parent_id):
        assert group.loc[golden_of[child], "direct_parent_golden_id"] == golden_of[parent]
        assert group.loc[golden_of[child], "direct_parent_lei"] == parent
    h = read(sample_db, "SELECT * FROM golden_hierarchy")
    assert len(h) == len(rel[rel.child_id.isin(list(golden_of)) | rel.parent_id.isin(list(golden_of))])
    resolved = h.dropna(subset=["child_golden_id", "parent_golden_id"])
    assert all(
        golden_of[c] == cg and golden_of[p] == pg
        for c, p, cg, pg in zip(
            resolved.child_id, resolved.parent_id, resolved.child_golden_id, resolved.parent_golden_id
        )
    )


def test_generated_ultimate_parents_and_groups_resolve(sample_db: Path) -> None:
    golden_of = lei_to_golden(sample_db)
    rel = read(sample_db, "SELECT * FROM relationship WHERE relationship_status = 'ACTIVE'")
    group = read(sample_db, "SELECT * FROM v_organization_group").set_index("golden_id")
    assert len(group) == read(sample_db, "SELECT count(*) AS n FROM golden_organization")["n"].item()
    ultimate = rel[(rel.relationship_type == ULTIMATE) & rel.parent_id.isin(list(golden_of))]
    assert len(ultimate) >= 5
    for child, parent in zip(ultimate.child_id, ultimate.parent_id):
        assert group.loc[golden_of[child], "ultimate_parent_golden_id"] == golden_of[parent]
        assert group.loc[golden_of[child], "group_id"] == golden_of[parent]
    # a group's top is its own group at depth 0; every member points at a top
    members = group[group.ultimate_parent_golden_id.notna()]
    assert (members.depth >= 1).all()
    tops = group.loc[members.group_id.unique()]
    assert (tops.index == tops.group_id).all() and (tops.depth == 0).all()
    standalone = group[group.direct_parent_golden_id.isna() & group.ultimate_parent_golden_id.isna()]
    assert (standalone.index == standalone.group_id).all()
    # two levels: a child whose direct parent has a loaded direct parent of its own
    two = members[members.direct_parent_golden_id.isin(members.index)]
    assert len(two) >= 1
    for _, row in two.iterrows():
        parent = group.loc[row.direct_parent_golden_id]
        assert row.group_id == parent.group_id and row.depth == parent.depth + 1


# --- hand-made cycle ------------------------------------------------------------------------------------


LEIS = {
    "A": "5493000000000000000A",
    "B": "5493000000000000000B",
    "C": "5493000000000000000C",
    "D": "5493000000000000000D",
}


def _four_records() -> duckdb.DuckDBPyConnection:
    """Golden records GA..GD, one GLEIF record each (its LEI in LEIS), and empty relationship and financial_fact
    tables of the landing's columns."""
    con = duckdb.connect()
    for table in ("relationship", "financial_fact"):
        cols = ", ".join(
            f"{c} {'BIGINT' if str(t) == 'int64' else 'DOUBLE' if str(t) == 'double' else 'VARCHAR'}"
            for c, t in TABLES[table].items()
        )
        con.execute(f"CREATE TABLE {table} ({cols})")
    con.execute(
        "CREATE TABLE golden_organization AS SELECT 'G' || k AS golden_id, 'Org ' || k AS legal_name, "
        "'r1' AS run_id FROM (VALUES ('A'), ('B'), ('C'), ('D')) AS t(k)"
    )
    con.execute(
        "CREATE TABLE organization_record AS SELECT 'gleif' AS source, lei AS source_id, lei AS id_LEI, "
        "golden_id FROM (VALUES " + ", ".join(f"('{v}', 'G{k}')" for k, v in LEIS.items()) + ") AS t(lei, golden_id)"
    )
    con.execute(
        "CREATE TABLE xref AS SELECT source, source_id, golden_id, 'id:LEI' AS match_rule, 'r1' AS run_id "
        "FROM organization_record"
    )
    return con


def test_a_cycle_of_direct_parents_ends() -> None:
    con = _four_records()
    # A -> B -> C -> A is a cycle; D hangs below A.
    for child, parent in (("A", "B"), ("B", "C"), ("C", "A"), ("D", "A")):
        con.execute(
            "INSERT INTO relationship (source, child_id, child_id_type, parent_id, parent_id_type, "
            "relationship_type, relationship_status) VALUES ('rr', $c, 'LEI', $p, 'LEI', $t, 'ACTIVE')",
            {"c": LEIS[child], "p": LEIS[parent], "t": DIRECT},
        )
    publish.golden_steps(con, "r1", "2024-01-01 00:00:00")
    run_sql(con, "marts/views")
    group = con.execute("SELECT * FROM v_organization_group ORDER BY golden_id").df().set_index("golden_id")
    assert list(group.index) == ["GA", "GB", "GC", "GD"]
    assert group.loc["GA", "direct_parent_golden_id"] == "GB" and group.loc["GD", "direct_parent_golden_id"] == "GA"
    # the walk stops before it comes back to where it started: A's chain is A -> B -> C
    assert group.loc["GA", "ultimate_parent_golden_id"] == "GC" and group.loc["GA", "depth"] == 2
    assert group.loc["GD", "ultimate_parent_golden_id"] == "GC" and group.loc["GD", "depth"] == 3
    assert (group["depth"] <= 3).all()


def test_a_row_that_did_not_change_keeps_the_run_id_that_wrote_it() -> None:
    """golden_hierarchy and golden_financial_fact: a run that changes nothing stamps no row (so its exports are
    carried over); a run that changes one link and one fact stamps exactly those, the rest keep their run."""
    con = _four_records()
    for child, parent in (("A", "B"), ("B", "C"), ("D", "A")):
        con.execute(
            "INSERT INTO relationship (source, child_id, child_id_type, parent_id, parent_id_type, "
            "relationship_type, relationship_status) VALUES ('rr', $c, 'LEI', $p, 'LEI', $t, 'ACTIVE')",
            {"c": LEIS[child], "p": LEIS[parent], "t": DIRECT},
        )
    for cik, value in (("A", 10.0), ("A", 11.0), ("B", 20.0)):  # the filers are the GLEIF records (by LEI)
        con.execute(
            "INSERT INTO financial_fact (source, source_id, concept, value, unit, period_end, qtrs, filing, form) "
            "VALUES ('gleif', $id, 'Assets', $v, 'USD', '2024-12-31', 0, 'f-' || $v, '10-K')",
            {"id": LEIS[cik], "v": value},
        )

    def stamps(table: str) -> dict[str, int]:
        return dict(con.execute(f"SELECT run_id, count(*) FROM {table} GROUP BY ALL").fetchall())  # constant

    def content(table: str) -> list[tuple]:
        return con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} ORDER BY ALL").fetchall()  # constant

    publish.golden_steps(con, "r1", "2024-01-01 00:00:00")  # the first run: no published table to carry from
    assert stamps("golden_hierarchy") == {"r1": 3} and stamps("golden_financial_fact") == {"r1": 3}
    first = {t: content(t) for t in ("golden_hierarchy", "golden_financial_fact")}
    publish.golden_steps(con, "r2", "2024-01-02 00:00:00")
    assert stamps("golden_hierarchy") == {"r1": 3} and stamps("golden_financial_fact") == {"r1": 3}
    assert {t: content(t) for t in first} == first

    con.execute("UPDATE relationship SET relationship_status = 'INACTIVE' WHERE child_id = $c", {"c": LEIS["D"]})
    con.execute("UPDATE financial_fact SET value = 21.0 WHERE value = 20.0")
    publish.golden_steps(con, "r3", "2024-01-03 00:00:00")
    assert stamps("golden_hierarchy") == {"r1": 2, "r3": 1} and stamps("golden_financial_fact") == {"r1": 2, "r3": 1}
    assert con.execute("SELECT child_golden_id FROM golden_hierarchy WHERE run_id = 'r3'").fetchall() == [("GD",)]
    assert con.execute("SELECT value FROM golden_financial_fact WHERE run_id = 'r3'").fetchall() == [(21.0,)]
