"""Identity keys built column by column (mdm.standardise.identity_key_table) and identifier labels computed for
all pairs at once (mdm.matching.label_pairs): the same keys, in the same order, and the same labels as the
record-by-record and pair-by-pair definitions below, on hand-made edge cases and on hypothesis-made records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm.matching import identifier_labels, label_pairs
from mdm.standardise import ID_COLUMNS, ID_SCHEMES, IDENTITY_COLUMNS, REGISTER_FORMATS, identity_keys

_MISSING = object()


def _reference_keys(std: pd.DataFrame) -> dict[str, dict[str, str]]:
    """identity_keys record by record, as it was written before it was built column by column."""
    out: dict[str, dict[str, str]] = {}
    for row in std[list(IDENTITY_COLUMNS)].itertuples(index=False):
        keys = {s: v for s, v in zip(ID_SCHEMES, row[4:]) if isinstance(v, str) and v}
        if national := keys.pop("NATIONAL", None):
            scheme, _, value = national.rpartition(":")
            keys[scheme] = value
        if row[2] in REGISTER_FORMATS:
            keys["KEY:" + row[1]] = row[3]
        out[row[0]] = keys
    return out


def _reference_labels(keys: dict[str, dict[str, str]], pairs: pd.DataFrame) -> list[int]:
    """identifier_labels pair by pair, as it was written before it was computed for all pairs at once."""
    labels = []
    for a, b in zip(pairs.rid_a, pairs.rid_b):
        ka = keys.get(a)
        kb = keys.get(b) if ka else None
        label = -1
        if ka and kb:
            for k, v in ka.items():
                w = kb.get(k, _MISSING)
                if w is _MISSING:
                    continue
                if v != w:
                    label = 0
                    break
                label = 1
        labels.append(label)
    return labels


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Records with every identity column (missing ones None)."""
    return pd.DataFrame([{c: r.get(c) for c in IDENTITY_COLUMNS} for r in rows], columns=list(IDENTITY_COLUMNS))


def _ordered(keys: dict[str, dict[str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(rid, list(k.items())) for rid, k in keys.items()]


EDGE_CASES = _frame(
    [
        # a national number whose scheme is one given before it replaces that key in its place
        {
            "rid": "a",
            "source": "crm",
            "source_format": "sql",
            "source_id": "1",
            "id_LEI": "L1",
            "id_CIK": "320193",
            "id_NATIONAL": "LEI:L2",
        },
        # a register's own key after its identifiers; an empty identifier is no key
        {
            "rid": "b",
            "source": "gleif",
            "source_format": "gleif_lei_xml",
            "source_id": "L1",
            "id_LEI": "L1",
            "id_USCC": "",
            "id_NATIONAL": "FR-SIREN:552100554",
        },
        # a national value without a scheme, and one whose scheme is a register's key: the key replaces it
        {
            "rid": "c",
            "source": "uk",
            "source_format": "companies_house_csv",
            "source_id": "08209948",
            "id_GB_COH": "08209948",
            "id_NATIONAL": "KEY:uk:1",
        },
        {"rid": "d", "source": "crm", "source_format": "sql", "source_id": "2", "id_NATIONAL": "no-scheme"},
        # missing values of every kind, and a record without any key
        {
            "rid": "e",
            "source": "crm",
            "source_format": "sql",
            "source_id": "3",
            "id_LEI": float("nan"),
            "id_USCC": pd.NA,
        },
        # a rid given twice: its last record counts
        {"rid": "f", "source": "crm", "source_format": "sql", "source_id": "4", "id_LEI": "L1"},
        {"rid": "f", "source": "crm", "source_format": "sql", "source_id": "4", "id_LEI": "L3"},
    ]
)


def test_identity_keys_edge_cases_match_the_record_by_record_definition() -> None:
    keys = identity_keys(EDGE_CASES)
    assert _ordered(keys) == _ordered(_reference_keys(EDGE_CASES))
    assert list(keys["a"].items()) == [("LEI", "L2"), ("CIK", "320193")]
    assert keys["b"] == {"LEI": "L1", "FR-SIREN": "552100554", "KEY:gleif": "L1"}
    assert list(keys["c"].items()) == [("GB-COH", "08209948"), ("KEY:uk", "08209948")]
    assert keys["d"] == {"": "no-scheme"}
    assert keys["e"] == {}
    assert keys["f"] == {"LEI": "L3"}


def test_label_pairs_edge_cases_match_the_pair_by_pair_definition() -> None:
    pairs = pd.DataFrame(
        [("a", "b"), ("b", "a"), ("b", "f"), ("a", "f"), ("c", "c"), ("e", "a"), ("a", "x"), ("d", "d")],
        columns=["rid_a", "rid_b"],
    )
    expected = _reference_labels(_reference_keys(EDGE_CASES), pairs)
    assert expected == [0, 0, 0, 0, 1, -1, -1, 1]
    assert label_pairs(EDGE_CASES, pairs).tolist() == expected
    steward = [True, None, False, float("nan"), None, 1, None, False]
    assert label_pairs(EDGE_CASES, pairs, steward).tolist() == [1, 0, 0, 0, 1, 1, -1, 0]


_VALUES = st.sampled_from([None, "", float("nan"), "1", "2", "3"])
_NATIONAL = st.sampled_from(
    [None, "", "FR-SIREN:1", "FR-SIREN:2", "LEI:1", "CIK:2", "no-scheme", ":1", "KEY:s1:1", "NATIONAL:1", "a:b:c"]
)
_RECORD = st.fixed_dictionaries(
    {
        "rid": st.sampled_from(["r1", "r2", "r3", "r4", "r5", "r6"]),
        "source": st.sampled_from(["s1", "s2"]),
        "source_format": st.sampled_from([*sorted(REGISTER_FORMATS), "sql", None]),
        "source_id": st.sampled_from(["1", "2", "3"]),
        **{c: _VALUES for c in ID_COLUMNS[:-1]},
        ID_COLUMNS[-1]: _NATIONAL,
    }
)
_RIDS = st.sampled_from(["r1", "r2", "r3", "r4", "r5", "r6", "unknown"])


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(_RECORD, max_size=10),
    pairs=st.lists(st.tuples(_RIDS, _RIDS, st.sampled_from([None, None, True, False, float("nan")])), max_size=15),
)
def test_keys_and_labels_equal_their_definitions_on_any_records(
    records: list[dict[str, object]], pairs: list[tuple[str, str, object]]
) -> None:
    std = _frame(records)
    keys = identity_keys(std)
    reference = _reference_keys(std)
    assert _ordered(keys) == _ordered(reference)
    frame = pd.DataFrame([(a, b) for a, b, _ in pairs], columns=["rid_a", "rid_b"])
    expected = _reference_labels(reference, frame)
    assert identifier_labels(reference, frame).tolist() == expected
    assert label_pairs(std, frame).tolist() == expected
    steward = [d for _, _, d in pairs]
    decided = [
        e if d is None or (isinstance(d, float) and math.isnan(d)) else int(bool(d)) for e, d in zip(expected, steward)
    ]
    labels = label_pairs(std, frame, steward)
    assert labels.dtype == np.int8 and labels.tolist() == decided
