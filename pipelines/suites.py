"""Where the Great Expectations suites live and which suite checks which source format.

A light module (no Great Expectations import): the validation stage, the GX wrapper
(:mod:`pipelines.validation`) and the source fingerprints all read it.
"""

from __future__ import annotations

from pathlib import Path

# The GX suites, as version-controlled JSON (expectations/suites/<suite>.json).
SUITES_DIR = Path(__file__).resolve().parents[1] / "expectations" / "suites"
# Which suite checks which canonical table of a source format: format -> (suite, table).
SUITES: dict[str, tuple[str, str]] = {
    "gleif_lei_xml": ("gleif_lei_xml", "organization"),
    "gleif_rr_xml": ("gleif_rr_xml", "relationship"),
    "companies_house_csv": ("companies_house_csv", "organization"),
    "cn_registry_csv": ("cn_registry_csv", "organization"),
    "sec_fsds": ("sec_fsds", "organization"),
    "sql": ("sql", "organization"),
}
