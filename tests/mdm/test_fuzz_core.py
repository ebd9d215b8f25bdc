"""Fuzzing the pure core (issue 12, point 7): identifier checks and name standardisation take any text
(controls, NUL, any script, astral planes, huge repetitions) and return a result of the documented type,
never an exception or a hang."""

from __future__ import annotations

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from mdm import address, identifiers, standardise
from mdm.schema import TABLES
from tests.fuzz_helpers import no_hang

# Any text, plus text near the formats the functions look for (identifier alphabets, CJK names, legal forms).
near = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY -./", max_size=24),
    st.text(alphabet="有限公司股份集团分公司深圳市上海（）()科技银行 ", max_size=20),
    st.lists(
        st.sampled_from(
            [
                "ACME",
                "Holdings",
                "Ltd",
                "Limited",
                "GmbH",
                "& Co.",
                "KG",
                "(UK)",
                "Branch",
                "S.A.",
                "Intl",
                "有限公司",
                "分公司",
                "（深圳）",
                "Société",
                "ООО",
                "Hldgs",
            ]
        ),
        max_size=8,
    ).map(" ".join),
)
maybe = st.one_of(st.none(), near)

ID_CHECKS = (
    identifiers.valid_lei,
    identifiers.valid_uscc,
    identifiers.legacy_cn_registration,
    identifiers.companies_house_number,
    identifiers.valid_cik,
    identifiers.valid_ein,
    identifiers.valid_de_register,
)


@given(maybe)
def test_identifier_checks_return_a_valid_form_or_none(value: str | None) -> None:
    with no_hang():
        for check in ID_CHECKS:
            out = check(value)
            assert out is None or (isinstance(out, str) and out), check.__name__
            if out is not None:
                assert check(out) == out, check.__name__  # a valid form stays valid
        assert isinstance(identifiers.classify_cn_code(value), str)


@given(maybe, maybe)
def test_name_standardisation_returns_its_types(name: str | None, country: str | None) -> None:
    with no_hang():
        core, form = standardise.split_legal_form(name)
        assert isinstance(core, str) and (form is None or isinstance(form, str))
        assert isinstance(standardise.name_core(name), str)
        assert all(isinstance(q, str) for q in standardise.name_qualifiers(name))
        assert isinstance(standardise.is_branch(name), bool)
        assert all(isinstance(t, str) for t in standardise.tokens(standardise.name_core(name)))
        cc = standardise.country_code(country)
        assert cc is None or (isinstance(cc, str) and len(cc) == 2)
        assert isinstance(address.postcode(name, cc), str)
        assert isinstance(address.address(name, cc, country), str)
        assert isinstance(address.postcode_valid(country, cc), bool)


COLUMNS = list(TABLES["organization"])
row = st.fixed_dictionaries({c: maybe for c in COLUMNS})


@given(st.lists(row, min_size=1, max_size=5))
@example(rows=[dict.fromkeys(COLUMNS) | {"other_names": "0"}])  # found: JSON that is not a list crashed
def test_standardise_records_takes_any_rows(rows: list[dict]) -> None:
    for i, r in enumerate(rows):
        r["source"] = r["source"] or "src"
        r["source_id"] = f"{r['source_id']}-{i}"
    frame = pd.DataFrame(rows, columns=COLUMNS).astype(object)
    with no_hang():
        out = standardise.standardise_records(frame)
    assert len(out) == len(rows)
    assert out["rid"].is_unique
    assert all(isinstance(a, list) for a in out["aliases"])
