"""What the workbench reads: the published warehouse, read-only, reopened when a run republishes it.

Every query here is a constant SQL text with bound parameters. :func:`visible_record` is the single
place where a row is masked for the reader's role before a page shows it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from mdm.standardise import name_core
from mdm.text import normalise_text
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.warehouse import Warehouse

RECORD_FIELDS = (
    "name",
    "name_en",
    "lei",
    "uscc",
    "registration_number",
    "cik",
    "ein",
    "legal_form",
    "country",
    "city",
    "address",
    "postal_code",
    "phone",
    "entity_status",
    "relationship_manager",
    "branch",
)
GOLDEN_FIELDS = (
    "legal_name",
    "name_en",
    "lei",
    "uscc",
    "cn_registration_number",
    "gb_company_number",
    "cik",
    "ein",
    "legal_form",
    "entity_status",
    "country",
    "city",
    "address",
    "postal_code",
    "phone",
    "branch",
    "relationship_manager",
    "customer_status",
    "record_count",
    "sources",
)
# Personal data (issue 12, point 3): hidden from roles that may only read masked data.
PERSONAL = ("phone", "relationship_manager")
SEARCH_LIMIT = 50


_CIPHER: list[Any] = [None]  # the warehouse's field cipher (pipelines.crypto), set by create_app


def use_cipher(cipher: Any) -> None:
    """Let roles with ``read_clear`` see personal values in clear (None: they see them as stored)."""
    _CIPHER[0] = cipher


def _token(value: str) -> str:
    """The analysts' token of a stored value: the same as the analyst views' ``mask`` (it still joins)."""
    return "tok:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def visible_record(role: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row as ``role`` may see it. THE one place where the workbench shows or masks personal data: roles
    with ``read_clear`` (stewards, engineers) see personal columns decrypted; the others (analysts) see the
    token analysts see in SQL. Every page goes through it."""
    from pipelines.users import can

    cipher = _CIPHER[0]
    if can(role, "read_clear"):
        if cipher is None:
            return row
        return {k: (cipher.decrypt_text(v) if k in PERSONAL and isinstance(v, str) else v) for k, v in row.items()}
    return {k: (_token(v) if k in PERSONAL and isinstance(v, str) and v else v) for k, v in row.items()}


class Reader:
    """A read-only connection to the published database, reopened when its file changes (a new run)."""

    def __init__(self, config: Config) -> None:
        self.wh = Warehouse(config.warehouse)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple[str, int, int] | None = None
        self._lock = threading.Lock()

    def _current(self) -> tuple[str, int, int]:
        real = os.path.realpath(self.wh.db_path)
        st = os.stat(real)
        return real, st.st_ino, st.st_mtime_ns

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.wh.exists():
            raise MdmError(f"no published warehouse at {self.wh.db_path}: run `mdm run` first")
        with self._lock:
            stamp = self._current()
            if self._con is None or stamp != self._stamp:
                if self._con is not None:
                    self._con.close()
                self._con = duckdb.connect(stamp[0], read_only=True)
                self._stamp = stamp
            cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or {})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    found = rows(con, sql, params)
    return found[0] if found else None


def record(con: duckdb.DuckDBPyConnection, rid: str) -> dict[str, Any] | None:
    return one(
        con,
        "SELECT r.*, x.golden_id AS xref_golden_id, x.match_rule FROM organization_record r "
        "LEFT JOIN xref x USING (rid) WHERE r.rid = $rid",
        {"rid": rid},
    )


def pair(con: duckdb.DuckDBPyConnection, a: str, b: str) -> dict[str, Any] | None:
    """The scored pair (a, b) in either order, with its contributions parsed and sorted by weight."""
    p = one(
        con,
        "SELECT * FROM match_pair WHERE (rid_a = $a AND rid_b = $b) OR (rid_a = $b AND rid_b = $a)",
        {"a": a, "b": b},
    )
    if p is None:
        return None
    contrib = json.loads(p["contributions"]) if p.get("contributions") else {}
    p["prior"] = contrib.pop("prior", None)
    p["features"] = sorted(
        ({"feature": k, **v} for k, v in contrib.items() if isinstance(v, dict)),
        key=lambda f: -abs(f.get("weight") or 0),
    )
    return p


def model(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows(con, "SELECT feature, level, lower_bound, m, u, weight FROM match_model ORDER BY feature, level"):
        out.setdefault(r["feature"], []).append(r)
    return out


def golden(con: duckdb.DuckDBPyConnection, gid: str) -> tuple[dict[str, Any] | None, str | None]:
    """(golden record, None), or (None, surviving id) for a retired id, or (None, None)."""
    g = one(con, "SELECT * FROM golden_organization WHERE golden_id = $g", {"g": gid})
    if g is not None:
        return g, None
    r = one(
        con,
        "SELECT surviving_id FROM golden_id_redirect WHERE retired_id = $g ORDER BY run_id DESC LIMIT 1",
        {"g": gid},
    )
    return None, (r or {}).get("surviving_id")


def members(con: duckdb.DuckDBPyConnection, gid: str) -> list[dict[str, Any]]:
    return rows(
        con,
        "SELECT r.*, x.match_rule FROM xref x JOIN organization_record r USING (rid) "
        "WHERE x.golden_id = $g ORDER BY r.source, r.source_id",
        {"g": gid},
    )


def cluster_pairs(con: duckdb.DuckDBPyConnection, gid: str) -> list[dict[str, Any]]:
    return rows(
        con,
        "SELECT p.rid_a, p.rid_b, p.rule, p.score, p.band FROM match_pair p "
        "JOIN xref a ON a.rid = p.rid_a JOIN xref b ON b.rid = p.rid_b "
        "WHERE a.golden_id = $g OR b.golden_id = $g ORDER BY p.score DESC, p.rid_a, p.rid_b, p.rule LIMIT 200",
        {"g": gid},
    )


def lineage(con: duckdb.DuckDBPyConnection, gid: str) -> list[dict[str, Any]]:
    return rows(
        con,
        "SELECT l.attribute, l.value, l.source, l.source_id, l.rid, l.rule, l.candidates, "
        "r.src_file, r.src_line FROM golden_attribute_lineage l LEFT JOIN organization_record r "
        "USING (rid) WHERE l.golden_id = $g ORDER BY l.attribute, l.rid, l.value",
        {"g": gid},
    )


def history(con: duckdb.DuckDBPyConnection, gid: str) -> list[dict[str, Any]]:
    return rows(
        con,
        "SELECT legal_name, country, address, lei, record_count, sources, valid_from, valid_to, run_id "
        "FROM golden_organization_history WHERE golden_id = $g ORDER BY valid_from DESC LIMIT 100",
        {"g": gid},
    )


def hierarchy(con: duckdb.DuckDBPyConnection, gid: str) -> dict[str, Any]:
    group = one(con, "SELECT * FROM v_organization_group WHERE golden_id = $g", {"g": gid})
    links = rows(
        con,
        "SELECT h.child_golden_id, c.legal_name AS child_name, h.parent_golden_id, "
        "p.legal_name AS parent_name, h.relationship_type, h.relationship_status FROM golden_hierarchy h "
        "LEFT JOIN golden_organization c ON c.golden_id = h.child_golden_id "
        "LEFT JOIN golden_organization p ON p.golden_id = h.parent_golden_id "
        "WHERE h.child_golden_id = $g OR h.parent_golden_id = $g "
        "ORDER BY h.relationship_type, h.parent_golden_id, h.child_golden_id, h.parent_id, h.child_id LIMIT 200",
        {"g": gid},
    )
    return {
        "group": group,
        "parents": [x for x in links if x["child_golden_id"] == gid],
        "children": [x for x in links if x["parent_golden_id"] == gid],
    }


def search(con: duckdb.DuckDBPyConnection, q: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Golden records whose identifier equals ``q`` (LEI, USCC, company number, CIK, EIN) or one of whose
    records has a standardised alias (any script, traditional or simplified) containing ``q``'s core."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    ident = q.upper().replace(" ", "")
    core = name_core(q) or normalise_text(q)
    return rows(
        con,
        """
        WITH hit AS (
            SELECT DISTINCT x.golden_id FROM organization_record r JOIN xref x USING (rid)
            WHERE upper(r.lei) = $id OR upper(r.uscc) = $id OR upper(r.registration_number) = $id
               OR ltrim(r.cik, '0') = ltrim($id, '0') AND $id <> '' OR r.ein = $id
               OR ($core <> '' AND (contains(r.name_core, $core)
                   OR len(list_filter(r.aliases, lambda a: contains(a, $core))) > 0))
        )
        SELECT g.golden_id, g.legal_name, g.name_en, g.country, g.lei, g.uscc, g.gb_company_number, g.cik,
               g.record_count, g.sources
        FROM golden_organization g JOIN hit USING (golden_id)
        ORDER BY g.record_count DESC, g.golden_id LIMIT $limit""",
        {"id": ident, "core": core, "limit": limit},
    )
