"""Great Expectations validation: the JSON suites and the Validator wrapper the runner calls."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest

from mdm.schema import ORGANIZATION, RELATIONSHIP
from mdm.survivorship import ATTRIBUTES
from pipelines.adapters import conform, get_adapter
from pipelines.validation import SUITES_DIR, SuiteError, Validator, load_suite_file
from tests.conftest import make_ctx

SOURCE_SUITES = ("gleif_lei_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds", "sql")


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(docs_dir=tmp_path_factory.mktemp("docs"))


def org_frame(n: int = 20, **cols: object) -> pd.DataFrame:
    """A clean canonical organization frame of n rows (GLEIF-shaped keys)."""
    f = pd.DataFrame({c: pd.Series([None] * n, dtype="object") for c in ORGANIZATION})
    f["source_id"] = [f"5493{i:014d}{i % 90 + 10:02d}" for i in range(n)]
    f["name"] = [f"Company {i} Ltd" for i in range(n)]
    f["country"] = "GB"
    f["incorporated_on"] = "2001-02-03"
    f["updated_at"] = "2024-05-06T07:08:09Z"
    f["opened_on"] = "2019-12-31"
    f["src_line"] = pd.Series(range(1, n + 1), dtype="Int64")
    for c, v in cols.items():
        f[c] = v
    return f


def test_every_suite_file_loads_and_is_well_formed() -> None:
    files = sorted(SUITES_DIR.glob("*.json"))
    names = {p.stem for p in files}
    assert set(SOURCE_SUITES) | {"gleif_rr_xml", "organization_record", "golden_organization"} <= names
    v = Validator()
    assert set(v.suites) == names
    for p in files:
        spec = load_suite_file(p).spec
        levels = {e["meta"]["level"] for e in spec["expectations"]}
        assert levels == {"row", "batch"}, p.name
        types = {e["type"] for e in spec["expectations"]}
        assert "expect_table_columns_to_match_set" in types, p.name
        assert "expect_table_row_count_to_be_between" in types, p.name


@pytest.mark.parametrize("suite", SOURCE_SUITES)
def test_source_suites_check_the_whole_canonical_schema(suite: str) -> None:
    spec = json.loads((SUITES_DIR / f"{suite}.json").read_text())
    schema = next(e for e in spec["expectations"] if e["type"] == "expect_table_columns_to_match_set")
    assert schema["kwargs"]["column_set"] == list(ORGANIZATION)
    rules = {e["meta"].get("rule") for e in spec["expectations"]}
    assert {"source_id_not_null", "name_not_null"} <= rules


@pytest.mark.parametrize("suite", SOURCE_SUITES)
def test_a_good_frame_passes_every_source_suite(validator: Validator, suite: str) -> None:
    out = validator.validate(suite, org_frame(), batch=suite, run_id="run-good")
    assert out.success, out.batch_failures
    assert out.row_failures.empty
    assert list(out.row_failures.columns) == ["row", "rule", "column", "value"]
    assert out.statistics["evaluated_expectations"] >= 7
    assert out.statistics["unsuccessful_expectations"] == 0
    assert out.statistics["rows"] == 20


def test_bad_rows_are_named_with_rule_and_value(validator: Validator) -> None:
    f = org_frame(10)
    f.loc[2, "source_id"] = None
    f.loc[5, "name"] = None
    f.loc[7, "incorporated_on"] = "03/02/2001"
    f.loc[8, "updated_at"] = "yesterday"
    f.index = range(100, 110)  # a non-default index: failures are still positions into the frame
    out = validator.validate(
        "gleif_lei_xml",
        f,
        batch="gleif",
        run_id="run-bad",
        params={"name_mostly": 0.5, "unique_mostly": 0.5, "lei_shape_mostly": 0.5},
    )
    got = sorted(map(tuple, out.row_failures[["row", "rule", "column", "value"]].values.tolist()))
    assert got == [
        (2, "source_id_not_null", "source_id", None),
        (5, "name_not_null", "name", None),
        (7, "incorporated_on_iso_date", "incorporated_on", "03/02/2001"),
        (8, "updated_at_iso_date", "updated_at", "yesterday"),
    ]
    assert out.failed_rows() == [2, 5, 7, 8]
    assert out.success  # batch-level rates were relaxed for this batch
    assert out.statistics["failed_rows"] == 4


def test_row_count_outside_bounds_fails_with_observed_value(validator: Validator) -> None:
    out = validator.validate(
        "companies_house_csv", org_frame(20), batch="uk", run_id="run-count", params={"min_rows": 50, "max_rows": 100}
    )
    assert not out.success
    [fail] = [b for b in out.batch_failures if b["expectation"] == "expect_table_row_count_to_be_between"]
    assert fail["observed"] == 20
    assert "50" in fail["detail"] and "100" in fail["detail"]
    too_many = validator.validate(
        "companies_house_csv", org_frame(20), batch="uk", run_id="run-count", params={"min_rows": 1, "max_rows": 10}
    )
    assert [b["observed"] for b in too_many.batch_failures] == [20]
    inside = validator.validate(
        "companies_house_csv", org_frame(20), batch="uk", run_id="run-count", params={"min_rows": 20, "max_rows": 20}
    )
    assert inside.success


def test_duplicate_keys_fail_only_beyond_mostly(validator: Validator) -> None:
    f = org_frame(100)
    f.loc[1, "source_id"] = f.loc[0, "source_id"]  # one duplicate pair: 2 of 100 values unexpected
    tolerant = validator.validate("cn_registry_csv", f, batch="cn", run_id="run-dup", params={"unique_mostly": 0.95})
    assert tolerant.success
    strict = validator.validate("cn_registry_csv", f, batch="cn", run_id="run-dup")  # default unique_mostly 0.999
    assert not strict.success
    [fail] = strict.batch_failures
    assert fail["expectation"] == "expect_column_values_to_be_unique"
    assert fail["column"] == "source_id"
    assert fail["observed"] == pytest.approx(2.0)
    assert strict.row_failures.empty  # uniqueness is batch-level: the loader dedups, not the validator


def test_missing_name_rate_fails_the_batch(validator: Validator) -> None:
    f = org_frame(10)
    f.loc[:4, "name"] = None
    out = validator.validate("sql", f, batch="crm", run_id="run-names")
    assert not out.success
    assert [(b["expectation"], b["column"]) for b in out.batch_failures] == [
        ("expect_column_values_to_not_be_null", "name")
    ]
    assert out.failed_rows() == [0, 1, 2, 3, 4]


def test_a_missing_column_fails_the_schema_check(validator: Validator) -> None:
    f = org_frame().drop(columns=["incorporated_on", "extra"])
    out = validator.validate("sec_fsds", f, batch="sec", run_id="run-schema")
    assert not out.success
    schema = [b for b in out.batch_failures if b["expectation"] == "expect_table_columns_to_match_set"]
    assert len(schema) == 1
    assert "incorporated_on" in schema[0]["detail"] and "extra" in schema[0]["detail"]
    assert "incorporated_on" not in schema[0]["observed"]


def test_a_missing_column_used_by_a_row_rule_is_reported_not_raised(validator: Validator) -> None:
    f = org_frame().drop(columns=["incorporated_on"])
    out = validator.validate("gleif_lei_xml", f, batch="gleif", run_id="run-schema")
    errored = [b for b in out.batch_failures if b["column"] == "incorporated_on"]
    assert errored and errored[0]["detail"].startswith("could not be evaluated")
    assert not out.success


def test_lei_shape_is_a_batch_rate(validator: Validator) -> None:
    f = org_frame(10)
    f.loc[3, "source_id"] = "not-an-lei"
    assert not validator.validate("gleif_lei_xml", f, batch="gleif", run_id="run-lei").success
    assert validator.validate(
        "gleif_lei_xml", f, batch="gleif", run_id="run-lei", params={"lei_shape_mostly": 0.9}
    ).success


def test_relationship_suite(validator: Validator) -> None:
    n = 6
    f = pd.DataFrame({c: pd.Series([None] * n, dtype="object") for c in RELATIONSHIP})
    f["child_id"] = [f"5493{i:014d}{i + 10:02d}" for i in range(n)]
    f["parent_id"] = "529900T8BM49AURSDO55"
    f["relationship_type"] = "IS_DIRECTLY_CONSOLIDATED_BY"
    f["start_date"] = "2020-01-01"
    f["src_line"] = pd.Series(range(1, n + 1), dtype="Int64")
    assert validator.validate("gleif_rr_xml", f, batch="gleif_rr", run_id="run-rr").success
    f.loc[4, "parent_id"] = None
    f.loc[5, "child_id"] = f.loc[0, "child_id"]
    out = validator.validate("gleif_rr_xml", f, batch="gleif_rr", run_id="run-rr")
    assert out.row_failures[["row", "rule"]].values.tolist() == [[4, "parent_id_not_null"]]
    assert [b["expectation"] for b in out.batch_failures] == ["expect_compound_columns_to_be_unique"]


def test_golden_and_record_suites(validator: Validator) -> None:
    golden = pd.DataFrame(
        {
            "golden_id": ["G1", "G2", "G3"],
            "record_count": [1, 3, 0],
            "source_count": [1, 2, 0],
            "sources": ["a", "a,b", ""],
            "legal_name": ["A", None, "C"],
            "country": ["GB", "XX", None],
        }
    )
    for attr in ATTRIBUTES:
        if attr not in golden:
            golden[attr] = None
    out = validator.validate(
        "golden_organization", golden, batch="golden", run_id="run-golden", params={"legal_name_mostly": 0.5}
    )
    assert out.row_failures[["row", "rule", "value"]].values.tolist() == [
        [1, "country_alpha2", "XX"],
        [1, "legal_name_not_null", None],
        [2, "record_count_at_least_1", 0],
    ]
    assert out.success
    golden.loc[2, "golden_id"] = "G1"
    assert [
        b["column"]
        for b in validator.validate(
            "golden_organization", golden, batch="golden", run_id="run-golden", params={"legal_name_mostly": 0.5}
        ).batch_failures
    ] == ["golden_id"]

    rec = org_frame(3)
    for c in (
        "rid",
        "name_core",
        "legal_form_norm",
        "country_iso",
        "city_norm",
        "postal_norm",
        "address_norm",
        "branch_flag",
        "id_LEI",
        "id_USCC",
        "id_CN_REG",
        "id_GB_COH",
        "id_CIK",
        "golden_id",
    ):
        rec[c] = None
    rec["rid"] = ["s:1", "s:2", "s:3"]
    rec["golden_id"] = ["G1", None, "G2"]
    rec["country_iso"] = ["GB", "CN", "UK"]
    out = validator.validate("organization_record", rec, batch="records", run_id="run-golden")
    assert out.row_failures[["row", "rule", "value"]].values.tolist() == [
        [1, "golden_id_not_null", None],
        [2, "country_iso_alpha2", "UK"],
    ]
    assert out.success


def test_unknown_suite_or_parameter_is_an_error(validator: Validator) -> None:
    with pytest.raises(SuiteError, match="unknown suite"):
        validator.validate("nope", org_frame(), batch="x", run_id="r")
    with pytest.raises(SuiteError, match="min_row"):
        validator.validate("sql", org_frame(), batch="x", run_id="r", params={"min_row": 1})


def test_malformed_suite_files_are_rejected(tmp_path: Path) -> None:
    ok = json.loads((SUITES_DIR / "sql.json").read_text())
    bad = json.loads(json.dumps(ok))
    bad["expectations"][0]["meta"] = {"level": "row"}  # no rule
    (tmp_path / "sql.json").write_text(json.dumps(bad))
    with pytest.raises(SuiteError, match=r"meta\.rule"):
        Validator(suites_dir=tmp_path)
    bad = json.loads(json.dumps(ok))
    del bad["meta"]["parameters"]["min_rows"]
    (tmp_path / "sql.json").write_text(json.dumps(bad))
    with pytest.raises(SuiteError, match="min_rows"):
        Validator(suites_dir=tmp_path)
    bad = json.loads(json.dumps(ok))
    bad["expectations"][0]["type"] = "expect_column_values_to_be_lovely"
    (tmp_path / "sql.json").write_text(json.dumps(bad))
    with pytest.raises(SuiteError, match=r"expectation 0 .expect_column_values_to_be_lovely"):
        Validator(suites_dir=tmp_path)
    (tmp_path / "sql.json").write_text(json.dumps(ok | {"name": "other"}))
    with pytest.raises(SuiteError, match="'name' must be 'sql'"):
        Validator(suites_dir=tmp_path)


def test_data_docs_show_every_validation_also_across_validators(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    first = Validator(docs_dir=docs)
    first.validate("sql", org_frame(), batch="crm", run_id="run-a")
    # A second validator (e.g. a later Airflow task of the same run) renders the first one's results too.
    second = Validator(docs_dir=docs)
    second.validate("companies_house_csv", org_frame(), batch="uk", run_id="run-a")
    index = second.build_docs()
    assert index == docs / "index.html"
    html = index.read_text()
    assert "sql" in html and "companies_house_csv" in html and "run-a" in html
    pages = [p.relative_to(docs / "validations").as_posix() for p in (docs / "validations").rglob("*.html")]
    assert any(p.startswith("sql/run-a/") for p in pages), pages
    assert any(p.startswith("companies_house_csv/run-a/") for p in pages), pages
    assert (docs / "expectations" / "gleif_lei_xml.html").is_file()  # every suite is documented
    assert Validator().build_docs() is None


def test_validating_100k_rows_takes_seconds(validator: Validator) -> None:
    f = org_frame(100_000)
    f.loc[::10, "incorporated_on"] = "bad"
    out = validator.validate("gleif_lei_xml", f, batch="gleif-big", run_id="run-big")
    assert len(out.row_failures) == 10_000
    assert out.statistics["seconds"] < 20


REAL_FILES = [
    ("gleif_lei_xml", "gleif/bodspipelines-lei-data.xml", 13),
    ("gleif_rr_xml", "gleif/bodspipelines-rr-data.xml", 10),
    ("companies_house_csv", "uk-companies-house/companieshr-basiccompanydata-1000.csv", 1_000),
    ("sec_fsds", "sec-fsds/2009q3.zip", None),
    ("cn_registry_csv", "cn-enterprise-registry/cn-enterprise-registration-1998-all-provinces.csv", 78_242),
]


@functools.cache
def landed(realdata: Path, fmt: str, rel: str) -> pd.DataFrame:
    """A real file as the runner lands it: adapter batches conformed to the canonical table (cached; read only)."""
    ctx = make_ctx(name=fmt, format=fmt, path=str(realdata / rel))
    table = "relationship" if fmt == "gleif_rr_xml" else "organization"
    parts = [conform(b.table, b.frame, ctx) for b in get_adapter(fmt)(ctx) if b.table == table]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.realdata
@pytest.mark.parametrize(("fmt", "rel", "rows"), REAL_FILES)
def test_real_landings_pass_their_suites(
    validator: Validator, realdata: Path, fmt: str, rel: str, rows: int | None
) -> None:
    frame = landed(realdata, fmt, rel)
    if rows is not None:
        assert len(frame) == rows
    out = validator.validate(fmt, frame, batch=f"real-{fmt}", run_id="run-real")
    assert out.success, out.batch_failures
    assert out.row_failures.empty


@pytest.mark.realdata
def test_real_chinese_register_duplicate_key_fails_a_strict_batch(validator: Validator, realdata: Path) -> None:
    # The extract has one USCC on two rows: tolerated by the default rate (the loader dedups), not by 1.0.
    frame = landed(realdata, "cn_registry_csv", REAL_FILES[-1][1])
    out = validator.validate(
        "cn_registry_csv", frame, batch="real-cn", run_id="run-real", params={"unique_mostly": 1.0}
    )
    assert [(b["expectation"], b["column"]) for b in out.batch_failures] == [
        ("expect_column_values_to_be_unique", "source_id")
    ]
    assert out.batch_failures[0]["detail"].startswith("2 of 78242 values unexpected")
