"""A local Airflow 3 on loopback with the project's DAGs: `make airflow` and the real-scheduler test.

Runs the scheduler, the DAG processor and the API server (UI and REST API) as separate processes, each in
its own process group, with a metadata DB in SQLite under ``AIRFLOW_HOME``, the LocalExecutor, and the
simple auth manager with one admin user whose password is generated here and written, owner-only, to the
auth manager's password file. The pool ``mdm_warehouse`` (one slot) is created.

Usage: python scripts/airflow_local.py --home .airflow --config demo/mdm.yaml [--port 8080]
       python scripts/airflow_local.py --home .airflow --stop      (from another shell; or Ctrl-C)

Ctrl-C, SIGTERM or SIGHUP (terminal closed) stop every component's process group, task processes
included. The pids are kept in ``<home>/pids.json`` while Airflow runs: ``--stop`` signals them.
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
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).with_name("airflow")
USER = "mdm"
COMPONENTS = (["scheduler"], ["dag-processor"], ["api-server"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_preload(home: Path, enabled: bool = True) -> None:
    """``<home>/config/airflow_local_settings.py``: the scheduler imports the run's modules once, so the task
    processes it forks start warm (:mod:`pipelines.airflow_preload`); removed when not ``enabled``."""
    from pipelines.airflow_preload import LOCAL_SETTINGS

    file = home / "config" / "airflow_local_settings.py"
    if not enabled:
        file.unlink(missing_ok=True)
        return
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    file.write_text(LOCAL_SETTINGS, encoding="utf-8")
    file.chmod(0o600)


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


def session_members(sid: int) -> list[int]:
    """The Airflow processes of session ``sid`` (Linux ``/proc``): a component's task processes run in
    process groups of their own within the component's session, so killing the group alone would orphan
    them. Only processes whose command line names airflow are returned (a stale pid is never someone else's)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and b"airflow" in (stat.parent / "cmdline").read_bytes():
                members.append(int(stat.parent.name))
    return members


def _signal_all(sids: list[int], sig: signal.Signals) -> None:
    for sid in sids:
        for pid in session_members(sid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)


def stop(procs: list[subprocess.Popen], grace: float = 20) -> None:
    """Stop the components: SIGTERM to each one's whole session (its workers and task processes too), wait
    up to ``grace`` seconds, then SIGKILL whatever is left, so no process outlives the launcher."""
    sids = [p.pid for p in procs]  # each component leads its own session (start_new_session)
    _signal_all(sids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(session_members(sid) for sid in sids):
        time.sleep(0.5)
    _signal_all(sids, signal.SIGKILL)
    for p in procs:
        p.wait()


class Api:
    """A minimal client of the Airflow 3 REST API (``/api/v2``) with a JWT from the simple auth manager."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = ""
        self.token = str(self.call("POST", "/auth/token", {"username": user, "password": password})["access_token"])

    def call(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode() if body is not None else None, method=method
        )
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:  # loopback URL built here
                return json.loads(r.read(10_000_000) or b"null")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: HTTP {e.code}: {e.read(2000)!r}") from None


def _launcher_alive(pid: int) -> bool:
    """Whether ``pid`` is still this script (a reused pid belongs to someone else: never signalled)."""
    try:
        return b"airflow_local" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def write_pids(home: Path, procs: list[subprocess.Popen]) -> None:
    file = home / "pids.json"
    file.write_text(json.dumps({"launcher": os.getpid(), "groups": [p.pid for p in procs]}), encoding="utf-8")
    file.chmod(0o600)


def running(home: Path) -> dict[str, Any] | None:
    """The pids of an Airflow started here that still runs, else None."""
    file = home / "pids.json"
    if not file.is_file():
        return None
    pids = json.loads(file.read_text(encoding="utf-8"))
    alive = _launcher_alive(int(pids["launcher"])) or any(session_members(int(sid)) for sid in pids["groups"])
    return pids if alive else None


def stop_running(home: Path, grace: float = 30) -> bool:
    """Stop an Airflow started by this script from another shell: SIGTERM to the launcher (which stops its
    components), SIGKILL to what is left of their sessions after ``grace`` seconds."""
    pids = running(home)
    if pids is None:
        return False
    if _launcher_alive(int(pids["launcher"])):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pids["launcher"]), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and running(home):
        time.sleep(0.5)
    _signal_all([int(pgid) for pgid in pids["groups"]], signal.SIGKILL)  # the launcher did not stop them
    (home / "pids.json").unlink(missing_ok=True)
    return True


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


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
    ap.add_argument("--stop", action="store_true", help="stop the Airflow started with this --home, then exit")
    ap.add_argument("--no-preload", action="store_true", help="do not import the run's modules in the scheduler")
    args = ap.parse_args()
    home = args.home.resolve()
    if args.stop:
        print("stopped Airflow" if stop_running(home) else f"no Airflow started from {home} is running")
        return 0
    if running(home):
        print(
            f"error: an Airflow started from {home} is running; stop it first: "
            f"python scripts/airflow_local.py --home {args.home} --stop",
            file=sys.stderr,
        )
        return 1
    if not args.config.is_file():
        print(f"error: no pipeline config at {args.config}: run `make demo` first", file=sys.stderr)
        return 1
    port = args.port or free_port()
    env = airflow_env(home, port, args.config)
    print(f"Preparing Airflow in {home} (metadata DB, pool mdm_warehouse) ...", flush=True)
    write_preload(home, not args.no_preload)
    prepare(env)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # also when started with SIGINT ignored (`&`)
        signal.signal(sig, _interrupt)
    procs = start(env, home / "logs")
    write_pids(home, procs)
    try:
        wait_healthy(port)
        print(
            f"\nAirflow UI:  http://127.0.0.1:{port}\nSign in:     user {USER}, password {password(home)}"
            f"\nDAGs:        mdm_land_sources -> mdm_pipeline (on their assets), mdm_quality (paused: unpause them)"
            f"\nMDM_CONFIG:  {args.config.resolve()}\nLogs:        {home / 'logs'}"
            f"\nStop:        Ctrl-C, or python scripts/airflow_local.py --home {args.home} --stop",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("an Airflow component stopped; see the logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping Airflow ...", flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl-C must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        stop(procs)
        (home / "pids.json").unlink(missing_ok=True)
        print("Airflow stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
