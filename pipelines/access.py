"""Connections to the published warehouse per role: who sees clear values and who sees tokens.

- ``engineer`` and ``steward``: a read-only connection with the scalar function ``mdm_decrypt(text)``
  (every token in the text replaced by its clear value; ``extra`` JSON stays valid JSON), e.g.
  ``SELECT golden_id, mdm_decrypt(phone) FROM golden_organization``.
- ``analyst``: a read-only connection without any key; its search path starts at the ``analyst`` schema
  (sql/marts/analyst_views.sql), whose views show sensitive values as tokens ``tok:<16 hex>``. The stored
  tables hold only ciphertext, so an analyst who reads ``main`` directly sees tokens too, never a value.
- ``auditor``: like ``analyst`` (the audit log is read by its own commands).

Callers (``mdm sql``, the web workbench) decide the role of their user; this module only gives each
role what it may see. Restrictions on what SQL may do (external access, attach, ...) are applied by the
caller on the returned connection.
"""

from __future__ import annotations

from typing import Any

import duckdb
from duckdb.func import FunctionNullHandling

from pipelines.crypto import FieldCipher, cipher_for
from pipelines.errors import MdmError
from pipelines.sqlrow import one_row

CLEAR_ROLES = frozenset({"engineer", "steward"})
MASKED_ROLES = frozenset({"analyst", "auditor"})
ROLES = CLEAR_ROLES | MASKED_ROLES
ANALYST_SCHEMA = "analyst"


class AccessError(MdmError):
    """An unknown role, or a warehouse that cannot be opened for it."""


def register_decrypt(con: duckdb.DuckDBPyConnection, cipher: FieldCipher) -> None:
    """Make ``mdm_decrypt(text) -> text`` available on a connection (NULL stays NULL)."""
    text = duckdb.sqltype("VARCHAR")
    con.create_function(
        "mdm_decrypt", cipher.decrypt_text, [text], text, null_handling=FunctionNullHandling.SPECIAL, side_effects=False
    )


def open_for_role(config: Any, role: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse of ``config`` for ``role`` (see module doc)."""
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; roles are {', '.join(sorted(ROLES))}")
    db = config.warehouse / "mdm.duckdb"
    if not db.exists():
        raise AccessError(f"no published warehouse at {db}; run `mdm run --config FILE` first")
    cipher = cipher_for(config, create=False) if role in CLEAR_ROLES else None
    con = duckdb.connect(str(db), read_only=True)
    try:
        if cipher is not None:
            register_decrypt(con, cipher)
        else:
            has = one_row(
                con.execute(
                    "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $s", {"s": ANALYST_SCHEMA}
                )
            )[0]
            if not has:
                raise AccessError(f"the warehouse {db} has no analyst views yet; publish a run first")
            con.execute(f"SET search_path = '{ANALYST_SCHEMA},main'")  # a constant of this module
    except BaseException:
        con.close()
        raise
    return con
