"""The DAGs on a real Airflow 3: scheduler, DAG processor and API server on loopback (scripts/airflow_local.py).

Triggers `mdm_land_sources` through the REST API; its per-source asset events must schedule `mdm_pipeline`,
which must publish. Then one middle task (`match`) is cleared through the API and must succeed again
without changing the warehouse, and the warehouse's cross-reference must hold exactly the source records
listed in the sample's truth.csv (counted independently from the CSV).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 600  # seconds for each DAG run to finish (a loaded 2-core machine needs minutes)


def _local() -> Any:
    spec = importlib.util.spec_from_file_location("airflow_local", ROOT / "scripts" / "airflow_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Api:
    """A minimal client of the Airflow 3 REST API with a JWT from /auth/token."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = self._call("POST", "/auth/token", {"username": user, "password": password}, auth=False)[
            "access_token"
        ]

    def _call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: HTTP {e.code}: {e.read()[:2000]!r}") from None

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("PATCH", path, body)


def _wait(what: str, probe: Any, timeout: float, logs: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(2)
    tails = "\n".join(f"--- {p.name} ---\n" + p.read_text(errors="replace")[-3000:] for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory, airflow_db_template: Path) -> Iterator[dict[str, Any]]:
    from pipelines.sample import generate
    from tests.dags.conftest import copy_db

    local = _local()
    tmp = tmp_path_factory.mktemp("airflow_scheduler")
    generate(tmp / "sample", entities=300, seed=3)
    home = tmp / "home"
    port = local.free_port()
    env = local.airflow_env(home, port, tmp / "sample" / "mdm.yaml")
    copy_db(airflow_db_template, home)
    local.write_preload(home)  # as `make airflow`: tasks forked from a scheduler that imported the run
    local.prepare(env, migrate=False)
    procs = local.start(env, home / "logs")
    try:
        local.wait_healthy(port)
        api = Api(port, local.USER, local.password(home))
        yield {
            "api": api,
            "sample": tmp / "sample",
            "logs": home / "logs",
            "procs": procs,
            "user": local.USER,
            "password": local.password(home),
        }
    finally:
        local.stop(procs)  # every component's process group, task processes included


def _dag_runs(api: Api, dag_id: str) -> list[dict[str, Any]]:
    return api.get(f"/api/v2/dags/{dag_id}/dagRuns?order_by=-start_date")["dag_runs"]


def _finished(api: Api, dag_id: str, run_id: str) -> str | None:
    state = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
    return state if state in ("success", "failed") else None


def _xref(sample: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(sample / "warehouse" / "mdm.duckdb"), read_only=True)
    try:
        return set(con.execute("SELECT source, source_id FROM xref").fetchall())
    finally:
        con.close()


@pytest.mark.airflow
def test_real_scheduler_runs_clears_and_publishes(airflow: dict[str, Any]) -> None:
    api: Api = airflow["api"]
    logs: Path = airflow["logs"]
    for dag_id in ("mdm_land_sources", "mdm_pipeline"):
        _wait(
            f"the DAG processor to register {dag_id}",
            lambda d=dag_id: any(x["dag_id"] == d for x in api.get("/api/v2/dags")["dags"]),
            120,
            logs,
        )
        api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})

    land = api.post("/api/v2/dags/mdm_land_sources/dagRuns", {"logical_date": None, "conf": {}})
    state = _wait(
        "mdm_land_sources to finish", lambda: _finished(api, "mdm_land_sources", land["dag_run_id"]), TIMEOUT, logs
    )
    assert state == "success"

    # The per-source asset events (alias mdm_sources) scheduled the match-merge-publish DAG. (Unpausing may
    # also have created the run of the last cron time; max_active_runs=1 runs them one after the other.)
    runs = _wait(
        "an asset-triggered mdm_pipeline run",
        lambda: [r for r in _dag_runs(api, "mdm_pipeline") if r["run_type"] == "asset_triggered"],
        TIMEOUT,
        logs,
    )
    run_id = runs[0]["dag_run_id"]
    state = _wait("mdm_pipeline to finish", lambda: _finished(api, "mdm_pipeline", run_id), 2 * TIMEOUT, logs)
    assert state == "success"
    events = api.get("/api/v2/assets/events?source_dag_id=mdm_land_sources")["asset_events"]
    assert {e["extra"]["source"] for e in events} == {"gleif", "gleif_rr", "cn_registry", "uk_registry", "sec", "crm"}

    # The cross-reference holds exactly the source records of the truth file (counted from the CSV).
    with open(airflow["sample"] / "truth.csv", newline="", encoding="utf-8") as f:
        truth = {(r["source"], r["source_id"]) for r in csv.DictReader(f)}
    xref = _xref(airflow["sample"])
    assert len(xref) == len(truth) and xref == truth
    # Every file and folder the tasks (separate processes, umask inherited from the scheduler) made is owner-only.
    from pipelines.fileperms import loose_paths

    assert loose_paths(airflow["sample"] / "warehouse") == []

    # Clear a middle task through the API: it runs again, succeeds, and changes nothing.
    before = api.get(f"/api/v2/dags/mdm_pipeline/dagRuns/{run_id}/taskInstances/match")
    api.post(
        "/api/v2/dags/mdm_pipeline/clearTaskInstances",
        {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": ["match"],
            "only_failed": False,
            "include_downstream": False,
            "reset_dag_runs": True,
        },
    )

    def rerun() -> dict[str, Any] | None:
        ti = api.get(f"/api/v2/dags/mdm_pipeline/dagRuns/{run_id}/taskInstances/match")
        return ti if ti["try_number"] > before["try_number"] and ti["state"] in ("success", "failed") else None

    ti = _wait("the cleared match task to run again", rerun, TIMEOUT, logs)
    assert ti["state"] == "success"
    assert _wait("mdm_pipeline to finish again", lambda: _finished(api, "mdm_pipeline", run_id), 60, logs) == "success"
    assert _xref(airflow["sample"]) == truth


@pytest.mark.airflow
@pytest.mark.browser
def test_ui_shows_the_dag_docs_and_assets(airflow: dict[str, Any], tmp_path: Path) -> None:
    """In the Airflow UI (headless Chromium), after the run above: the DAG list, mdm_pipeline's doc_md and the
    assets page with the warehouse asset and the per-source assets."""
    import shutil

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("chromium / chromedriver not on PATH (tests/browser.sh installs them)")
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    api: Api = airflow["api"]
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1500,1000",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.set_page_load_timeout(120)
    wait = WebDriverWait(driver, 120)

    def shows(text: str) -> bool:
        return text in driver.find_element(By.TAG_NAME, "body").text

    try:
        driver.get(api.base + "/auth/login")
        wait.until(lambda d: d.find_elements(By.NAME, "username"))
        driver.find_element(By.NAME, "username").send_keys(airflow["user"])
        driver.find_element(By.NAME, "password").send_keys(airflow["password"])
        driver.find_element(By.XPATH, "//button[@type='submit']").click()
        wait.until(lambda d: "/auth/login" not in d.current_url)

        driver.get(api.base + "/dags")
        wait.until(lambda d: all(shows(x) for x in ("mdm_land_sources", "mdm_pipeline", "mdm_quality")))
        driver.save_screenshot(str(tmp_path / "airflow-dags.png"))

        driver.get(api.base + "/dags/mdm_pipeline")
        docs = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "button[aria-label='Dag Docs']"))
        docs[0].click()
        wait.until(lambda d: shows("MDM match-merge-publish") and shows("Safe to retry and clear."))
        driver.save_screenshot(str(tmp_path / "airflow-pipeline-docs.png"))

        # The assets list is fetched by the page once: load it again if an asset registered after that.
        for attempt in range(3):
            driver.get(api.base + "/assets")
            try:
                wait.until(lambda d: shows("mdm_warehouse") and shows("mdm_source_crm"))
                break
            except TimeoutException:
                if attempt == 2:
                    raise
        driver.save_screenshot(str(tmp_path / "airflow-assets.png"))
    finally:
        driver.quit()
