"""Great Expectations Data Docs that work offline.

GX renders its pages with Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega ... from public CDNs; without
internet the index shows an empty list. After GX renders, :func:`localise_docs` copies the same libraries,
vendored from their npm packages with their licences (``pipelines/static/vendor/``, see its README), into
``<docs>/static/vendor/`` and rewrites every CDN link of every page to a relative path. The GX logo (an S3
image) points at the copy GX ships in ``<docs>/static/images/``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from pipelines.fileperms import restrict_tree

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

# CDN URL (as GX 1.x writes it) -> file under static/vendor/ (bootstrap-table's 1.19.0 filter-control css
# is served by the 1.19.1 package, the one its script comes from).
CDN: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/build/vega-embed.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": "bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.min.css",
}
# GX's logo on S3 (with a cache-busting query) -> the copy in the docs' own static/images.
_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?:logo-long\.png|full_logo_dark\.png)(?:\?[^\"')\s]*)?"
)
_URL = re.compile("|".join(re.escape(u) for u in sorted(CDN, key=len, reverse=True)) + r"(?=[\"'\s)>])")


def localise_html(text: str, prefix: str) -> str:
    """``text`` with every known CDN link replaced by ``<prefix>static/vendor/...`` and the GX logo by
    ``<prefix>static/images/logo-long.png`` (``prefix`` leads from the page to the docs root)."""
    text = _URL.sub(lambda m: f"{prefix}static/vendor/{CDN[m.group(0)]}", text)
    return _LOGO.sub(f"{prefix}static/images/logo-long.png", text)


def localise_docs(docs: Path) -> int:
    """Copy the vendored libraries into ``docs/static/vendor`` and rewrite the pages that still link a CDN;
    returns the number of pages rewritten."""
    docs = Path(docs)
    if not docs.is_dir():
        return 0
    # Plain copies (no mode bits from the package): owner-only like every file the run writes.
    shutil.copytree(VENDOR, docs / "static" / "vendor", dirs_exist_ok=True, copy_function=shutil.copyfile)
    restrict_tree(docs / "static" / "vendor")
    changed = 0
    for page in docs.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "https://" not in text:
            continue
        rel = os.path.relpath(docs, page.parent)
        new = localise_html(text, "" if rel == "." else rel.replace(os.sep, "/") + "/")
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed
