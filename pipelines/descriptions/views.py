"""The analyst views over the golden records, and the table macros."""

from __future__ import annotations

from pipelines.descriptions.shared import Doc

# The headline financial figures of a golden record (v_golden_financials_latest, v_golden_organization).
FIGURES: dict[str, str] = {
    "revenue": "Latest revenue (Revenues, or an alias: RevenueFromContractWithCustomer..., SalesRevenueNet ...): "
    "the annual figure (qtrs = 4) when there is one, else the longest duration of the latest period.",
    "revenue_concept": "Tag the revenue figure was reported under.",
    "revenue_period_end": "Period end of the revenue figure.",
    "revenue_qtrs": "Duration of the revenue figure in quarters (4 = annual).",
    "net_income": "Latest net income (NetIncomeLoss, or ProfitLoss / NetIncomeLossAvailableToCommonStockholdersBasic), "
    "annual when available.",
    "net_income_concept": "Tag the net income figure was reported under.",
    "net_income_period_end": "Period end of the net income figure.",
    "net_income_qtrs": "Duration of the net income figure in quarters (4 = annual).",
    "assets": "Latest total assets (point in time).",
    "assets_period_end": "Balance-sheet date of assets.",
    "liabilities": "Latest total liabilities (point in time).",
    "liabilities_period_end": "Balance-sheet date of liabilities.",
    "equity": "Latest stockholders' equity (StockholdersEquity, else including non-controlling interest).",
    "equity_concept": "Tag the equity figure was reported under.",
    "equity_period_end": "Balance-sheet date of equity.",
    "currency": "Unit of the figures, or MIXED when they differ.",
    "figures_period_end": "Latest period end among the figures.",
}

VIEWS: dict[str, Doc] = {
    "v_golden_organization": Doc(
        "The golden record with its latest headline financial figures (see v_golden_financials_latest).",
        {
            "revenue": FIGURES["revenue"],
            "revenue_qtrs": FIGURES["revenue_qtrs"],
            "net_income": FIGURES["net_income"],
            "net_income_qtrs": FIGURES["net_income_qtrs"],
            "assets": FIGURES["assets"],
            "liabilities": FIGURES["liabilities"],
            "equity": FIGURES["equity"],
            "figures_currency": FIGURES["currency"],
            "figures_period_end": FIGURES["figures_period_end"],
        },
        inherits=("golden_organization",),
    ),
    "v_xref": Doc(
        "The cross-reference with the golden record's name.",
        {"legal_name": "Legal name of the golden record."},
        inherits=("xref",),
    ),
    "v_financial_latest": Doc(
        "The latest fact per golden record and tag: annual (qtrs = 4) for flows, point in "
        "time (qtrs = 0) for balances, then the latest period, 10-K before 10-Q.",
        inherits=("golden_financial_fact",),
    ),
    "v_golden_financials_latest": Doc(
        "One row per golden record with financial facts: the latest figure of each "
        "headline measure over all the tags that report it.",
        FIGURES,
    ),
    "v_hierarchy": Doc(
        "golden_hierarchy with the names of both ends.",
        {
            "child_name": "Legal name of the child golden record.",
            "child_lei": "LEI of the child.",
            "parent_name": "Legal name of the parent golden record (NULL when not loaded).",
            "parent_lei": "LEI of the parent.",
            "child_golden_id": "Golden record of the child.",
            "parent_golden_id": "Golden record of the parent (NULL when not loaded).",
        },
        inherits=("golden_hierarchy",),
    ),
    "v_organization_group": Doc(
        "The group of every golden record, from ACTIVE consolidation relationships.",
        {
            "direct_parent_golden_id": "Parent by IS_DIRECTLY_CONSOLIDATED_BY (NULL when none or not loaded).",
            "ultimate_parent_golden_id": "Parent by IS_ULTIMATELY_CONSOLIDATED_BY when loaded, else the top of the "
            "chain of loaded direct parents; NULL for a group's top.",
            "group_id": "Golden id of the group's top: the ultimate parent, or the record itself.",
            "depth": "Direct-parent steps up to the ultimate parent (0 for the top or a standalone record).",
            "direct_parent_lei": "LEI of the direct parent as reported (also when not loaded).",
            "ultimate_parent_lei": "LEI of the ultimate parent as reported (also when not loaded).",
        },
    ),
}

MACROS: dict[str, str] = {
    "golden_organization_as_of": "golden_organization_as_of(ts): the version of every golden record valid at ts "
    "(UTC): `SELECT * FROM golden_organization_as_of(TIMESTAMP '2025-01-31 00:00:00')`. "
    "Columns as golden_organization_history.",
}
