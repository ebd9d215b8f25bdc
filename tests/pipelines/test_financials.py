"""Financial facts on the golden records (sql/golden/financials.sql) and the latest-figures views
(v_financial_latest, v_golden_financials_latest, v_golden_organization in sql/marts/views.sql).

Real data: the SEC financial statement data sets of 2009q3 (read in place); Apple's figures are taken
from the zip's own sub.txt and num.txt. Generated data: a sample with 10-K and 10-Q filings.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines import runner
from pipelines.sample import generate
from tests.conftest import read_frame as read

APPLE_CIK = "320193"
BALANCES = {"assets": ("Assets",), "liabilities": ("Liabilities",), "equity": ("StockholdersEquity",)}


def filer_facts(zip_path: Path, cik: str) -> pd.DataFrame:
    """The entity-level facts (no co-registrant, no segment) of one filer, straight from the zip."""
    with zipfile.ZipFile(zip_path) as z:
        with z.open("sub.txt") as f:
            adsh = {r["adsh"] for r in csv.DictReader(io.TextIOWrapper(f, "utf-8"), delimiter="\t") if r["cik"] == cik}
        with z.open("num.txt") as f:
            rows = [
                r
                for r in csv.DictReader(
                    io.TextIOWrapper(f, "utf-8", errors="replace"), delimiter="\t", quoting=csv.QUOTE_NONE
                )
                if r["adsh"] in adsh and not r["coreg"] and not r.get("segments")
            ]
    df = pd.DataFrame(rows)
    df["period_end"] = pd.to_datetime(df["ddate"], format="%Y%m%d").dt.date
    df["qtrs"] = df["qtrs"].astype(int)
    df["value"] = df["value"].astype(float)
    return df


@pytest.fixture(scope="module")
def sec_db(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("financials_real")
    cfg = root / "mdm.yaml"
    cfg.write_text(
        f"warehouse: {root / 'warehouse'}\nsources:\n"
        f'  - {{name: sec, format: sec_fsds, path: "{realdata / "sec-fsds" / "2009q3.zip"}"}}\n',
        encoding="utf-8",
    )
    return runner.run(cfg).warehouse / "mdm.duckdb"


def test_every_fact_of_a_known_filer_is_on_its_golden_record(sec_db: Path) -> None:
    facts = read(
        sec_db,
        "SELECT count(*) AS n FROM financial_fact AS f "
        "WHERE EXISTS (SELECT 1 FROM xref AS x "
        "              WHERE x.source = f.source AND x.source_id = f.source_id)",
    )
    golden = read(
        sec_db, "SELECT count(*) AS n, count(DISTINCT golden_id) AS g, count(measure) AS m FROM golden_financial_fact"
    )
    assert golden["n"].item() == facts["n"].item() > 8000
    assert golden["m"].item() == golden["n"].item()  # every tag the adapter keeps maps to a measure
    one_per_filer = read(sec_db, "SELECT count(DISTINCT source_id) AS n FROM golden_financial_fact")
    assert one_per_filer["n"].item() == golden["g"].item()


def test_apple_latest_figures_come_from_its_filing(realdata: Path, sec_db: Path) -> None:
    facts = filer_facts(realdata / "sec-fsds" / "2009q3.zip", APPLE_CIK)
    (gid,) = read(sec_db, "SELECT golden_id FROM xref WHERE source = 'sec' AND source_id = $c", {"c": APPLE_CIK})[
        "golden_id"
    ]
    row = read(sec_db, "SELECT * FROM v_golden_organization WHERE golden_id = $g", {"g": gid}).iloc[0]
    assert row["legal_name"] == "APPLE INC" and row["cik"] == APPLE_CIK
    for measure, tags in BALANCES.items():
        f = facts[facts.tag.isin(tags) & (facts.qtrs == 0)]
        latest = f[f.period_end == f.period_end.max()]
        assert row[measure] == latest["value"].iloc[0], measure
    assert row["assets"] == 48_140_000_000  # Apple's 10-Q for the quarter to 27 June 2009
    # No annual figure in this quarter's filings: revenue is the longest duration of the latest period
    # (nine months to June 2009), reported as SalesRevenueNet.
    rev = facts[facts.tag == "SalesRevenueNet"]
    assert not (rev.qtrs == 4).any()
    latest = rev[rev.period_end == rev.period_end.max()]
    longest = latest[latest.qtrs == latest.qtrs.max()].iloc[0]
    fig = read(sec_db, "SELECT * FROM v_golden_financials_latest WHERE golden_id = $g", {"g": gid}).iloc[0]
    assert (fig["revenue"], fig["revenue_qtrs"], fig["revenue_concept"]) == (longest["value"], 3, "SalesRevenueNet")
    assert row["revenue"] == longest["value"] and row["revenue_qtrs"] == 3
    assert str(row["figures_period_end"])[:10] == str(facts.period_end.max())
    assert row["figures_currency"] == "USD"


def test_annual_figures_win_for_flows_and_point_in_time_for_balances(sec_db: Path) -> None:
    f = read(sec_db, "SELECT f.*, c.kind FROM golden_financial_fact AS f JOIN financial_concept AS c USING (concept)")
    fig = read(sec_db, "SELECT * FROM v_golden_financials_latest").set_index("golden_id")
    annual = f[(f.measure == "revenue") & (f.qtrs == 4)]
    assert annual.golden_id.nunique() >= 1  # few 10-Ks were filed in the quarter
    for gid, rows in annual.groupby("golden_id"):
        assert fig.loc[gid, "revenue_qtrs"] == 4
        assert fig.loc[gid, "revenue_period_end"] == rows.period_end.max()
    assets = f[(f.concept == "Assets") & (f.qtrs == 0)]
    for gid, rows in assets.groupby("golden_id"):
        latest = rows[rows.period_end == rows.period_end.max()]
        assert fig.loc[gid, "assets"] in set(latest.value)
        assert fig.loc[gid, "assets_period_end"] == rows.period_end.max()
    assert fig.index.is_unique
    latest = read(sec_db, "SELECT golden_id, concept, count(*) AS n FROM v_financial_latest GROUP BY ALL")
    assert (latest.n == 1).all()
    assert len(latest) == len(f.drop_duplicates(["golden_id", "concept"]))


# --- generated sample ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("financials_sample")
    generate(out, entities=150, seed=5)
    return runner.run(out / "mdm.yaml").warehouse / "mdm.duckdb"


def test_generated_golden_records_carry_their_latest_annual_figures(sample_db: Path) -> None:
    facts = read(
        sample_db,
        "SELECT x.golden_id, f.* FROM financial_fact AS f "
        "JOIN xref AS x ON x.source = f.source AND x.source_id = f.source_id",
    )
    assert facts.golden_id.nunique() >= 5
    org = read(sample_db, "SELECT * FROM v_golden_organization").set_index("golden_id")
    assert org.index.is_unique
    assert len(org) == read(sample_db, "SELECT count(*) AS n FROM golden_organization")["n"].item()
    assert set(org.index[org.revenue.notna()]) == set(facts.golden_id[facts.concept == "Revenues"])
    annual_filers = 0
    for gid, rows in facts.groupby("golden_id"):
        for measure, tag in (("revenue", "Revenues"), ("net_income", "NetIncomeLoss")):
            values, qtrs = expected_flow(rows[rows.concept == tag])
            assert org.loc[gid, measure] in values and org.loc[gid, f"{measure}_qtrs"] == qtrs, (gid, measure)
        annual_filers += int(org.loc[gid, "revenue_qtrs"] == 4)
        for measure, (tag,) in BALANCES.items():
            bal = rows[(rows.concept == tag) & (rows.qtrs == 0)]
            assert org.loc[gid, measure] in set(bal[bal.period_end == bal.period_end.max()].value)
        assert str(org.loc[gid, "figures_period_end"])[:10] == rows.period_end.max()
    assert annual_filers >= 3


def expected_flow(facts: pd.DataFrame) -> tuple[set[float], int]:
    """The values a flow may show and their duration: the latest annual figure when there is one, else
    the longest duration of the latest period."""
    annual = facts[facts.qtrs == 4]
    pool = annual if len(annual) else facts
    latest = pool[pool.period_end == pool.period_end.max()]
    longest = latest[latest.qtrs == latest.qtrs.max()]
    return set(longest.value), int(longest.qtrs.iloc[0])
