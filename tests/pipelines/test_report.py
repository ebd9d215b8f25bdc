"""`mdm report`: one self-contained HTML file whose charts render in headless Chromium with no network."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines import runner
from pipelines.cli import app
from pipelines.sample import generate
from tests.conftest import sample_config

ENTITIES, SEED = 400, 5


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(report.html, warehouse database) of a generated sample, written by the CLI."""
    base = tmp_path_factory.mktemp("report")
    generate(base / "sample", entities=ENTITIES, seed=SEED)
    cfg = sample_config(
        base / "sample", base / "wh", base / "mdm.yaml", marts={"fx_rates": str(base / "sample" / "fx_rates.csv")}
    )
    runner.run(cfg)
    res = CliRunner().invoke(app, ["report", "--config", str(cfg), "--out", str(base / "out")])
    assert res.exit_code == 0, res.output
    return base / "out" / "report.html", base / "wh" / "mdm.duckdb"


def test_report_is_self_contained_and_shows_the_watchlist(report: tuple[Path, Path]) -> None:
    path, db = report
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o077 == 0
    # Nothing is loaded from anywhere: no script, no stylesheet or image link, no external URL but SVG's namespace.
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert html.count('<svg class="chart"') >= 10
    con = duckdb.connect(str(db), read_only=True)
    try:
        top = con.execute(
            "SELECT legal_name FROM churn_watchlist ORDER BY group_total_balance DESC, golden_id LIMIT 1"
        ).fetchone()[0]
        tiers = [t for (t,) in con.execute("SELECT DISTINCT tier FROM customer_tier").fetchall()]
    finally:
        con.close()
    assert top.replace("&", "&amp;").replace("'", "&#39;") in html
    for t in tiers:
        assert f">{t}</text>" in html


def test_report_fails_cleanly_without_a_warehouse(tmp_path: Path) -> None:
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(
        f"warehouse: {tmp_path / 'wh'}\nsources:\n  - {{name: s, format: sec_fsds, path: x}}\n", encoding="utf-8"
    )
    res = CliRunner().invoke(app, ["report", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 1 and "no published warehouse" in res.output and "Traceback" not in res.output


def chrome(tmp_path: Path):
    """Headless Chromium through the Debian chromedriver, every network request sent to a dead proxy."""
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.skip("chromium/chromedriver not on PATH (bash tests/browser.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,2400",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={tmp_path / 'chrome'}",
    ):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))


@pytest.mark.browser
def test_report_charts_render_offline_in_chromium(report: tuple[Path, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    path, _ = report
    driver = chrome(tmp_path)
    try:
        blank = tmp_path / "blank.html"
        blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
        driver.get(blank.as_uri())
        blank_png = driver.get_screenshot_as_png()
        driver.get(path.as_uri())
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) >= 10
        for c in charts:
            assert c.size["width"] > 100 and c.size["height"] > 30, c.get_attribute("aria-label")
        bars = [b for b in driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar") if b.size["width"] > 0]
        assert len(bars) >= 20
        sparks = driver.find_elements(By.CSS_SELECTOR, "table.watchlist svg.spark polyline")
        assert sparks and all(s.size["width"] > 0 for s in sparks)
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    assert png != blank_png and len(png) > 3 * len(blank_png)
