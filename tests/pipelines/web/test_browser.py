"""The workbench in a real browser (Debian's headless Chromium + chromedriver, installed by
tests/browser.sh): sign in, open the queue, open a pair, decide with a reason, apply decisions, and see
the changed golden record. Screenshots of the queue and the pair view go to docs/screenshots/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.config import load_config
from tests.pipelines.web.conftest import PASSWORD, copy_warehouse

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(web_sample: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The workbench on 127.0.0.1 and a free port, in a thread of this process; always stopped."""
    import uvicorn

    from pipelines.web import create_app

    cfg = copy_warehouse(web_sample, tmp_path)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(load_config(cfg)), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not srv.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the workbench did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", cfg
    finally:
        srv.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("chromium / chromedriver not on PATH (tests/browser.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=en-GB",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.set_page_load_timeout(60)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _golden_of(cfg: Path, rid: str) -> str:
    con = duckdb.connect(str(load_config(cfg).warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute("SELECT golden_id FROM xref WHERE rid = $r", {"r": rid}).fetchone()[0]
    finally:
        con.close()


def _wait_flash(driver, text: str, seconds: float = 45) -> None:
    """Wait until the page (after a form post and redirect) shows a flash message containing ``text``."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d) -> bool:
        try:
            return any(text in e.text for e in d.find_elements(By.ID, "flash"))
        except StaleElementReferenceException:
            return False

    WebDriverWait(driver, seconds, poll_frequency=0.1).until(shown, f"no message {text!r}")


def test_review_a_pair_in_the_browser(server: tuple[str, Path], browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, cfg = server
    d = browser
    d.get(url + "/review")
    assert "/signin" in d.current_url
    d.find_element(By.ID, "name").send_keys("stew")
    d.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    assert d.find_element(By.TAG_NAME, "h1").text == "Review queue"
    d.find_element(By.CSS_SELECTOR, "select[name=kind] option[value=pair]").click()
    d.find_element(By.CSS_SELECTOR, "#filters button").click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.get(url + "/review")
    d.find_element(By.TAG_NAME, "body").send_keys("j")  # keyboard: select the first item
    d.save_screenshot(str(SHOTS / "queue.png"))
    d.get(url + "/review?kind=pair")
    link = d.find_element(By.CSS_SELECTOR, "#queue a.open")
    link.click()
    assert d.find_element(By.TAG_NAME, "h1").text == "Pair"
    a, b = (
        e.get_attribute("value")
        for e in d.find_elements(By.CSS_SELECTOR, "#decide input[name=a], #decide input[name=b]")
    )
    assert _golden_of(cfg, a) != _golden_of(cfg, b)
    assert d.find_elements(By.CSS_SELECTOR, "#contributions tr")
    d.save_screenshot(str(SHOTS / "pair.png"))
    # keyboard: m asks for the reason first, Enter then submits the match
    d.find_element(By.TAG_NAME, "body").send_keys("m")
    reason = d.switch_to.active_element
    assert reason.get_attribute("id") == "reason"
    reason.send_keys("Same company: one address, the CRM name is a trading name" + Keys.ENTER)
    _wait_flash(d, "recorded (match) by stew")
    d.find_element(By.ID, "apply").click()
    _wait_flash(d, "Decisions applied")
    assert _golden_of(cfg, a) == _golden_of(cfg, b)  # published: the two records are one golden record now
    d.get(url + f"/golden/{_golden_of(cfg, a)}")
    records = d.find_element(By.ID, "records").text
    assert a in records and b in records
