"""Churn truth of the sample world: CRM customers the generator makes decline over the last months.

A declining customer is chosen by its own random stream (seeded by the sample seed and the customer id),
so the rest of the sample does not change with it. Kinds: ``balance_decline`` (balances of every account
fall by 50-80 % over the recent window), ``transaction_decline`` (transactions fall to 10-40 %),
``account_closed`` (one account closes in the first month of the recent window). Accounts that the
generator closes anyway within the balance history are declines too (``account_closed``, from the month
of closing). Every decline is written to ``churn_truth.csv``: source, source_id, entity_id, reason,
from_month.
"""

from __future__ import annotations

import random

CHURN_RATE = 0.06  # share of CRM customers made to decline
RECENT_MONTHS = 3  # the decline happens over the last months of the balance history
KINDS = ("balance_decline", "transaction_decline", "account_closed")
TRUTH_COLUMNS = ("source", "source_id", "entity_id", "reason", "from_month")


def churn_rng(seed: int, source_id: str) -> random.Random:
    """The random stream of one customer's decline (independent of the sample's main stream)."""
    return random.Random(f"churn:{seed}:{source_id}")


def choose_decline(crng: random.Random) -> str | None:
    """The kind of decline of a customer, or None for a customer that does not decline."""
    if crng.random() >= CHURN_RATE:
        return None
    return KINDS[crng.randrange(len(KINDS))]


def balance_factor(kind: str | None, depth: float, k: int) -> float:
    """Multiplier of a balance in the k-th month of the recent window (1-based; 0 = before it)."""
    if kind != "balance_decline" or k <= 0:
        return 1.0
    return 1.0 - depth * k / RECENT_MONTHS


def txn_factor(kind: str | None, level: float, k: int) -> float:
    """Multiplier of the transactions in the k-th month of the recent window."""
    return level if kind == "transaction_decline" and k > 0 else 1.0
