"""Data Docs work offline: CDN links rewritten to vendored copies; the index lists results with no network."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipelines import runner
from pipelines.offline_docs import CDN, VENDOR, localise_html
from pipelines.sample import generate
from tests.conftest import sample_config
from tests.pipelines.test_report import chrome

RESULTS_TABLE = "#section-1-content-block-2-1-body-table tbody tr"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("docs")
    generate(base / "sample", entities=150, seed=2)
    cfg = sample_config(
        base / "sample", base / "wh", base / "mdm.yaml", marts={"fx_rates": str(base / "sample" / "fx_rates.csv")}
    )
    runner.run(cfg)
    return (base / "wh" / "docs").resolve()


def test_every_cdn_file_is_vendored_with_its_licence() -> None:
    for rel in CDN.values():
        assert (VENDOR / rel).is_file(), rel
        pkg = VENDOR / rel.split("/")[0]
        assert (pkg / "package.json").is_file()
    assert len(list(VENDOR.glob("*/LICENSE*"))) >= 7


def test_pages_link_no_cdn(docs: Path) -> None:
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        external = set(re.findall(r"(?:src|href)=\"(https?://[^\"]+)\"", text))
        # Only plain links to greatexpectations.io remain (anchors, not loaded resources).
        assert all(u.startswith("https://greatexpectations.io") for u in external), (page, external)
        for src in re.findall(r"src=\"([^\"]+)\"", text):
            assert (page.parent / src.split("?")[0]).resolve().is_file(), (page, src)


def test_localise_html_keeps_unknown_urls() -> None:
    html = '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script><a href="https://example.org/x">'
    out = localise_html(html, "../")
    assert 'src="../static/vendor/jquery-3.7.1/dist/jquery.min.js"' in out and "https://example.org/x" in out


@pytest.mark.browser
def test_index_lists_validation_results_without_network(docs: Path, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    def rows(d: Any) -> list[tuple[str, float]]:
        """(text, height) of the results table's rows, read in one step (the table re-renders as it loads)."""
        return [
            tuple(r)
            for r in d.execute_script(
                "return Array.from(document.querySelectorAll(arguments[0]))"
                ".map(r => [r.innerText, r.getBoundingClientRect().height]);",
                RESULTS_TABLE,
            )
        ]

    # The same site with the CDN links put back: without network its list stays empty (what users saw).
    online = tmp_path / "online"
    shutil.copytree(docs, online)
    index = online / "index.html"
    text = index.read_text(encoding="utf-8")
    for url, rel in CDN.items():
        text = text.replace(f"static/vendor/{rel}", url)
    index.write_text(text, encoding="utf-8")
    driver = chrome(tmp_path)
    try:
        driver.get((docs / "index.html").as_uri())
        WebDriverWait(driver, 20).until(lambda d: any("mdm-" in t for t, _ in rows(d)))
        listed = [(t, h) for t, h in rows(driver) if "mdm-" in t]
        assert len(listed) >= 3 and all(h > 0 for _, h in listed), listed
        driver.get(index.as_uri())
        assert not [t for t, _ in rows(driver) if "mdm-" in t]
    finally:
        driver.quit()
