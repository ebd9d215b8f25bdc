"""A local Airflow 3 on loopback with the project's DAGs: `make airflow` and the real-scheduler test.

Runs the scheduler, the DAG processor and the API server (UI and REST API) as separate processes, each in
its own process group, with a metadata DB in SQLite under ``AIRFLOW_HOME``, the LocalExecutor, and the
simple auth manager with one admin user whose password is generated here and written, owner-only, to the
auth manager's password file. The pool ``mdm_warehouse`` (one slot) is created.

Usage: python scripts/airflow_local.py --home .airflow --config demo/mdm.yaml [--port 8080]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).with_name("airflow")
USER = "mdm"
COMPONENTS = (["scheduler"], ["dag-processor"], ["api-server"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def airflow_env(home: Path, port: int, config: Path) -> dict[str, str]:
    """The environment of every Airflow process: no AIRFLOW_* variable is inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "MDM_CONFIG"}
    secrets_file = home / "secrets.json"
    if secrets_file.is_file():
        keys = json.loads(secrets_file.read_text(encoding="utf-8"))
    else:
        keys = {"jwt": secrets.token_urlsafe(32), "api": secrets.token_urlsafe(32)}
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        secrets_file.write_text(json.dumps(keys), encoding="utf-8")
        secrets_file.chmod(0o600)
    base = f"http://127.0.0.1:{port}"
    env.update(
        AIRFLOW_HOME=str(home),
        MDM_CONFIG=str(config.resolve()),
        PYTHONPATH=str(ROOT),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{base}/execution/",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=base,
        AIRFLOW__API__SECRET_KEY=keys["api"],
        AIRFLOW__API_AUTH__JWT_SECRET=keys["jwt"],
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def password(home: Path) -> str:
    """The admin password (generated once, owner-only file read by the simple auth manager)."""
    file = home / "passwords.json"
    if not file.is_file():
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        file.write_text(json.dumps({USER: secrets.token_urlsafe(16)}), encoding="utf-8")
        file.chmod(0o600)
    return str(json.loads(file.read_text(encoding="utf-8"))[USER])


def prepare(env: dict[str, str], timeout: int = 900, migrate: bool = True) -> None:
    """Migrate the metadata DB (unless given a migrated one) and create the warehouse pool."""
    password(Path(env["AIRFLOW_HOME"]))
    steps = [["db", "migrate"]] if migrate else []
    for args in [*steps, ["pools", "set", "mdm_warehouse", "1", "MDM: one writer of the warehouse"]]:
        proc = subprocess.run(
            [str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def start(env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    """Start the components, each in its own session (process group), logging to ``logs/<name>.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    for args in COMPONENTS:
        with open(logs / f"{args[0]}.log", "ab") as log:
            procs.append(
                subprocess.Popen(
                    [str(AIRFLOW), *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=env["AIRFLOW_HOME"],
                )
            )
    return procs


def stop(procs: list[subprocess.Popen], grace: float = 15) -> None:
    """Terminate each component's whole process group (its task processes too), then kill what is left."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):  # the group may outlive its leader (task processes)
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def wait_healthy(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # loopback URL built here
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"the Airflow API server did not answer on {url} within {timeout:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=ROOT / ".airflow")
    ap.add_argument("--config", type=Path, default=ROOT / "demo" / "mdm.yaml")
    ap.add_argument("--port", type=int, default=0, help="API server port (default: a free one)")
    args = ap.parse_args()
    if not args.config.is_file():
        print(f"error: no pipeline config at {args.config}: run `make demo` first", file=sys.stderr)
        return 1
    home = args.home.resolve()
    port = args.port or free_port()
    env = airflow_env(home, port, args.config)
    print(f"Preparing Airflow in {home} (metadata DB, pool mdm_warehouse) ...", flush=True)
    prepare(env)
    procs = start(env, home / "logs")
    try:
        wait_healthy(port)
        print(
            f"\nAirflow UI:  http://127.0.0.1:{port}\nSign in:     user {USER}, password {password(home)}"
            f"\nDAGs:        mdm_land_sources -> mdm_pipeline (on their assets), mdm_quality (paused: unpause them)"
            f"\nMDM_CONFIG:  {args.config.resolve()}\nLogs:        {home / 'logs'}\nCtrl-C stops Airflow.",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("an Airflow component stopped; see the logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
