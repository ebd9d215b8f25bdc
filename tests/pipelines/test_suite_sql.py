"""The SQL evaluation of the suites gives Great Expectations' own outcome, case by case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd
import pytest

from mdm.schema import RELATIONSHIP
from mdm.survivorship import ATTRIBUTES
from pipelines.suite_files import Outcome, SuiteError
from pipelines.suite_sql import SUPPORTED, evaluate
from pipelines.validation import Validator
from tests.pipelines.test_validation import org_frame


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def _rel_frame() -> pd.DataFrame:
    n = 6
    f = pd.DataFrame({c: pd.Series([None] * n, dtype="object") for c in RELATIONSHIP})
    f["child_id"] = [f"5493{i:014d}{i + 10:02d}" for i in range(n)]
    f["parent_id"] = "529900T8BM49AURSDO55"
    f["relationship_type"] = "IS_DIRECTLY_CONSOLIDATED_BY"
    f["start_date"] = "2020-01-01"
    f["src_line"] = pd.Series(range(1, n + 1), dtype="Int64")
    return f


def _golden() -> pd.DataFrame:
    g = pd.DataFrame(
        {
            "golden_id": ["G1", "G2", "G3", "G1"],
            "record_count": [1, 3, 0, 2],
            "source_count": [1, 2, 0, 1],
            "sources": ["a", "a,b", "", "b"],
            "legal_name": ["A", None, "C", "D"],
            "country": ["GB", "XX", None, "GB"],
        }
    )
    for attr in ATTRIBUTES:
        if attr not in g:
            g[attr] = None
    return g


def _edit(f: pd.DataFrame, fn: Callable[[pd.DataFrame], None]) -> pd.DataFrame:
    f = f.copy()
    fn(f)
    return f


def _bad_rows(f: pd.DataFrame) -> None:
    f.loc[2, "source_id"] = None
    f.loc[5, "name"] = None
    f.loc[7, "incorporated_on"] = "03/02/2001"
    f.loc[8, "updated_at"] = "yesterday"
    f.loc[9, "updated_at"] = "\u0662\u0660\u0662\u0664-01-01"  # Arabic-Indic digits: \d matches them in Python


def _dups(f: pd.DataFrame) -> None:
    f.loc[1, "source_id"] = f.loc[0, "source_id"]
    f.loc[3, "source_id"] = "not-an-lei"
    f.loc[:2, "name"] = None
    f.loc[4, "country"] = None


def _rr_bad(f: pd.DataFrame) -> None:
    f.loc[4, "parent_id"] = None
    f.loc[5, "child_id"] = f.loc[0, "child_id"]
    f.loc[3, "end_date"] = "soon"


CASES = [
    ("gleif_lei_xml", org_frame(10), None),
    (
        "gleif_lei_xml",
        _edit(org_frame(10), _bad_rows),
        {"name_mostly": 0.5, "unique_mostly": 0.5, "lei_shape_mostly": 0.5},
    ),
    ("gleif_lei_xml", _edit(org_frame(10), _bad_rows), None),
    ("gleif_lei_xml", _edit(org_frame(10), _dups), {"min_rows": 50, "max_rows": 100}),
    ("gleif_lei_xml", org_frame(0), None),
    ("companies_house_csv", org_frame(20), {"min_rows": 1, "max_rows": 10}),
    (
        "cn_registry_csv",
        _edit(org_frame(100), lambda f: f.__setitem__("source_id", [*["k"] * 2, *f["source_id"][2:]])),
        None,
    ),
    ("sql", _edit(org_frame(10), lambda f: f.loc.__setitem__((slice(None, 4), "name"), None)), None),
    ("sql", _edit(org_frame(10), lambda f: f.__setitem__("source_id", None)), None),
    ("sec_fsds", org_frame().drop(columns=["incorporated_on", "extra"]), None),
    ("sec_fsds", org_frame().assign(surplus="x"), None),
    ("gleif_lei_xml", org_frame().drop(columns=["incorporated_on"]), None),
    ("gleif_rr_xml", _rel_frame(), None),
    ("gleif_rr_xml", _edit(_rel_frame(), _rr_bad), None),
    ("golden_organization", _golden(), {"legal_name_mostly": 0.5}),
    ("golden_organization", _golden().drop(columns=["branch"]), None),
]


def _sql_outcome(suite: str, frame: pd.DataFrame, params: dict | None, validator: Validator, **kw: Any) -> Outcome:
    con = duckdb.connect()
    con.register("v", frame.reset_index(drop=True).assign(_row=range(len(frame))))
    try:
        return evaluate(con, validator.suites[suite], "v", batch="b", run_id="r", params=params, **kw)
    finally:
        con.close()


@pytest.mark.parametrize("case", range(len(CASES)))
def test_sql_evaluation_gives_the_gx_outcome(validator: Validator, case: int) -> None:
    suite, frame, params = CASES[case]
    gx = validator.validate(suite, frame, batch="b", run_id="r", params=params)
    sql = _sql_outcome(suite, frame, params, validator)
    assert sql.success == gx.success
    assert sql.row_failures.values.tolist() == gx.row_failures.values.tolist()
    assert sql.batch_failures == gx.batch_failures
    for k in ("evaluated_expectations", "successful_expectations", "unsuccessful_expectations", "success_percent"):
        assert sql.statistics[k] == gx.statistics[k], k
    assert (sql.statistics["rows"], sql.statistics["failed_rows"]) == (
        gx.statistics["rows"],
        gx.statistics["failed_rows"],
    )


@pytest.mark.parametrize("level", ["row", "batch"])
def test_one_level_gives_the_gx_outcome_of_that_level(validator: Validator, level: str) -> None:
    frame = _edit(org_frame(10), _bad_rows)
    gx = validator.validate("gleif_lei_xml", frame, batch="b", run_id="r", level=level)
    sql = _sql_outcome("gleif_lei_xml", frame, None, validator, level=level)
    assert sql.row_failures.values.tolist() == gx.row_failures.values.tolist()
    assert sql.batch_failures == gx.batch_failures
    assert sql.statistics["evaluated_expectations"] == gx.statistics["evaluated_expectations"]


def test_checked_rows_limit_the_row_rules_only(validator: Validator) -> None:
    frame = _edit(org_frame(10), _bad_rows).assign(_checked=[i >= 6 for i in range(10)])
    out = _sql_outcome("gleif_lei_xml", frame, None, validator, checked="_checked")
    assert out.failed_rows() == [7, 8]  # rows 2 and 5 are bad, but not checked; row 9 has Unicode digits
    assert "_checked" not in str(out.batch_failures)  # not a column of the data
    assert {b["column"] for b in out.batch_failures} == {"name"}  # batch rules see every row (1 of 10 names missing)


def test_every_suite_expectation_has_an_sql_evaluation(validator: Validator) -> None:
    kinds = {e["type"] for s in validator.suites.values() for e in s.spec["expectations"]}
    assert kinds <= SUPPORTED


def test_unknown_parameters_are_refused(validator: Validator) -> None:
    with pytest.raises(SuiteError, match="no parameters"):
        _sql_outcome("sql", org_frame(3), {"min_row": 1}, validator)


def test_row_rules_of_checked_rows_judge_only_their_values(
    validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change-captured load: the values Python judges for the row rules are those of the rows read again,
    not every distinct value of the landing (the verdicts of the others were thrown away)."""
    import pipelines.suite_sql as suite_sql

    judged: list[Any] = []
    make = suite_sql._predicate

    def counting(kind: str, kwargs: Any) -> Callable[[Any], bool] | None:
        p = make(kind, kwargs)
        return None if p is None else (lambda v: judged.append(v) or p(v))

    monkeypatch.setattr(suite_sql, "_predicate", counting)
    frame = _edit(org_frame(10), _bad_rows).assign(_checked=[i >= 6 for i in range(10)])
    out = _sql_outcome("gleif_lei_xml", frame, None, validator, checked="_checked", level="row")
    assert out.failed_rows() == [7, 8]
    checked_values = {v for c in frame.columns for v in frame.loc[frame["_checked"], c] if v is not None}
    assert judged and set(judged) <= checked_values
    assert len(judged) < len({v for c in frame.columns for v in frame[c] if v is not None and isinstance(v, str)})
