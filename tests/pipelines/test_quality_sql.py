"""The quality metrics computed in DuckDB are those of mdm.quality over the same rows."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from mdm import quality as dq
from mdm.schema import ORGANIZATION
from pipelines import quality_sql


def _records() -> pd.DataFrame:
    rows = [
        {
            "source": "gleif",
            "source_format": "gleif_lei_xml",
            "source_id": "529900T8BM49AURSDO55",
            "name": "Alpha AG",
            "lei": "529900T8BM49AURSDO55",
            "country": "DE",
            "registration_number": "HRB 12345",
            "registration_authority": "RA000242",
            "incorporated_on": "2001-02-03",
            "postal_code": "10115",
        },
        {
            "source": "gleif",
            "source_format": "gleif_lei_xml",
            "source_id": "529900T8BM49AURSDO56",
            "name": "Alpha AG",
            "lei": "529900T8BM49AURSDO56",
            "country": "DE",
            "registration_number": "HRB 12345",
            "registration_authority": "RA000242",
            "incorporated_on": "03/02/2001",
            "postal_code": "1011",
        },
        {
            "source": "gleif",
            "source_format": "gleif_lei_xml",
            "source_id": "bad",
            "name": " ",
            "lei": None,
            "country": "XX",
            "registration_number": None,
            "incorporated_on": None,
        },
        {
            "source": "cn",
            "source_format": "cn_registry_csv",
            "source_id": "91110000600037341L",
            "name": "北京公司",
            "uscc": "91110000600037341L",
            "country": "CN",
            "registration_number": "110000000000001",
        },
        {
            "source": "cn",
            "source_format": "cn_registry_csv",
            "source_id": "91110000600037341X",
            "name": "x",
            "uscc": "91110000600037341X",
            "country": "CN",
            "registration_number": "110000000000001",
        },
        {
            "source": "uk",
            "source_format": "companies_house_csv",
            "source_id": "01234567",
            "name": "Beta Ltd",
            "country": "GB",
            "postal_code": "SW1A 1AA",
            "registration_number": "01234567",
            "jurisdiction": "GB",
        },
        {
            "source": "uk",
            "source_format": "companies_house_csv",
            "source_id": "01234567",
            "name": "Beta Ltd",
            "country": "GB",
            "postal_code": "nope",
            "registration_number": "SC123456",
            "jurisdiction": "GB",
        },
        {
            "source": "crm",
            "source_format": "sql",
            "source_id": "C1",
            "name": "Gamma",
            "cik": "320193",
            "ein": "12-3456789",
            "opened_on": "2019-12-31",
            "updated_at": "2024-01-01T00:00:00",
        },
        # Blank as Python's str.strip() sees it (Unicode spaces, separators), or not (a zero-width space):
        # presence is counted in SQL and must agree.
        {
            "source": "crm",
            "source_format": "sql",
            "source_id": "C2",
            "name": "\u3000",
            "city": "\x1c\t",
            "address": "\u00a0\u2028",
            "postal_code": "\u200b",
        },
        {
            "source": "crm",
            "source_format": "sql",
            "source_id": "C3",
            "name": "\u200b",
            "city": " Leeds ",
            "address": " ",
            "country": "\u3000",
        },
    ]
    f = pd.DataFrame(rows)
    for c in ORGANIZATION:
        if c not in f:
            f[c] = None
    return f[list(ORGANIZATION)].astype(object).where(f[list(ORGANIZATION)].notna(), None)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.register("records", _records())
    yield c
    c.close()


def test_metrics_are_those_of_the_domain_core(con: duckdb.DuckDBPyConnection) -> None:
    expected = dq.metrics(_records())
    got = quality_sql.metrics(con, "records")
    assert len(expected) > 40
    pd.testing.assert_frame_equal(got, expected)


def test_identifier_classes_are_those_of_the_domain_core(con: duckdb.DuckDBPyConnection) -> None:
    expected = dq.identifier_classes(_records())
    got = quality_sql.identifier_classes(con, "records")
    assert {"lei", "uscc", "registration_number"} <= set(expected["attribute"])
    pd.testing.assert_frame_equal(got, expected)
