"""The sample CRM database: a batched writer of ``internal/crm.sqlite``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SQL_BATCH = 20_000             # rows per sqlite executemany
CUSTOMER_COLUMNS = ("source_id", "name", "name_en", "uscc", "lei", "registration_number", "country", "city", "address",
                    "postal_code", "phone", "industry_code", "branch", "relationship_manager", "opened_on", "status",
                    "updated_at")
ACCOUNT_COLUMNS = ("account_id", "source_id", "product", "currency", "opened_on", "closed_on", "status")
BALANCE_COLUMNS = ("account_id", "month", "balance", "debit_amount", "credit_amount", "txn_count")


class _Sqlite:
    """Batched writer of the CRM SQLite database."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            path.unlink()
        self.con = sqlite3.connect(path)
        self.con.execute("PRAGMA journal_mode=OFF")
        self.con.execute("PRAGMA synchronous=OFF")
        self.con.execute(f"CREATE TABLE customers ({', '.join(c + ' TEXT' for c in CUSTOMER_COLUMNS)}, PRIMARY KEY (source_id))")
        # Accounts and balances carry an audit stamp (updated_at) for change-data capture, as core banking
        # tables usually do; it is set when the database is closed (no random draws: the sample is unchanged).
        self.con.execute(f"CREATE TABLE accounts ({', '.join(c + ' TEXT' for c in ACCOUNT_COLUMNS)}, "
                         "updated_at TEXT, PRIMARY KEY (account_id))")
        self.con.execute("CREATE TABLE balances (account_id TEXT, month TEXT, balance REAL, debit_amount REAL, "
                         "credit_amount REAL, txn_count INTEGER, updated_at TEXT, PRIMARY KEY (account_id, month))")
        self.buf: dict[str, list[tuple]] = {"customers": [], "accounts": [], "balances": []}
        self.cols = {"customers": CUSTOMER_COLUMNS, "accounts": ACCOUNT_COLUMNS, "balances": BALANCE_COLUMNS}

    def add(self, table: str, rows: list[tuple]) -> None:
        buf = self.buf[table]
        buf.extend(rows)
        if len(buf) >= SQL_BATCH:
            self.flush(table)

    def flush(self, table: str) -> None:
        buf = self.buf[table]
        if buf:
            marks = ", ".join("?" * len(self.cols[table]))
            self.con.executemany(f"INSERT INTO {table} ({', '.join(self.cols[table])}) VALUES ({marks})", buf)
            buf.clear()

    def close(self) -> None:
        for t in self.buf:
            self.flush(t)
        # Distinct stamps (a second per row within the day), as real audit columns mostly are.
        self.con.execute("UPDATE accounts SET updated_at = coalesce(datetime(coalesce(closed_on, opened_on), "
                         "'+' || (rowid % 86400) || ' seconds'), '2000-01-01 00:00:00')")
        self.con.execute("UPDATE balances SET updated_at = coalesce(datetime(month || '-28', "
                         "'+' || (rowid % 86400) || ' seconds'), '2000-01-01 00:00:00')")
        self.con.commit()
        self.con.close()
