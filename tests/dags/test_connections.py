"""SQL sources through Airflow Connections (pipelines/connections.py, `connection:` in a source).

Outside Airflow the connection comes from `AIRFLOW_CONN_<ID>` and Airflow is never imported; inside a DAG
run it comes from Airflow (here: its metadata DB, with no environment variable), and the DAG publishes
the CRM's records read through it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from sqlalchemy.engine import make_url

from pipelines.config import load_config
from pipelines.connections import ConnectionLookupError, parse_json, parse_uri, sql_url, to_url
from pipelines.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

URIS = [
    "postgres://mdm_reader:s3cr%40t%2Fx@db.example.com:5433/crm?sslmode=require",
    "postgresql://u:p@h/db",
    "mysql://reader:pw@10.0.0.5/crm",
    "sqlite://%2Ftmp%2Fcrm.sqlite",
    "mssql://sa:pw@host:1433/crm",
]


@pytest.mark.parametrize("uri", URIS)
def test_uri_is_parsed_as_airflow_parses_it(uri: str) -> None:
    from airflow.sdk.definitions.connection import Connection

    theirs = Connection.from_uri(uri, conn_id="x")
    ours = parse_uri(uri)
    assert (ours.conn_type, ours.host, ours.login, ours.password, ours.port, ours.schema) == (
        theirs.conn_type,
        theirs.host or None,
        theirs.login or None,
        theirs.password or None,
        theirs.port,
        theirs.schema or None,
    )
    assert ours.extra == theirs.extra_dejson


def test_postgres_connection_becomes_a_sqlalchemy_url() -> None:
    url = make_url(to_url(parse_uri(URIS[0])))
    assert url.drivername == "postgresql"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "mdm_reader",
        "s3cr@t/x",
        "db.example.com",
        5433,
        "crm",
    )
    assert dict(url.query) == {"sslmode": "require"}
    # The extra sqlalchemy_scheme picks the driver; it is not a query parameter.
    json_form = '{"conn_type": "postgres", "host": "h", "login": "u", "password": "p", "schema": "d",'
    url = make_url(to_url(parse_json(json_form + ' "extra": {"sqlalchemy_scheme": "postgresql+psycopg2"}}')))
    assert url.drivername == "postgresql+psycopg2" and dict(url.query) == {}


def test_sqlite_connection_is_the_file_in_host() -> None:
    assert to_url(parse_uri("sqlite://%2Ftmp%2Fcrm.sqlite")) == "sqlite:////tmp/crm.sqlite"


def test_generic_connection_is_refused_with_the_fix() -> None:
    """`airflow connections add --conn-type sqlite` without the SQLite provider stores type 'generic'."""
    with pytest.raises(ConnectionLookupError, match="--conn-uri"):
        to_url(parse_json('{"conn_type": "generic", "host": "/tmp/crm.sqlite"}'))
    url = to_url(parse_json('{"conn_type": "generic", "host": "h", "extra": {"sqlalchemy_scheme": "postgresql"}}'))
    assert make_url(url).drivername == "postgresql"


def test_env_connection_and_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_MY_CRM", raising=False)
    with pytest.raises(ConnectionLookupError, match="AIRFLOW_CONN_MY_CRM"):
        sql_url("my_crm")
    monkeypatch.setenv("AIRFLOW_CONN_MY_CRM", "postgres://u:topsecret@h:5432/d")
    assert make_url(sql_url("my_crm")).password == "topsecret"
    monkeypatch.setenv("AIRFLOW_CONN_MY_CRM", "http://u:topsecret@h:99999/d")  # port out of range
    with pytest.raises(ConnectionLookupError) as e:
        sql_url("my_crm")
    assert "topsecret" not in str(e.value)
    monkeypatch.setenv("AIRFLOW_CONN_MY_CRM", '{"conn_type": "postgres", "password": "topsecret"')  # cut JSON
    with pytest.raises(ConnectionLookupError) as e:
        sql_url("my_crm")
    assert "topsecret" not in str(e.value) and "AIRFLOW_CONN_MY_CRM" in str(e.value)
    with pytest.raises(ConnectionLookupError, match="not a connection id"):
        sql_url("my crm; drop")


def _with_connection(sample: Path, conn_id: str) -> Path:
    """The sample's config with its CRM read through connection ``conn_id`` instead of a url."""
    config = sample / "mdm.yaml"
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    crm = next(s for s in raw["sources"] if s["format"] == "sql")
    del crm["url"]
    crm["connection"] = conn_id
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return sample / "internal" / "crm.sqlite"


def test_config_resolves_the_connection_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.sample import generate

    generate(tmp_path / "s", entities=20, seed=2)
    db = _with_connection(tmp_path / "s", "mdm_crm")
    monkeypatch.delenv("AIRFLOW_CONN_MDM_CRM", raising=False)
    with pytest.raises(ConfigError, match=r"sources\.crm\.connection: .*AIRFLOW_CONN_MDM_CRM"):
        load_config(tmp_path / "s" / "mdm.yaml")
    monkeypatch.setenv("AIRFLOW_CONN_MDM_CRM", "sqlite://" + str(db).replace("/", "%2F"))
    crm = next(s for s in load_config(tmp_path / "s" / "mdm.yaml").sources if s.name == "crm")
    assert make_url(crm.url or "").database == str(db)
    # A source with both, or a file source with a connection, is refused.
    raw = yaml.safe_load((tmp_path / "s" / "mdm.yaml").read_text(encoding="utf-8"))
    raw["sources"][-1]["url"] = "sqlite:///x.sqlite"
    (tmp_path / "both.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'url' .* or 'connection'"):
        load_config(tmp_path / "both.yaml")


def test_the_run_does_not_import_airflow(tmp_path: Path) -> None:
    """`mdm run` on a config with a connection: resolved from the environment, Airflow never imported."""
    from pipelines.sample import generate

    generate(tmp_path / "s", entities=20, seed=2)
    db = _with_connection(tmp_path / "s", "mdm_crm")
    code = (
        "import sys; from pipelines import runner; s = runner.run(sys.argv[1]); "
        "assert 'airflow' not in sys.modules, 'airflow imported'; print(s.ok)"
    )
    env = {"AIRFLOW_CONN_MDM_CRM": "sqlite://" + str(db).replace("/", "%2F"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s" / "mdm.yaml")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("True"), proc.stderr[-3000:]


@pytest.mark.airflow
def test_dag_reads_the_crm_through_an_airflow_connection(tmp_path: Path, airflow_db_template: Path) -> None:
    """The connection is stored in Airflow's metadata DB only (no AIRFLOW_CONN_ variable in the task's
    environment); the DAG run resolves it through Airflow and publishes the CRM's customers."""
    from pipelines.sample import generate
    from tests.dags.conftest import copy_db
    from tests.dags.test_mdm_dag import _tail, airflow_env, run_airflow

    generate(tmp_path / "s", entities=150, seed=4)
    db = _with_connection(tmp_path / "s", "mdm_crm_db")
    home = tmp_path / "home"
    copy_db(airflow_db_template, home)
    env = airflow_env(home)
    uri = "sqlite://" + str(db).replace("/", "%2F")
    add = run_airflow(["connections", "add", "mdm_crm_db", "--conn-uri", uri], env, home)
    assert add.returncode == 0, _tail(add)
    proc = run_airflow(["dags", "test", "mdm_pipeline"], env | {"MDM_CONFIG": str(tmp_path / "s" / "mdm.yaml")}, home)
    assert proc.returncode == 0, _tail(proc)

    import sqlite3

    src = sqlite3.connect(db)
    try:
        customers = {str(r[0]) for r in src.execute("SELECT source_id FROM customers")}
    finally:
        src.close()
    con = duckdb.connect(str(tmp_path / "s" / "warehouse" / "mdm.duckdb"), read_only=True)
    try:
        published = {str(r[0]) for r in con.execute("SELECT source_id FROM xref WHERE source = 'crm'").fetchall()}
    finally:
        con.close()
    assert customers and published == customers
