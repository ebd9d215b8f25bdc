"""The pipeline config written next to the sample: every source of the sample world."""

from __future__ import annotations

from pipelines.sample.crm_db import ACCOUNT_COLUMNS, BALANCE_COLUMNS, CUSTOMER_COLUMNS

MDM_YAML = """\
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
      customers: "SELECT %s FROM customers"
      accounts: "SELECT %s, updated_at FROM accounts"
      balances: "SELECT %s, updated_at FROM balances"
    changes: {customers: updated_at, accounts: updated_at, balances: updated_at}
""" % (", ".join(CUSTOMER_COLUMNS), ", ".join(ACCOUNT_COLUMNS), ", ".join(BALANCE_COLUMNS))
