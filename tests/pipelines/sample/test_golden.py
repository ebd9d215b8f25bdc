"""The generator's output does not drift: ``mdm generate --entities 2000 --seed 7`` gives exactly the sample
the reference code gave (the hashes below were computed with the generator of main at a42bfa1, before issue
15 gave the CRM writer a larger SQLite page cache). Benchmarks and the figures in docs/benchmarks.md are only
comparable across versions while this holds; a deliberate change of the sample must update the hashes and
say so in its commit."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from pipelines.sample import generate

# sha256 of every data file; the CRM database by its tables' rows in rowid order (the file's bytes depend on
# the SQLite version). mdm.yaml and fx_rates.csv are configuration copied next to the sample, not generated.
EXPECTED = {
    "churn_truth.csv": "6c3347ba8bcb834617e9f685ab023c46a25b7e6c982131754b96adf33573cf9f",
    "crm.sqlite:accounts": "af47211b6e920918209c89b6494fc9749c5dbf8d254bcb18fbe4459fbe06d101",
    "crm.sqlite:balances": "3cb0a14700d517ca6852e127b05e8a4c3d236dbbca8064403d7b69fcf34ecf7a",
    "crm.sqlite:customers": "7c51a759429faeb5f0588f3e7e2ea51b29f6c1e25f9e90aa77435ff486651731",
    "financials/num.txt": "8de585519415f1c5e6ac89d6e85a3809765bcdb69790ca654d5c331a3f53b4c3",
    "financials/sub.txt": "f8cb0da45dc52ee25a684a9018f63cf776098359ad311cf8a2b097a857075f6f",
    "registry/cn_registry.csv": "0f030d090b193c11faf28b07e631afbcdc91ec164d4ff4099f93d31e547b124d",
    "registry/gleif_lei2.xml": "e04be2e9fd278ae42ff1a11ddb4f89f78265f559f37148b800aaaf3e8be0eda9",
    "registry/gleif_rr.xml": "4b06a6a08dacda0f717915c9ed12dd503e57e8a8c856a7ec9554eb50409093c2",
    "registry/uk_basiccompany.csv": "4782cda0b154f515d9780e9ef8cd32234316c644cf2d0b257e4005a96465826c",
    "truth.csv": "5f754e03f555364c3e4f493bae19b97ad22a9ba69ac91217fdbf50f75111ad35",
}
NOT_GENERATED = {"mdm.yaml", "fx_rates.csv"}


def fingerprint(world: Path) -> dict[str, str]:
    out = {}
    for p in sorted(world.rglob("*")):
        name = str(p.relative_to(world))
        if p.is_file() and p.suffix != ".sqlite" and name not in NOT_GENERATED:
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    con = sqlite3.connect(world / "internal" / "crm.sqlite")
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for t in tables:  # names read from the database's own catalog
            h = hashlib.sha256()
            for row in con.execute(f'SELECT * FROM "{t}" ORDER BY rowid'):
                h.update(repr(row).encode())
            out[f"crm.sqlite:{t}"] = h.hexdigest()
    finally:
        con.close()
    return out


def test_the_sample_is_the_one_the_reference_generator_made(tmp_path: Path) -> None:
    counts = generate(tmp_path / "s", 2000, seed=7)
    assert counts["crm_balances"] == 14_588 and counts["crm_accounts"] == 2_733
    got = fingerprint(tmp_path / "s")
    assert got == EXPECTED, sorted(k for k in EXPECTED.keys() | got.keys() if got.get(k) != EXPECTED.get(k))
