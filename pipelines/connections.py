"""SQL sources through Airflow Connections: ``connection: <conn_id>`` in a source instead of a ``url``.

The password then lives in Airflow (its metadata DB or a secrets backend: Vault, AWS Secrets Manager ...),
never in the YAML. The config loader turns the connection into an SQLAlchemy URL when the config is read
(:func:`sql_url`), so the run, the plan and the adapters see an ordinary ``url``.

Where the connection comes from:

- inside an Airflow task, the DAG glue (:mod:`pipelines.orchestration`) installs :func:`airflow_lookup`
  with :func:`resolving`, which asks Airflow (``airflow.sdk.BaseHook.get_connection``: environment
  variables, the secrets backend, then the metadata DB through the API server);
- everywhere else (``mdm run``), from the environment variable ``AIRFLOW_CONN_<CONN_ID>`` (conn id upper
  case), in Airflow's URI form (``postgres://user:pass@host:5432/db?sslmode=require``) or JSON form
  (``{"conn_type": "postgres", "login": ..., "host": ...}``), the same variable Airflow itself reads.
  Airflow is never imported then: this module imports the standard library and SQLAlchemy only.

Connection to URL: ``conn_type`` gives the SQLAlchemy dialect (``postgres`` -> ``postgresql``, else as
is; the extra ``sqlalchemy_scheme`` overrides it, e.g. ``postgresql+psycopg``), ``login``/``password``/
``host``/``port`` as usual, ``schema`` is the database (for ``sqlite`` the file is ``host``, else
``schema``), and the extra's scalar values become URL query parameters (e.g. ``sslmode``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ENV_PREFIX = "AIRFLOW_CONN_"
CONN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}$")
MAX_VALUE = 64 * 1024  # an environment value longer than this is refused
_DIALECTS = {"postgres": "postgresql", "postgresql": "postgresql", "mssql": "mssql", "mysql": "mysql"}


class ConnectionLookupError(ValueError):
    """The connection is not defined or cannot become an SQLAlchemy URL (the message has no password)."""


@dataclass(frozen=True)
class ConnectionParts:
    """The fields of an Airflow connection that make a database URL."""

    conn_type: str
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Lookup = Callable[[str], ConnectionParts]
_lookup: ContextVar[Lookup | None] = ContextVar("mdm_connection_lookup", default=None)


def _normalise_type(conn_type: str) -> str:
    return "postgres" if conn_type == "postgresql" else conn_type.replace("-", "_")


def _extra(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    loaded = json.loads(value) if isinstance(value, str) else value
    if not isinstance(loaded, dict):
        raise ConnectionLookupError("the connection's extra is not a JSON object")
    return loaded


def parse_uri(uri: str) -> ConnectionParts:
    """An Airflow connection URI (``<conn_type>://<login>:<password>@<host>:<port>/<schema>?<extra>``), parsed
    as Airflow parses it (percent-encoded parts decoded, the query is the extra, or its ``__extra__`` key)."""
    if "://" not in uri:
        raise ConnectionLookupError("not an Airflow connection URI (expected <conn_type>://...)")
    parts = urlsplit(uri)
    host = unquote(parts.hostname or "")
    if "/" in host:  # a path as the host (sqlite): urlsplit lower-cases and splits it
        host = unquote(parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0])
    try:
        port = parts.port
    except ValueError:
        raise ConnectionLookupError("the connection URI has an invalid port") from None
    extra: dict[str, Any] = {}
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = _extra(query["__extra__"]) if "__extra__" in query else query
    return ConnectionParts(
        conn_type=_normalise_type(parts.scheme),
        host=host or None,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        port=port,
        schema=unquote(parts.path[1:]) or None,
        extra=extra,
    )


def parse_json(text: str) -> ConnectionParts:
    """An Airflow connection in JSON form (``conn_type``, ``host``, ``login``, ``password``, ``port``,
    ``schema``, ``extra``)."""
    data = json.loads(text)
    if not isinstance(data, dict) or not data.get("conn_type"):
        raise ConnectionLookupError("the JSON connection needs an object with 'conn_type'")
    port = data.get("port")
    return ConnectionParts(
        conn_type=_normalise_type(str(data["conn_type"])),
        host=data.get("host") or None,
        login=data.get("login") or None,
        password=data.get("password") or None,
        port=int(port) if port not in (None, "") else None,
        schema=data.get("schema") or None,
        extra=_extra(data.get("extra")),
    )


def env_lookup(conn_id: str) -> ConnectionParts:
    """The connection from ``AIRFLOW_CONN_<CONN_ID>`` (URI or JSON form), as Airflow's environment backend."""
    name = ENV_PREFIX + conn_id.upper()
    value = os.environ.get(name)
    if not value:
        raise ConnectionLookupError(f"connection {conn_id!r} is not defined: set the environment variable {name}")
    if len(value) > MAX_VALUE:
        raise ConnectionLookupError(f"{name} is longer than {MAX_VALUE} characters")
    try:
        return parse_json(value) if value.lstrip().startswith("{") else parse_uri(value)
    except (ValueError, TypeError) as e:
        reason = str(e) if isinstance(e, ConnectionLookupError) else "not valid JSON"
        raise ConnectionLookupError(f"{name}: {reason}") from None


def airflow_lookup(conn_id: str) -> ConnectionParts:
    """The connection as Airflow resolves it (only inside Airflow: imports ``airflow.sdk``)."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as e:  # AirflowNotFoundException, or the API server's error
        raise ConnectionLookupError(f"Airflow connection {conn_id!r}: {type(e).__name__}: {e}") from None
    return ConnectionParts(
        conn_type=_normalise_type(str(conn.conn_type or "")),
        host=conn.host or None,
        login=conn.login or None,
        password=conn.password or None,
        port=int(conn.port) if conn.port else None,
        schema=conn.schema or None,
        extra=_extra(conn.extra_dejson),
    )


@contextlib.contextmanager
def resolving(lookup: Lookup) -> Iterator[None]:
    """Within the block, connections are resolved by ``lookup`` (e.g. :func:`airflow_lookup`)."""
    token = _lookup.set(lookup)
    try:
        yield
    finally:
        _lookup.reset(token)


def to_url(parts: ConnectionParts) -> str:
    """The SQLAlchemy URL of a connection (as a string, password included: for the engine only)."""
    from sqlalchemy.engine import URL

    extra = dict(parts.extra)
    scheme = str(extra.pop("sqlalchemy_scheme", "") or _DIALECTS.get(parts.conn_type, parts.conn_type))
    if scheme == "generic":  # `airflow connections add --conn-type X` stores this when X's provider is absent
        raise ConnectionLookupError(
            "the connection's type is 'generic': create it with --conn-uri (e.g. postgres://...) or set its "
            "extra 'sqlalchemy_scheme' (e.g. postgresql+psycopg)"
        )
    if not scheme or not re.fullmatch(r"[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)?", scheme):
        raise ConnectionLookupError(f"connection type {parts.conn_type!r} is not an SQLAlchemy dialect")
    query = {str(k): str(v) for k, v in extra.items() if isinstance(v, str | int | float | bool)}
    if scheme.split("+")[0] == "sqlite":
        return URL.create(scheme, database=parts.host or parts.schema, query=query).render_as_string(
            hide_password=False
        )
    url = URL.create(
        scheme,
        username=parts.login,
        password=parts.password,
        host=parts.host,
        port=parts.port,
        database=parts.schema,
        query=query,
    )
    return url.render_as_string(hide_password=False)


def sql_url(conn_id: str) -> str:
    """The SQLAlchemy URL of connection ``conn_id``: from the lookup installed by :func:`resolving` (Airflow
    tasks), else from ``AIRFLOW_CONN_<CONN_ID>``. Raises :class:`ConnectionLookupError` (no password in it)."""
    if not CONN_ID.match(conn_id):
        raise ConnectionLookupError(f"{conn_id!r} is not a connection id (letters, digits, _ . -)")
    lookup = _lookup.get() or env_lookup
    return to_url(lookup(conn_id))
