"""mdm.comparison: the city and address similarities, computed once per distinct pair of values, equal to the
last bit recordlinkage's per-pair comparison (the code before the optimisation) on real Companies House
addresses, unknown values included."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import recordlinkage as rl
from rapidfuzz import fuzz
from recordlinkage.base import BaseCompareFeature

from mdm.comparison import compare
from mdm.schema import ORGANIZATION
from mdm.standardise import standardise_records


class RefTokenSimilarity(BaseCompareFeature):
    """The address feature as it was: token-set similarity per pair."""

    def _compute_vectorized(self, s_left: pd.Series, s_right: pd.Series) -> pd.Series:
        out = np.full(len(s_left), np.nan)
        for i, (a, b) in enumerate(zip(s_left.to_numpy(), s_right.to_numpy())):
            if isinstance(a, str) and isinstance(b, str) and a and b:
                out[i] = fuzz.token_set_ratio(a, b) / 100.0
        return pd.Series(out, index=s_left.index)


def ref_location(std: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    s = std.set_index("rid")
    frame = s[["country_iso", "city_norm", "postal_norm", "address_norm"]]
    frame = frame.mask(frame.isna() | (frame == ""))
    cmp = rl.Compare()
    cmp.exact("country_iso", "country_iso", label="country", missing_value=np.nan)
    cmp.string("city_norm", "city_norm", method="jarowinkler", label="city", missing_value=np.nan)
    cmp.exact("postal_norm", "postal_norm", label="postal", missing_value=np.nan)
    cmp.add(RefTokenSimilarity("address_norm", "address_norm", label="address"))
    return cmp.compute(pd.MultiIndex.from_arrays([pairs.rid_a.values, pairs.rid_b.values]), frame)


def test_location_features_equal_recordlinkages_per_pair_comparison_on_real_addresses(realdata: Path) -> None:
    path = realdata / "uk-companies-house/companieshr-basiccompanydata-1000.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:160]
    records = [
        {c: None for c in ORGANIZATION}
        | {
            "source": "s",
            "source_format": "sql",
            "source_id": f"{i:04d}",
            "name": row["CompanyName"],
            "country": "GB",
            # every fifth record without a town, every seventh without a street: unknown, not different
            "city": None if i % 5 == 0 else row["RegAddress.PostTown"],
            "address": None if i % 7 == 0 else row["RegAddress.AddressLine1"],
            "postal_code": row["RegAddress.PostCode"],
        }
        for i, row in enumerate(rows)
    ]
    std = standardise_records(pd.DataFrame(records, dtype=object))
    rids = sorted(std["rid"])
    pairs = pd.DataFrame([(a, b) for a in rids for b in rids if a < b], columns=["rid_a", "rid_b"])
    got = compare(std, pairs, {})
    want = ref_location(std, pairs).reset_index(drop=True)
    for col in ("country", "city", "postal", "address"):
        assert got[col].dtype == want[col].dtype, col
        assert [struct.pack("<d", v) for v in got[col]] == [struct.pack("<d", v) for v in want[col]], col
    assert got["city"].dtype == got["address"].dtype == np.float64
    # the sample holds what the features must tell apart: equal, similar, different and unknown values
    city = got["city"]
    assert (city == 1.0).sum() > 100 and ((city > 0) & (city < 1)).sum() > 1000 and city.isna().sum() > 1000
    assert got["address"].isna().sum() > 1000 and ((got["address"] > 0.5) & (got["address"] < 1)).sum() > 10
