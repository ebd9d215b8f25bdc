"""Register rows of the sample world: the Chinese enterprise register and Companies House BasicCompanyData."""

from __future__ import annotations

import random
from datetime import date, timedelta

from pipelines.sample.entities import Entity
from pipelines.sample.pools import _CN_TYPES, _INDUSTRIES, _MUNICIPALITIES, _cn_person
from pipelines.sample.spaces import _rand_date

# Companies House BasicCompanyData header, verbatim (leading spaces included).
CH_HEADER = (
    "CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1, RegAddress.AddressLine2,"
    "RegAddress.PostTown,RegAddress.County,RegAddress.Country,RegAddress.PostCode,CompanyCategory,CompanyStatus,"
    "CountryOfOrigin,DissolutionDate,IncorporationDate,Accounts.AccountRefDay,Accounts.AccountRefMonth,"
    "Accounts.NextDueDate,Accounts.LastMadeUpDate,Accounts.AccountCategory,Returns.NextDueDate,Returns.LastMadeUpDate,"
    "Mortgages.NumMortCharges,Mortgages.NumMortOutstanding,Mortgages.NumMortPartSatisfied,Mortgages.NumMortSatisfied,"
    "SICCode.SicText_1,SICCode.SicText_2,SICCode.SicText_3,SICCode.SicText_4,LimitedPartnerships.NumGenPartners,"
    "LimitedPartnerships.NumLimPartners,URI,"
    + ",".join(f"PreviousName_{i}.CONDATE, PreviousName_{i}.CompanyName" for i in range(1, 11))
    + ",ConfStmtNextDueDate, ConfStmtLastMadeUpDate"
)
CN_HEADER = (
    "企业名称",
    "统一社会信用代码",
    "注册日期",
    "企业类型",
    "法人代表",
    "注册资金",
    "经营范围",
    "所在省份",
    "地区",
    "注册地址",
)


def _dmy(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def cn_row(e: Entity, rng: random.Random) -> list[str]:
    """One row of the Chinese enterprise register extract."""
    a = e.address
    if e.kind == "branch":
        etype = rng.choice(("有限责任公司分公司(自然人投资或控股)", "分公司", "N/A"))
        capital = "N/A"
    else:
        etype = (
            "股份有限公司(非上市、自然人投资或控股)" if e.form == "cn_jsc" else _CN_TYPES[rng.randrange(len(_CN_TYPES))]
        )
        capital = (
            "N/A"
            if rng.random() < 0.15
            else f"{rng.choice((10, 30, 50, 100, 200, 300, 500, 1000, 1500, 3000, 5000, 10000)):,}({rng.choice(('万元人民币', '万元人民币', '万元', '万'))})"
        )
    scope = _INDUSTRIES[e.industry][6] + "。【依法须经批准的项目，经相关部门批准后方可开展经营活动】"
    region = a.district.removesuffix("新区").removesuffix("区") if a.province in _MUNICIPALITIES else a.city
    return [
        e.name,
        e.uscc or "",
        e.incorporated.isoformat(),
        etype,
        _cn_person(rng),
        capital,
        scope,
        a.province,
        region,
        a.lines[0],
    ]


def ch_row(e: Entity, rng: random.Random) -> list[str]:
    """One row of Companies House BasicCompanyData (55 columns)."""
    a = e.address
    lines = [x.upper() for x in a.lines] + ["", ""]
    category = {
        "gb_ltd": "Private Limited Company",
        "gb_plc": "Public Limited Company",
        "gb_llp": "Limited Liability Partnership",
    }[e.form]
    status = (
        "Active" if e.active else rng.choice(("Liquidation", "Active - Proposal to Strike off", "In Administration"))
    )
    ref_month = rng.choice((3, 6, 9, 12, 12, 12))
    last_acc = date(2023, ref_month, 28 if ref_month == 2 else 30 if ref_month in (6, 9) else 31)
    if last_acc < e.incorporated:
        last_acc_s = ""
        acc_cat = "NO ACCOUNTS FILED"
    else:
        last_acc_s = _dmy(last_acc)
        acc_cat = rng.choice(
            ("FULL", "SMALL", "TOTAL EXEMPTION FULL", "MICRO ENTITY", "GROUP", "DORMANT", "UNAUDITED ABRIDGED")
        )
    next_due = _dmy(last_acc + timedelta(days=365 + 270))
    charges = rng.choice((0, 0, 0, 1, 2, 3))
    outstanding = rng.randint(0, charges)
    sic = [_INDUSTRIES[e.industry][4], "", "", ""]
    if rng.random() < 0.25:
        sic[1] = _INDUSTRIES[rng.randrange(len(_INDUSTRIES))][4]
    prev = []
    if e.former_name:
        prev = [_dmy(e.renamed_on), e.former_name.upper()]
    prev += [""] * (20 - len(prev))
    conf_last = _rand_date(rng, max(e.incorporated, date(2023, 6, 1)), date(2024, 6, 1))
    country = {
        "EW": rng.choice(("ENGLAND", "UNITED KINGDOM", "", "ENGLAND")),
        "SC": "SCOTLAND",
        "NI": "NORTHERN IRELAND",
    }[a.district]
    if a.city == "Cardiff":
        country = rng.choice(("WALES", "UNITED KINGDOM"))
    return [
        e.name.upper(),
        e.ch_number or "",
        "",
        "",
        lines[0],
        lines[1],
        a.city.upper(),
        a.region.upper(),
        country,
        a.postal,
        category,
        status,
        "United Kingdom",
        "",
        _dmy(e.incorporated),
        str(last_acc.day),
        str(ref_month),
        next_due,
        last_acc_s,
        acc_cat,
        "",
        "",
        str(charges),
        str(outstanding),
        "0",
        str(charges - outstanding),
        *sic,
        "0",
        "0",
        f"http://business.data.gov.uk/id/company/{e.ch_number}",
        *prev,
        _dmy(conf_last + timedelta(days=379)),
        _dmy(conf_last),
    ]
