"""CRM rows of the sample world: customers spelled the way a bank's CRM spells them, accounts, balances."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum import lei as stdlei
from stdnum.cn import uscc as stduscc

from pipelines.sample import churn, synth
from pipelines.sample.churn import choose_decline, churn_rng
from pipelines.sample.entities import Entity
from pipelines.sample.pools import (
    _CN_CITIES,
    _CN_FORM_EN,
    _FORMS,
    _INDUSTRIES,
    _cn_person,
    _en_person,
)
from pipelines.sample.spaces import _Ids, _rand_date

BALANCE_MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")


class _Opencc:
    """Lazily created simplified-to-traditional converter."""

    _conv = None

    @classmethod
    def s2t(cls, text: str) -> str:
        if cls._conv is None:
            import opencc

            cls._conv = opencc.OpenCC("s2t")
        return cls._conv.convert(text)


def _vary_latin(name: str, form: str, rng: random.Random) -> str:
    """A CRM spelling of a Latin-script legal name."""
    canon, variants = _FORMS[form][1], _FORMS[form][2]
    if rng.random() < 0.5:
        name = synth.replace_suffix(name, canon, variants[rng.randrange(len(variants))])
    if rng.random() < 0.25:
        name = synth.abbreviate(name, rng)
    if rng.random() < 0.35:
        name = synth.change_case(name, rng)
    if rng.random() < 0.25:
        name = synth.change_punctuation(name, rng)
    if rng.random() < 0.04:
        name = synth.typo(name, rng)
    return name


def _vary_en_of_cn(name_en: str, form: str, rng: random.Random) -> str:
    """A CRM spelling of the English name of a Chinese company."""
    canon, variants = _CN_FORM_EN[form]
    if rng.random() < 0.5:
        name_en = synth.replace_suffix(name_en, canon, variants[rng.randrange(len(variants))])
    if rng.random() < 0.2:
        name_en = synth.abbreviate(name_en, rng)
    if rng.random() < 0.4:
        name_en = synth.change_case(name_en, rng)
    if rng.random() < 0.03:
        name_en = synth.typo(name_en, rng)
    return name_en


def _vary_zh(name: str, form: str, rng: random.Random) -> str:
    """A CRM spelling of a Chinese legal name (form, brackets, traditional characters, typos)."""
    if rng.random() < 0.15:
        variants = _FORMS[form][2]
        name = synth.replace_suffix(name, _FORMS[form][1], variants[rng.randrange(len(variants))])
    if "（" in name and rng.random() < 0.5:
        name = synth.halfwidth_brackets(name)
    if rng.random() < 0.15:
        name = _Opencc.s2t(name)
    if rng.random() < 0.03:
        name = synth.typo(name, rng)
    return name


def crm_customer(e: Entity, source_id: str, rng: random.Random) -> tuple:
    """One CRM customers row for an entity (values vary per call: duplicates differ)."""
    stale_name = e.former_name is not None and rng.random() < 0.4
    base = e.former_name if stale_name else e.name
    base_en = e.former_name_en if stale_name else e.name_en
    if e.country == "CN":
        name = _vary_zh(base or e.name, e.form, rng)
        name_en = _vary_en_of_cn(base_en, e.form, rng) if base_en and rng.random() < 0.7 else None
    else:
        name = _vary_latin(base or e.name, e.form, rng)
        name_en = None
    lei = None
    if e.lei and rng.random() < 0.45:
        lei = e.lei if rng.random() > 0.05 else synth.mistype(e.lei, rng, stdlei.is_valid)
    uscc = None
    if e.uscc and rng.random() < 0.65:
        uscc = e.uscc if rng.random() > 0.05 else synth.mistype(e.uscc, rng, stduscc.is_valid, synth.USCC_ALPHABET)
    reg = None
    if e.ch_number and rng.random() < 0.6:
        reg = e.ch_number.lstrip("0") if rng.random() < 0.1 else e.ch_number
    elif e.ein and rng.random() < 0.4:
        reg = f"{e.ein[:2]}-{e.ein[2:]}"
    elif e.reg_id and e.country in ("DE", "FR", "HK") and rng.random() < 0.5:
        reg = e.reg_id
    addr = e.old_address if e.old_address is not None and rng.random() < 0.5 else e.address
    city = addr.city + ("市" if addr.country == "CN" and rng.random() < 0.5 else "")
    p = addr.phone_prefix
    if addr.country == "CN":
        phone = f"{p}-{rng.randrange(10**7, 10**8)}"
    elif addr.country == "GB":
        phone = f"{p} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    elif addr.country == "US":
        phone = f"({p}) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
    else:
        phone = f"{p} {rng.randrange(10**6, 10**8)}"
    city_en = next((c[2] for c in _CN_CITIES if c[1] == addr.city), addr.city)
    branch = f"{city_en} {rng.choice(('Main Branch', 'Corporate Banking Centre', 'Commercial Centre', 'City Branch'))}"
    opened = _rand_date(rng, max(e.incorporated, date(1995, 1, 1)), date(2024, 1, 1))
    status = "closed" if not e.active and rng.random() < 0.7 else ("dormant" if rng.random() < 0.05 else "active")
    updated = _rand_date(rng, max(opened, date(2022, 1, 1)), date(2024, 6, 30))
    rm = _cn_person(rng) if e.country == "CN" and rng.random() < 0.7 else _en_person(rng)
    return (
        source_id,
        name,
        name_en,
        uscc,
        lei,
        reg,
        addr.country,
        city,
        addr.full,
        addr.postal or None,
        phone if rng.random() < 0.85 else None,
        _INDUSTRIES[e.industry][4][:5],
        branch,
        rm,
        opened.isoformat(),
        status,
        f"{updated.isoformat()} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}",
        None,
        None,
    )  # aliases, registration_scheme: the sample's CRM keeps none


_PRODUCTS = (
    "current account",
    "current account",
    "term deposit",
    "term loan",
    "revolving credit facility",
    "trade finance",
    "fx forward",
    "cash pooling",
)
_CURRENCY = {"CN": "CNY", "GB": "GBP", "US": "USD", "DE": "EUR", "FR": "EUR", "HK": "HKD", "SG": "SGD", "JP": "JPY"}


def crm_accounts(
    e: Entity, source_id: str, opened_on: str, ids: _Ids, rng: random.Random, seed: int = 0
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Accounts of one CRM customer, their monthly balances, and the customer's declines (churn truth rows
    ``(reason, from_month)``, see pipelines/sample/churn.py)."""
    accounts: list[tuple] = []
    balances: list[tuple] = []
    declines: list[tuple] = []
    crng = churn_rng(seed, source_id)
    kind = choose_decline(crng)
    depth, level = crng.uniform(0.5, 0.8), crng.uniform(0.1, 0.4)
    recent0 = len(BALANCE_MONTHS) - churn.RECENT_MONTHS  # index of the recent window's first month
    window_start = date.fromisoformat(BALANCE_MONTHS[recent0] + "-01")
    n = 1 if rng.random() < 0.55 else (2 if rng.random() < 0.65 else 3)
    opened0 = date.fromisoformat(opened_on)
    scale = rng.lognormvariate(12, 1.8)
    closing = crng.randrange(n) if kind == "account_closed" else -1
    for i in range(n):
        acc = f"ACC{ids.next('acc'):010d}"
        product = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        cur = _CURRENCY[e.country] if rng.random() < 0.8 else rng.choice(("USD", "EUR"))
        opened = _rand_date(rng, opened0, date(2024, 6, 1))
        closed = _rand_date(rng, opened, date(2024, 6, 30)) if rng.random() < 0.08 else None
        if i == closing and opened < window_start and (closed is None or closed >= window_start):
            closed = window_start + timedelta(days=crng.randrange(20))
        if closed is not None and closed.strftime("%Y-%m") >= BALANCE_MONTHS[0]:
            declines.append(("account_closed", closed.strftime("%Y-%m")))  # within the balance history
        accounts.append(
            (
                acc,
                source_id,
                product,
                cur,
                opened.isoformat(),
                closed.isoformat() if closed else None,
                "closed" if closed else "active",
            )
        )
        bal = scale * rng.uniform(0.2, 2.0) * (-1 if "loan" in product or "credit" in product else 1)
        txn_level = crng.randrange(20, 300)  # the account's usual transactions a month
        for j, m in enumerate(BALANCE_MONTHS):
            first = date.fromisoformat(m + "-01")
            if first < opened.replace(day=1) or (closed is not None and first > closed):
                continue
            debit = abs(bal) * rng.uniform(0, 0.6)
            credit = debit * rng.uniform(0.8, 1.25)
            bal = bal + credit - debit
            k = j - recent0 + 1
            txn = txn_level * (0.8 + 0.4 * rng.randrange(0, 400) / 400) * churn.txn_factor(kind, level, k)
            balances.append(
                (
                    acc,
                    m,
                    round(bal * churn.balance_factor(kind, depth, k), 2),
                    round(debit, 2),
                    round(credit, 2),
                    round(txn),
                )
            )
    if kind in ("balance_decline", "transaction_decline") and any(b[1] < BALANCE_MONTHS[recent0] for b in balances):
        declines.append((kind, BALANCE_MONTHS[recent0]))
    return accounts, balances, sorted(set(declines))
