"""SEC Financial Statement Data Set rows of the sample world: ``sub.txt`` filings and ``num.txt`` facts."""

from __future__ import annotations

import random
from datetime import date, timedelta

from pipelines.sample.entities import Entity
from pipelines.sample.pools import _INDUSTRIES

SUB_HEADER = (
    "adsh",
    "cik",
    "name",
    "sic",
    "countryba",
    "stprba",
    "cityba",
    "zipba",
    "bas1",
    "bas2",
    "baph",
    "countryma",
    "stprma",
    "cityma",
    "zipma",
    "mas1",
    "mas2",
    "countryinc",
    "stprinc",
    "ein",
    "former",
    "changed",
    "afs",
    "wksi",
    "fye",
    "form",
    "period",
    "fy",
    "fp",
    "filed",
    "accepted",
    "prevrpt",
    "detail",
    "instance",
    "nciks",
    "aciks",
)
NUM_HEADER = ("adsh", "tag", "version", "ddate", "qtrs", "uom", "segments", "coreg", "value", "footnote")


def _sec_name(name: str) -> str:
    n = name.upper().replace(".", "").replace(",", "")
    for long, short in (
        (" CORPORATION", " CORP"),
        (" INCORPORATED", " INC"),
        (" LIMITED", " LTD"),
        (" COMPANY", " CO"),
    ):
        if n.endswith(long):
            n = n[: -len(long)] + short
    return " ".join(n.split())


def sec_rows(e: Entity, rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    """The sub.txt rows (one per filing) and num.txt rows of one SEC filer."""
    a = e.address
    foreign = e.country != "US"
    fps = ("FY",) if foreign else ("Q1", "Q2", "Q3", "FY")
    periods = [(fy, fp) for fy in range(2019, 2024) for fp in fps]
    n = rng.randint(2, 5 if foreign else 6)
    start = rng.randrange(len(periods) - n + 1)
    chosen = rng.sample(periods[start:], n)
    chosen.sort(key=lambda p: (p[0], ("Q1", "Q2", "Q3", "FY").index(p[1])))
    ticker = "".join(ch for ch in e.stem_latin.lower() if ch.isalpha())[:4] or "corp"
    revenue = rng.lognormvariate(18.5, 1.6)
    margin = rng.uniform(-0.1, 0.25)
    assets = revenue * rng.uniform(0.8, 3.0)
    lev = rng.uniform(0.2, 0.8)
    phone = (
        (a.phone_prefix + f"{rng.randrange(10**7):07d}")
        if not foreign
        else f"44{a.phone_prefix.lstrip('0')}{rng.randrange(10**7):07d}"
    )
    street = [x.upper() for x in a.lines] + [""]
    subs: list[list[str]] = []
    nums: list[list[str]] = []
    for seq, (fy, fp) in enumerate(chosen):
        month = {"Q1": 3, "Q2": 6, "Q3": 9, "FY": 12}[fp]
        period = date(fy, month, 31 if month in (3, 12) else 30)
        form = ("20-F" if foreign else "10-K") if fp == "FY" else "10-Q"
        filed = period + timedelta(days=rng.randint(30, 75) if fp == "FY" else rng.randint(25, 44))
        adsh = f"{int(e.cik or 0):010d}-{filed.year % 100:02d}-{seq + 1:06d}"
        if e.former_name and e.renamed_on and filed < e.renamed_on:
            name, former, changed = e.former_name, "", ""
        elif e.former_name and e.renamed_on:
            name, former, changed = e.name, _sec_name(e.former_name), e.renamed_on.strftime("%Y%m%d")
        else:
            name, former, changed = e.name, "", ""
        growth = 1.0 + 0.06 * (fy - 2019)
        subs.append(
            [
                adsh,
                e.cik or "",
                _sec_name(name),
                _INDUSTRIES[e.industry][5],
                a.country,
                "" if foreign else a.region[3:],
                a.city.upper(),
                a.postal,
                street[0],
                street[1],
                phone,
                a.country,
                "" if foreign else a.region[3:],
                a.city.upper(),
                a.postal,
                street[0],
                street[1],
                a.country if foreign else "US",
                "" if foreign else e.us_state,
                e.ein or "",
                former,
                changed,
                rng.choice(("1-LAF", "2-ACC", "3-SRA", "4-NON", "5-SML")),
                "0",
                "1231",
                form,
                period.strftime("%Y%m%d"),
                str(fy),
                fp,
                filed.strftime("%Y%m%d"),
                f"{filed.isoformat()} {rng.randrange(6, 20):02d}:{rng.randrange(60):02d}:00.0",
                "0",
                "1",
                f"{ticker}-{period.strftime('%Y%m%d')}.xml"
                if not foreign
                else f"{ticker}-{period.strftime('%Y%m%d')}_htm.xml",
                "1",
                "",
            ]
        )
        qtrs = "4" if fp == "FY" else "1"
        rev = revenue * growth * (1 if fp == "FY" else 0.25) * rng.uniform(0.9, 1.1)
        tot_assets = assets * growth * rng.uniform(0.95, 1.05)
        liab = tot_assets * lev
        ddate = period.strftime("%Y%m%d")
        version = f"us-gaap/{fy}" if not foreign else f"ifrs/{fy}"
        uom = "USD"
        for tag, q, value in (
            ("Revenues", qtrs, rev),
            ("NetIncomeLoss", qtrs, rev * margin),
            ("Assets", "0", tot_assets),
            ("Liabilities", "0", liab),
            ("StockholdersEquity", "0", tot_assets - liab),
        ):
            nums.append([adsh, tag, version, ddate, q, uom, "", "", f"{round(value):d}.0000", ""])
        if fp == "FY":
            prior = date(fy - 1, 12, 31).strftime("%Y%m%d")
            nums.append([adsh, "Assets", version, prior, "0", uom, "", "", f"{round(tot_assets / 1.06):d}.0000", ""])
            if rng.random() < 0.3:
                seg = rng.choice(("Americas", "Europe", "AsiaPacific"))
                nums.append(
                    [
                        adsh,
                        "Revenues",
                        version,
                        ddate,
                        qtrs,
                        uom,
                        f"StatementGeographicalAxis={seg};",
                        "",
                        f"{round(rev * rng.uniform(0.2, 0.6)):d}.0000",
                        "",
                    ]
                )
    return subs, nums
