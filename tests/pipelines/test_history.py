"""History of the golden records (SCD type 2, sql/golden/history.sql) and the as-of macro.

On the real GLEIF update snapshots (read in place): the first file, then the second (12 LEIs each, one
gone, one new, 00TR8NKAEL48RGTZEW89 ACTIVE -> INACTIVE), then the second again. The expected changes are
taken from the files and from the golden records each run published. The SQL is also run on small
hand-made golden tables to check how it copes with columns that appear or change type.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from lxml import etree

from pipelines import runner
from pipelines.stages.publish import history
from tests.conftest import read_frame as read

LEI_NS = "{http://www.gleif.org/data/schema/leidata/2016}"
FIRST = "bodspipelines-lei-updates-data2.xml"
SECOND = "bodspipelines-lei-updates-data2-new.xml"
FLIPPED = "00TR8NKAEL48RGTZEW89"


def leis_and_status(path: Path) -> dict[str, str]:
    """LEI -> EntityStatus of every LEIRecord of a GLEIF LEI file."""
    out = {}
    for rec in etree.parse(str(path)).iter(f"{LEI_NS}LEIRecord"):
        out[rec.findtext(f"{LEI_NS}LEI").strip()] = rec.findtext(f".//{LEI_NS}EntityStatus").strip()
    return out


def write_config(root: Path, data: Path) -> Path:
    cfg = root / "mdm.yaml"
    cfg.write_text(
        f'warehouse: {root / "warehouse"}\nsources:\n  - {{name: gleif, format: gleif_lei_xml, path: "{data}"}}\n',
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(scope="module")
def snapshots(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three runs (first file, second file, second file again) with what each published."""
    root = tmp_path_factory.mktemp("history")
    db = root / "warehouse" / "mdm.duckdb"
    out: dict = {"db": db, "runs": [], "golden": [], "history": []}
    for name in (FIRST, SECOND, SECOND):
        summary = runner.run(write_config(root, realdata / "gleif" / name))
        out["runs"].append(summary.run_id)
        out["golden"].append(read(db, "SELECT * FROM golden_organization ORDER BY golden_id"))
        out["history"].append(read(db, "SELECT * FROM golden_organization_history ORDER BY golden_id, valid_from"))
    out["published"] = dict(
        read(db, "SELECT run_id, started_at FROM run_log WHERE stage = 'publish'").itertuples(index=False, name=None)
    )
    out["files"] = [leis_and_status(realdata / "gleif" / n) for n in (FIRST, SECOND)]
    return out


def attributes(golden: pd.DataFrame) -> pd.DataFrame:
    """Golden records by LEI without the run id, comparable across runs."""
    return golden.drop(columns=["run_id"]).set_index("lei").sort_index()


def test_the_snapshots_differ_as_expected(snapshots: dict) -> None:
    first, second = snapshots["files"]
    assert len(first) == 12 and len(second) == 12
    assert len(set(first) - set(second)) == 1 and len(set(second) - set(first)) == 1
    assert (first[FLIPPED], second[FLIPPED]) == ("ACTIVE", "INACTIVE")


def test_history_after_the_first_run_is_one_open_row_per_golden_record(snapshots: dict) -> None:
    hist, golden = snapshots["history"][0], snapshots["golden"][0]
    t1 = snapshots["published"][snapshots["runs"][0]]
    assert len(hist) == len(golden) == 12
    assert hist["valid_to"].isna().all()
    assert (hist["valid_from"] == t1).all()
    assert set(hist["golden_id"]) == set(golden["golden_id"])
    # every golden attribute is kept, in golden_organization's order, before the version columns
    assert list(hist.columns) == [*golden.columns.drop("run_id"), "row_hash", "valid_from", "valid_to", "run_id"]


def test_second_run_versions_changed_new_and_gone_records(snapshots: dict) -> None:
    first, second = snapshots["files"]
    g1, g2 = attributes(snapshots["golden"][0]), attributes(snapshots["golden"][1])
    hist = snapshots["history"][1]
    t1 = snapshots["published"][snapshots["runs"][0]]
    t2 = snapshots["published"][snapshots["runs"][1]]
    common = sorted(set(first) & set(second))
    changed = {lei for lei in common if not g1.loc[lei].equals(g2.loc[lei])}
    assert changed == {FLIPPED}
    (gone,) = set(first) - set(second)
    (new,) = set(second) - set(first)
    by_lei = {lei: rows.sort_values("valid_from") for lei, rows in hist.groupby("lei")}
    assert set(by_lei) == set(first) | set(second)
    for lei in common:
        rows = by_lei[lei]
        assert rows["golden_id"].nunique() == 1  # golden ids persist across runs
        if lei in changed:
            assert len(rows) == 2
            old, cur = rows.iloc[0], rows.iloc[1]
            assert (old["valid_from"], old["valid_to"]) == (t1, t2)
            assert cur["valid_from"] == t2 and pd.isna(cur["valid_to"])
            assert (old["entity_status"], cur["entity_status"]) == ("ACTIVE", "INACTIVE")
            assert old["row_hash"] != cur["row_hash"]
            assert cur["run_id"] == snapshots["runs"][1]
        else:
            assert len(rows) == 1
            assert rows.iloc[0]["valid_from"] == t1 and pd.isna(rows.iloc[0]["valid_to"])
            assert rows.iloc[0]["run_id"] == snapshots["runs"][0]
    assert len(by_lei[gone]) == 1 and (by_lei[gone].iloc[0]["valid_from"], by_lei[gone].iloc[0]["valid_to"]) == (t1, t2)
    opened = by_lei[new]
    assert len(opened) == 1 and opened.iloc[0]["valid_from"] == t2 and pd.isna(opened.iloc[0]["valid_to"])
    assert len(hist) == 12 + 1 + 1


def test_as_of_between_the_runs_returns_the_first_snapshot(snapshots: dict) -> None:
    t1 = snapshots["published"][snapshots["runs"][0]]
    t2 = snapshots["published"][snapshots["runs"][1]]
    between = t1 + (t2 - t1) / 2
    as_of = read(snapshots["db"], "SELECT * FROM golden_organization_as_of($ts) ORDER BY golden_id", {"ts": between})
    first = snapshots["golden"][0]
    cols = list(first.columns.drop("run_id"))
    pd.testing.assert_frame_equal(
        as_of[cols].reset_index(drop=True), first[cols].reset_index(drop=True), check_dtype=False
    )
    assert (
        read(snapshots["db"], "SELECT count(*) AS n FROM golden_organization_as_of($ts)", {"ts": t1 - (t2 - t1)})[
            "n"
        ].item()
        == 0
    )  # before the first publish nothing was known
    now = read(snapshots["db"], "SELECT * FROM golden_organization_as_of(now()::TIMESTAMP) ORDER BY golden_id")
    current = snapshots["golden"][2]
    pd.testing.assert_frame_equal(
        now[cols].reset_index(drop=True), current[cols].reset_index(drop=True), check_dtype=False
    )


def test_rerun_on_unchanged_input_adds_no_history(snapshots: dict) -> None:
    pd.testing.assert_frame_equal(snapshots["history"][2], snapshots["history"][1])


# --- the SQL alone on hand-made golden tables -------------------------------------------------------


def publish(con: duckdb.DuckDBPyConnection, run: str, now: str) -> pd.DataFrame:
    history(con, run, now)
    return con.execute("SELECT * FROM golden_organization_history ORDER BY golden_id, valid_from").df()


def test_new_columns_join_the_history_without_new_versions_until_filled() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE golden_organization AS SELECT * FROM (VALUES ('G1', 'Acme Ltd', NULL, 'r1'), "
        "('G2', 'Beta AG', NULL, 'r1')) AS t(golden_id, legal_name, cn_registration_number, run_id)"
    )
    h1 = publish(con, "r1", "2024-01-01 00:00:00")
    assert len(h1) == 2
    # a new, still empty column and a reordered table: no new versions, the history gains the column
    con.execute(
        "CREATE OR REPLACE TABLE golden_organization AS SELECT golden_id, CAST(NULL AS VARCHAR) AS ein, "
        "cn_registration_number, legal_name, 'r2' AS run_id FROM golden_organization"
    )
    h2 = publish(con, "r2", "2024-02-01 00:00:00")
    assert len(h2) == 2 and h2["valid_to"].isna().all() and "ein" in h2.columns
    assert list(h2["row_hash"]) == list(h1["row_hash"])
    # filling the new column and the formerly all-NULL one opens versions for the rows that changed
    con.execute("UPDATE golden_organization SET ein = '12-3456789', run_id = 'r3' WHERE golden_id = 'G1'")
    con.execute(
        "CREATE OR REPLACE TABLE golden_organization AS SELECT * REPLACE (CASE golden_id WHEN 'G2' "
        "THEN '110000000000001' END AS cn_registration_number, 'r3' AS run_id) FROM golden_organization"
    )
    h3 = publish(con, "r3", "2024-03-01 00:00:00")
    assert len(h3) == 4
    cur = h3[h3["valid_to"].isna()].set_index("golden_id")
    assert cur.loc["G1", "ein"] == "12-3456789" and cur.loc["G2", "cn_registration_number"] == "110000000000001"
    closed = h3[h3["valid_to"].notna()]
    assert set(closed["golden_id"]) == {"G1", "G2"} and (closed["valid_to"] == datetime(2024, 3, 1)).all()
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'golden_organization_history'"
        ).fetchall()
    )
    assert types["cn_registration_number"] == "VARCHAR" and types["valid_from"] == "TIMESTAMP"
    # a golden record that disappears is closed, the others stay as they are
    con.execute("DELETE FROM golden_organization WHERE golden_id = 'G2'")
    h4 = publish(con, "r4", "2024-04-01 00:00:00")
    assert len(h4) == 4
    g2 = h4[(h4["golden_id"] == "G2")].sort_values("valid_from")
    assert g2.iloc[-1]["valid_to"] == datetime(2024, 4, 1)
    assert h4[h4["golden_id"] == "G1"]["valid_to"].isna().sum() == 1


# The version hash as it was first defined (one JSON parse per key): the hashes of published history rows
# were computed with it, so the faster form in golden/history.sql must give the same digests.
REFERENCE_HASH = """
    SELECT golden_id,
           md5(to_json(list_filter(
               list_transform(list_sort(list_filter(json_keys(doc), lambda k: k <> 'golden_id')),
                              lambda k: [k, doc ->> k]),
               lambda kv: kv[2] IS NOT NULL))::VARCHAR) AS row_hash
    FROM (SELECT g.golden_id, to_json(g) AS doc FROM (SELECT * EXCLUDE (run_id) FROM golden_organization) AS g)
"""


def test_version_hash_is_the_sorted_json_digest_of_every_attribute() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE golden_organization AS SELECT * FROM (VALUES
        ('G1', 'Acme "Quoted" Ltd\\n', 3::BIGINT, NULL, 1.5::DOUBLE, true, DATE '2020-02-29', ['a', 'b'], 'r1'),
        ('G2', '北京某某科技有限公司', NULL, 'Müller & Söhne \\ / GmbH', -0.1::DOUBLE, false, NULL, [], 'r1'),
        ('G3', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'r1'),
        ('G4', '', 0::BIGINT, 'x', 1e20::DOUBLE, NULL, DATE '1999-12-31', [NULL, 'c'], 'r1')
        ) AS t(golden_id, legal_name, record_count, zeta, score, flag, incorporated_on, sources, run_id)"""
    )
    history(con, "r1", "2024-01-01 00:00:00")
    got = dict(con.execute("SELECT golden_id, row_hash FROM golden_organization_history").fetchall())
    want = dict(con.execute(REFERENCE_HASH).fetchall())
    assert len(got) == 4 and got == want
    assert len(set(got.values())) == 4
    # G3 has no attribute but its id: the digest of the empty list
    import hashlib

    assert got["G3"] == hashlib.md5(b"[]").hexdigest()
