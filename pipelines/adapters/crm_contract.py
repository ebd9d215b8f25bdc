"""The CRM column contract, defined once: the tables a bank's CRM offers to the SQL adapter.

A ``sql`` source has up to three queries, ``customers``, ``accounts`` and ``balances``. Each maps by column name
(case-insensitive) to a canonical table of the landing. This module says, for each, which columns are part of
the contract, their type (how the adapter converts a value), which are required (a query without them is
refused) and the natural key (a row's identity, also read back by change-data capture to see deletions).

The SQL adapter (:mod:`pipelines.adapters.sql`) reads by it; the sample world (:mod:`pipelines.sample`) builds
its CRM database and writes its ``mdm.yaml`` queries from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

ColumnType = Literal["text", "date", "timestamp", "month", "real", "integer", "names"]
"""``date``: an ISO date (a timestamp is cut to its date); ``timestamp``: an ISO timestamp; ``month``:
``YYYY-MM``; ``real``/``integer``: numbers (a bad value becomes NULL with a warning); ``names``: several
names in one value, a JSON array of strings or text separated by ``;`` or line breaks (landed as the
canonical ``other_names`` JSON list); ``text``: as given."""

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    """One column of a CRM table."""

    name: str
    type: ColumnType = "text"
    required: bool = False
    target: str | None = None  # the canonical column it lands in, when not its own name

    @property
    def lands_in(self) -> str:
        return self.target or self.name


@dataclass(frozen=True)
class CrmTable:
    """One CRM query: its key in the config, the canonical table it lands in, and its columns."""

    key: str  # the query key in the source's ``queries`` (and the sample CRM's table name)
    table: str  # the canonical table of the landing
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]  # the columns identifying a row
    has_extra: bool  # other columns are kept in ``extra`` (JSON) rather than ignored

    def __post_init__(self) -> None:
        names = self.names
        if len(set(names)) != len(names) or not all(_NAME.match(n) for n in names):
            raise ValueError(f"CRM table {self.key!r}: column names must be distinct lower-case identifiers")
        if not set(self.natural_key) <= set(self.required):
            raise ValueError(f"CRM table {self.key!r}: every natural key column must be required")

    @property
    def names(self) -> tuple[str, ...]:
        """The contract's column names, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The columns a query must return."""
        return tuple(c.name for c in self.columns if c.required)


CUSTOMERS: Final = CrmTable(
    "customers",
    "organization",
    (
        Column("source_id", required=True),
        Column("name", required=True),
        Column("name_en"),
        Column("uscc"),
        Column("lei"),
        Column("registration_number"),
        Column("country"),
        Column("city"),
        Column("address"),
        Column("postal_code"),
        Column("phone"),
        Column("industry_code"),
        Column("branch"),
        Column("relationship_manager"),
        Column("opened_on", "date"),
        Column("status"),
        Column("updated_at", "timestamp"),
        # Trading, former and other names the bank knows the customer by; they take part in matching.
        Column("aliases", "names", target="other_names"),
        # The scheme of registration_number when the country alone does not say it: a scheme code of
        # mdm.registers (RU-OGRN, FR-SIREN, DE-HR ...) or a GLEIF registration-authority code (RA000189).
        Column("registration_scheme", target="registration_authority"),
    ),
    natural_key=("source_id",),
    has_extra=True,
)
ACCOUNTS: Final = CrmTable(
    "accounts",
    "account",
    (
        Column("account_id", required=True),
        Column("source_id", required=True),
        Column("product"),
        Column("currency"),
        Column("opened_on", "date"),
        Column("closed_on", "date"),
        Column("status"),
    ),
    natural_key=("account_id",),
    has_extra=False,
)
BALANCES: Final = CrmTable(
    "balances",
    "balance",
    (
        Column("account_id", required=True),
        Column("month", "month", required=True),
        Column("balance", "real"),
        Column("debit_amount", "real"),
        Column("credit_amount", "real"),
        Column("txn_count", "integer"),
    ),
    natural_key=("account_id", "month"),
    has_extra=False,
)

TABLES: Final = (CUSTOMERS, ACCOUNTS, BALANCES)

AUDIT_COLUMN: Final = Column("updated_at", "timestamp")
"""The last-update stamp a CRM table usually carries, named as the change column of change-data capture
(the source's ``changes``). Part of the customers contract (kept on the organisation record); outside the
accounts and balances contracts, where it is read only as the change column."""


def columns_of_type(*types: ColumnType) -> frozenset[str]:
    """Names of the columns, over all tables, of one of ``types`` (a name has one type in every table)."""
    return frozenset(c.name for t in TABLES for c in t.columns if c.type in types)


def _check_types() -> None:
    seen: dict[str, str] = {}
    for t in TABLES:
        for c in t.columns:
            if seen.setdefault(c.name, c.type) != c.type:
                raise ValueError(f"CRM column {c.name!r} has two types: {seen[c.name]} and {c.type}")


_check_types()
