"""The pipeline config written next to the sample: every source of the sample world.

The CRM queries select the columns of the CRM contract (and each table's audit stamp, the change column).
"""

from __future__ import annotations

from pipelines.adapters.crm_contract import AUDIT_COLUMN, TABLES
from pipelines.sample.crm_db import sample_columns

_HEAD = """\
warehouse: warehouse
sources:
  - {name: gleif, format: gleif_lei_xml, path: registry/gleif_lei2.xml}
  - {name: gleif_rr, format: gleif_rr_xml, path: registry/gleif_rr.xml}
  - {name: cn_registry, format: cn_registry_csv, path: registry/cn_registry.csv}
  - {name: uk_registry, format: companies_house_csv, path: registry/uk_basiccompany.csv}
  - {name: sec, format: sec_fsds, path: financials}
  - name: crm
    format: sql
    url: sqlite:///internal/crm.sqlite
    queries:
"""
_QUERIES = "".join(
    f'      {t.key}: "SELECT {", ".join(c.name for c in sample_columns(t))} FROM {t.key}"\n' for t in TABLES
)
_CHANGES = "    changes: {" + ", ".join(f"{t.key}: {AUDIT_COLUMN.name}" for t in TABLES) + "}\n"

# Analyst marts: balances reported in EUR with the illustrative rates copied next to the sample.
_MARTS = "marts: {reporting_currency: EUR, fx_rates: fx_rates.csv}\n"

MDM_YAML = _HEAD + _QUERIES + _CHANGES + _MARTS
