"""National register and tax numbers as (scheme, value) (mdm.registers), on real companies' public numbers
and on the real GLEIF golden-copy delta; their use as deterministic links and cannot-links."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from mdm.clustering import cluster
from mdm.matching import deterministic_pairs
from mdm.registers import RA_CODES, classify
from mdm.schema import ORGANIZATION
from mdm.standardise import identity_keys, record_identifiers, standardise_records

# Public register numbers of well-known companies (their registers' public extracts).
SBERBANK_OGRN, SBERBANK_INN = "1027700132195", "7707083893"  # ПАО Сбербанк
GAZPROM_OGRN, GAZPROM_INN = "1027700070518", "7736050003"  # ПАО «Газпром»
LUKOIL_OGRN = "1027700035769"  # ПАО «ЛУКОЙЛ»
NAFTOGAZ_EDRPOU, UKRNAFTA_EDRPOU = "20077720", "00135390"  # НАК «Нафтогаз України», ПАТ «Укрнафта»
TOTAL_SIREN, MICHELIN_SIREN = "542051180", "855200887"  # TotalEnergies SE, Michelin (CGEM)
PHILIPS_KVK, ING_KVK = "17001910", "33231073"  # Koninklijke Philips N.V., ING Groep N.V.


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        (SBERBANK_OGRN, "RU", ("RU-OGRN", SBERBANK_OGRN)),
        (SBERBANK_INN, "RU", ("RU-INN", SBERBANK_INN)),
        ("1027700132196", "RU", ("unrecognised:RU", None)),  # OGRN with a wrong check digit
        (NAFTOGAZ_EDRPOU, "UA", ("UA-EDRPOU", NAFTOGAZ_EDRPOU)),
        ("20077721", "UA", ("unrecognised:UA", None)),
        ("542 051 180", "FR", ("FR-SIREN", TOTAL_SIREN)),
        ("542 051 181", "FR", ("unrecognised:FR", None)),
        ("17001910", "NL", ("NL-KVK", PHILIPS_KVK)),
        ("München HRB 6684", "DE", ("DE-HR", "München HRB 6684")),  # Siemens AG
        ("Amtsgericht München HRB 6684", "DE", ("DE-HR", "München HRB 6684")),
        ("HRB 6684", "DE", ("unrecognised:DE", None)),  # no court: unique only within one court
        ("12345", "US", (None, None)),  # no scheme known for the country
    ],
)
def test_a_number_gets_its_scheme_from_the_country_and_its_check(
    value: str, country: str, expected: tuple[str | None, str | None]
) -> None:
    assert classify(value, country) == expected


def test_an_explicit_scheme_or_ra_code_decides_and_its_check_still_applies() -> None:
    assert classify(SBERBANK_INN, "RU", scheme="RU-INN") == ("RU-INN", SBERBANK_INN)
    assert classify(SBERBANK_INN, "RU", scheme="RU-OGRN") == ("RU-OGRN", None)  # 10 digits are no OGRN
    assert classify("519273320", None, authority="RA000189") == ("FR-SIREN", "519273320")
    # A German court's register: the RA code scopes the court-less number; another court, another scheme.
    assert classify("HRB 237237", "DE", authority="RA000304") == ("RA000304", "HRB237237")
    assert classify("HRB 237237", "DE", authority="RA000273") == ("RA000273", "HRB237237")
    # GLEIF's "no register" codes name no scheme.
    assert classify("123", "DE", authority="RA999999") == ("unrecognised:DE", None)


def test_the_ra_codes_hold_valid_numbers_of_their_scheme_in_the_real_gleif_delta(realdata: Path) -> None:
    data = json.loads((realdata / "gleif/goldencopy-lei2-intra-day-20240505-0000.json").read_text(encoding="utf-8"))
    seen: Counter[tuple[str, bool]] = Counter()
    with_number = 0
    for rec in data["records"]:
        ra = rec["Entity"].get("RegistrationAuthority", {})
        code = ra.get("RegistrationAuthorityID", {}).get("$")
        number = ra.get("RegistrationAuthorityEntityID", {}).get("$")
        if not number:
            continue
        with_number += 1
        scheme, value = classify(number, rec["Entity"]["LegalJurisdiction"]["$"][:2], code)
        assert scheme is not None
        if code in RA_CODES:
            seen[(scheme, value is not None)] += 1
    assert with_number == 553  # as the realdata README says
    # Every number filed under a mapped RA code passes its scheme's check (recounted per scheme).
    assert not [k for k in seen if not k[1]]
    assert seen[("FR-SIREN", True)] == 41 and seen[("BE-KBO", True)] == 41 and seen[("NO-ORGNR", True)] == 24
    assert seen[("NL-KVK", True)] == 6 and seen[("UA-EDRPOU", True)] == 1


def frame(*rows: dict) -> pd.DataFrame:
    full = [{c: None for c in ORGANIZATION} | {"source": "crm", "source_format": "sql"} | r for r in rows]
    return standardise_records(pd.DataFrame(full, dtype=object))


def test_equal_numbers_of_one_scheme_link_and_different_ones_never_cluster() -> None:
    std = frame(
        {"source_id": "1", "name": "ПАО Сбербанк", "country": "RU", "registration_number": SBERBANK_OGRN},
        {
            "source": "bank2",
            "source_id": "2",
            "name": "Sberbank of Russia",
            "country": "RU",
            "registration_number": SBERBANK_OGRN,
        },
        {"source_id": "3", "name": "ПАО «Газпром»", "country": "RU", "registration_number": GAZPROM_OGRN},
        {"source_id": "4", "name": "ПАО «ЛУКОЙЛ»", "country": "RU", "registration_number": LUKOIL_OGRN},
        {"source_id": "5", "name": "TotalEnergies SE", "country": "FR", "registration_number": TOTAL_SIREN},
        {"source_id": "6", "name": "Koninklijke Philips N.V.", "country": "NL", "registration_number": PHILIPS_KVK},
        {"source_id": "7", "name": "ING Groep N.V.", "country": "NL", "registration_number": ING_KVK},
        {"source_id": "8", "name": "Naftogaz", "country": "UA", "registration_number": "20077721"},  # bad check
    )
    assert std["id_NATIONAL"].tolist() == [
        f"RU-OGRN:{SBERBANK_OGRN}",
        f"RU-OGRN:{SBERBANK_OGRN}",
        f"RU-OGRN:{GAZPROM_OGRN}",
        f"RU-OGRN:{LUKOIL_OGRN}",
        f"FR-SIREN:{TOTAL_SIREN}",
        f"NL-KVK:{PHILIPS_KVK}",
        f"NL-KVK:{ING_KVK}",
        None,
    ]
    assert std["invalid_ids"].tolist()[-1] == ["registration_number"]  # flagged, never used
    det = deterministic_pairs(std)
    assert det[["rid_a", "rid_b", "rule"]].values.tolist() == [["bank2:2", "crm:1", "id:RU-OGRN"]]
    keys = identity_keys(std)
    assert keys["crm:3"] == {"RU-OGRN": GAZPROM_OGRN} and keys["crm:7"] == {"NL-KVK": ING_KVK}
    # Scored "matches" between different OGRNs, or different KvK numbers, are refused whatever the chain.
    scored = pd.DataFrame(
        {
            "rid_a": ["crm:1", "crm:3", "crm:6"],
            "rid_b": ["crm:3", "crm:4", "crm:7"],
            "score": [0.99, 0.98, 0.97],
            "band": ["match"] * 3,
        }
    )
    clusters, refused = cluster(std["rid"], keys, det, scored)
    by_rid = dict(zip(clusters["rid"], clusters["cluster_key"]))
    assert by_rid["crm:1"] == by_rid["bank2:2"]
    assert len({by_rid["crm:1"], by_rid["crm:3"], by_rid["crm:4"]}) == 3
    assert by_rid["crm:6"] != by_rid["crm:7"]
    assert refused == 3


def test_a_scheme_given_by_the_source_and_gleif_ra_codes_meet() -> None:
    # The CRM names the scheme (registration_scheme -> registration_authority) and GLEIF the register's RA
    # code: one SIREN, one legal entity.
    gleif = {
        "source": "gleif",
        "source_format": "gleif_lei_xml",
        "source_id": "969500KSV493XWY0PS54",
        "registration_number": "855 200 887",
        "registration_authority": "RA000189",
        "country": "FR",
    }
    crm = {"source_format": "sql", "registration_number": MICHELIN_SIREN, "registration_authority": "FR-SIREN"}
    assert record_identifiers(gleif)["NATIONAL"] == record_identifiers(crm)["NATIONAL"] == f"FR-SIREN:{MICHELIN_SIREN}"


def test_no_two_records_sharing_a_national_number_gives_no_pairs() -> None:
    std = frame(
        {"source_id": "1", "name": "TotalEnergies SE", "country": "FR", "registration_number": TOTAL_SIREN},
        {"source_id": "2", "name": "Michelin", "country": "FR", "registration_number": MICHELIN_SIREN},
    )
    assert deterministic_pairs(std).empty
