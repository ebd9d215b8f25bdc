"""Fuzzing every source adapter (issue 12, point 7): any input ends in rows or a clear SourceError naming
the source and file, never another exception, a traceback or a hang.

Inputs are random bytes, well-formed documents filled with arbitrary Unicode, and byte mutations
(replace, insert, delete, truncate, duplicate) of small valid seed files of each format."""

from __future__ import annotations

import csv
import io
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from pipelines.adapters import conform, get_adapter
from pipelines.errors import SourceError
from tests.conftest import make_ctx
from tests.fuzz_helpers import mutated, no_hang, texts

LEI_NS = "http://www.gleif.org/data/schema/leidata/2016"
RR_NS = "http://www.gleif.org/data/schema/rr/2016"


def outcome(fmt: str, path: Path | None = None, **source: object) -> int | SourceError:
    """Run an adapter to the end (conforming each batch as the loader does): the row count, or the
    SourceError it raised. Any other exception fails the test."""
    if path is not None:
        source["path"] = path
    ctx = make_ctx(format=fmt, **source)
    rows = 0
    try:
        with no_hang():
            for batch in get_adapter(fmt)(ctx):
                if not batch.keys_only:
                    rows += len(conform(batch.table, batch.frame, ctx))
    except SourceError as e:
        assert e.source == "src" and str(e).startswith("source 'src'")
        return e
    return rows


def in_file(data: bytes, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    path = folder / name
    path.write_bytes(data)
    return path


def zipped(data: bytes, member: str, name: str) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
    return in_file(buf.getvalue(), name)


# --- GLEIF ----------------------------------------------------------------------------------------


def lei_doc(records: list[dict[str, str]]) -> bytes:
    body = []
    for r in records:
        fields = "".join(f"<lei:{k}>{escape(v)}</lei:{k}>" for k, v in r.items() if k in ("LEI",))
        entity = "".join(
            f"<lei:{k}>{escape(v)}</lei:{k}>"
            for k, v in r.items()
            if k in ("LegalName", "LegalJurisdiction", "EntityStatus", "LegalForm")
        )
        address = "".join(
            f"<lei:{k}>{escape(v)}</lei:{k}>"
            for k, v in r.items()
            if k in ("FirstAddressLine", "City", "Country", "PostalCode")
        )
        body.append(
            f"<lei:LEIRecord>{fields}<lei:Entity>{entity}<lei:LegalAddress>{address}</lei:LegalAddress>"
            f"</lei:Entity><lei:Registration><lei:InitialRegistrationDate>{escape(r.get('Date', ''))}"
            f"</lei:InitialRegistrationDate></lei:Registration></lei:LEIRecord>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><lei:LEIData xmlns:lei="{LEI_NS}"><lei:LEIRecords>'
        + "\n".join(body)
        + "</lei:LEIRecords></lei:LEIData>"
    ).encode("utf-8", "surrogatepass")


LEI_FIELDS = (
    "LEI",
    "LegalName",
    "LegalJurisdiction",
    "EntityStatus",
    "LegalForm",
    "FirstAddressLine",
    "City",
    "Country",
    "PostalCode",
    "Date",
)
lei_records = st.lists(st.dictionaries(st.sampled_from(LEI_FIELDS), texts, max_size=len(LEI_FIELDS)), max_size=4)
LEI_SEED = lei_doc(
    [
        {
            "LEI": "5493001KJTIIGC8Y1R12",
            "LegalName": "ACME Trading Ltd",
            "Country": "GB",
            "City": "London",
            "Date": "2012-06-06T15:53:00Z",
        },
        {"LEI": "549300HXA4VQ15SVIY50", "LegalName": "上海浦东发展银行股份有限公司", "Country": "CN"},
    ]
)


def rr_doc(records: list[dict[str, str]]) -> bytes:
    body = "".join(
        f"<rr:RelationshipRecord><rr:Relationship><rr:StartNode><rr:NodeID>{escape(r.get('start', ''))}</rr:NodeID>"
        f"<rr:NodeIDType>LEI</rr:NodeIDType></rr:StartNode><rr:EndNode><rr:NodeID>{escape(r.get('end', ''))}"
        f"</rr:NodeID><rr:NodeIDType>{escape(r.get('type', 'LEI'))}</rr:NodeIDType></rr:EndNode>"
        f"<rr:RelationshipType>{escape(r.get('rel', ''))}</rr:RelationshipType></rr:Relationship>"
        f"</rr:RelationshipRecord>"
        for r in records
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rr:RelationshipData xmlns:rr="{RR_NS}"><rr:RelationshipRecords>'
        + body
        + "</rr:RelationshipRecords></rr:RelationshipData>"
    ).encode("utf-8", "surrogatepass")


rr_records = st.lists(st.dictionaries(st.sampled_from(("start", "end", "type", "rel")), texts), max_size=4)
RR_SEED = rr_doc(
    [{"start": "5493001KJTIIGC8Y1R12", "end": "549300HXA4VQ15SVIY50", "rel": "IS_DIRECTLY_CONSOLIDATED_BY"}]
)


@given(lei_records)
def test_gleif_lei_documents_with_any_text(records: list[dict[str, str]]) -> None:
    result = outcome("gleif_lei_xml", in_file(lei_doc(records), "lei.xml"))
    if isinstance(result, int):
        assert result <= len(records)


@given(st.one_of(st.binary(max_size=400), mutated(LEI_SEED)), st.booleans())
def test_gleif_lei_bytes_and_mutations(data: bytes, as_zip: bool) -> None:
    path = zipped(data, "lei.xml", "lei.zip") if as_zip else in_file(data, "lei.xml")
    outcome("gleif_lei_xml", path)


@given(rr_records)
def test_gleif_rr_documents_with_any_text(records: list[dict[str, str]]) -> None:
    outcome("gleif_rr_xml", in_file(rr_doc(records), "rr.xml"))


@given(st.one_of(st.binary(max_size=400), mutated(RR_SEED)), st.booleans())
def test_gleif_rr_bytes_and_mutations(data: bytes, as_zip: bool) -> None:
    path = zipped(data, "rr.xml", "rr.zip") if as_zip else in_file(data, "rr.xml")
    outcome("gleif_rr_xml", path)


# --- CSV registers --------------------------------------------------------------------------------

CH_HEADER = [
    "CompanyName",
    " CompanyNumber",
    "RegAddress.PostTown",
    "RegAddress.Country",
    "IncorporationDate",
    "SICCode.SicText_1",
    "PreviousName_1.CompanyName",
    "PreviousName_1.CONDATE",
    "URI",
]
CN_HEADER = ["企业名称", "统一社会信用代码", "法人代表", "注册资金", "成立日期", "登记机关", "经营状态", "企业地址"]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=CSV_EOL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding, "replace")


CSV_EOL = "\r\n"
rows = st.lists(st.lists(texts, max_size=10), max_size=6)
CH_SEED = csv_bytes(
    CH_HEADER,
    [
        [
            "ACME LTD",
            "08209948",
            "LONDON",
            "UNITED KINGDOM",
            "01/02/2012",
            "62090 - Other information technology service activities",
            "",
            "",
            "",
        ]
    ],
    "utf-8",
)
CN_SEED = csv_bytes(
    CN_HEADER,
    [
        [
            "深圳市腾讯计算机系统有限公司",
            "91440300708461136T",
            "马化腾",
            "6500万人民币",
            "1998-11-11",
            "深圳市市场监督管理局",
            "存续",
            "深圳市南山区",
        ]
    ],
    "utf-8",
)


@given(rows, st.sampled_from(["utf-8", "gbk", "latin-1"]))
def test_companies_house_rows_with_any_text(data: list[list[str]], encoding: str) -> None:
    result = outcome("companies_house_csv", in_file(csv_bytes(CH_HEADER, data, encoding), "ch.csv"), encoding=encoding)
    if isinstance(result, int):
        assert result <= len(data)


@given(st.one_of(st.binary(max_size=400), mutated(CH_SEED)), st.booleans())
def test_companies_house_bytes_and_mutations(data: bytes, as_zip: bool) -> None:
    path = zipped(data, "ch.csv", "ch.zip") if as_zip else in_file(data, "ch.csv")
    outcome("companies_house_csv", path)


@given(rows, st.sampled_from(["utf-8", "gbk", "gb18030"]))
def test_cn_registry_rows_with_any_text(data: list[list[str]], encoding: str) -> None:
    outcome("cn_registry_csv", in_file(csv_bytes(CN_HEADER, data, encoding), "cn.csv"), encoding=encoding)


@given(st.one_of(st.binary(max_size=400), mutated(CN_SEED)), st.sampled_from(["utf-8", "gbk", "utf-16"]))
@example(data=b"\x00\x00", encoding="utf-16")  # found: UTF-16 without a BOM raised UnicodeError
def test_cn_registry_bytes_and_mutations(data: bytes, encoding: str) -> None:
    outcome("cn_registry_csv", in_file(data, "cn.csv"), encoding=encoding)


# --- SEC financial statement data sets ------------------------------------------------------------

SUB_HEADER = "adsh\tcik\tname\tcountryba\tcityba\tein\tform\tperiod\tfiled\taccepted"
NUM_HEADER = "adsh\ttag\tversion\tcoreg\tddate\tqtrs\tuom\tvalue\tfootnote"
SUB_SEED = (
    SUB_HEADER + "\n0000320193-23-000106\t320193\tAPPLE INC\tUS\tCUPERTINO\t942404110\t10-K\t20230930\t"
    "20231103\t2023-11-02 18:08:00.0\n"
).encode()
NUM_SEED = (
    NUM_HEADER + "\n0000320193-23-000106\tRevenues\tus-gaap/2023\t\t20230930\t4\tUSD\t383285000000.0000\t\n"
    "0000320193-23-000106\tAssets\tus-gaap/2023\t\t20230930\t0\tUSD\t352583000000.0000\t\n"
).encode()
tsv_rows = st.lists(st.lists(texts, min_size=0, max_size=10).map("\t".join), max_size=5)


def sec_folder(sub: bytes, num: bytes, as_zip: bool) -> Path:
    if as_zip:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("sub.txt", sub)
            zf.writestr("num.txt", num)
        return in_file(buf.getvalue(), "2023q4.zip")
    folder = Path(tempfile.mkdtemp(prefix="fuzz-sec-"))
    (folder / "sub.txt").write_bytes(sub)
    (folder / "num.txt").write_bytes(num)
    return folder


@given(tsv_rows, tsv_rows, st.booleans())
def test_sec_fsds_rows_with_any_text(sub: list[str], num: list[str], as_zip: bool) -> None:
    def enc(header: str, lines: list[str]) -> bytes:
        return "\n".join([header, *lines]).encode("utf-8", "surrogatepass")

    outcome("sec_fsds", sec_folder(enc(SUB_HEADER, sub), enc(NUM_HEADER, num), as_zip))


@given(mutated(SUB_SEED), mutated(NUM_SEED), st.booleans())
def test_sec_fsds_mutations(sub: bytes, num: bytes, as_zip: bool) -> None:
    outcome("sec_fsds", sec_folder(sub, num, as_zip))


@given(st.binary(max_size=400))
def test_sec_fsds_random_zip_bytes(data: bytes) -> None:
    outcome("sec_fsds", in_file(data, "2023q4.zip"))


# --- SQL rows -------------------------------------------------------------------------------------

values = st.one_of(
    st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True), texts, st.binary(max_size=20), st.booleans()
)


@given(
    st.lists(st.tuples(values, values, values, values, values, values), max_size=6),
    st.lists(st.tuples(values, values, values, values, values, values), max_size=6),
)
# found: an integral float past int64 in txn_count crashed the Int64 conversion
@example(customers=[], balances=[("A1", "2024-01", None, None, None, 9.223372036854776e18)])
def test_sql_rows_of_any_type(customers: list[tuple], balances: list[tuple]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-sql-"))
    db = folder / "crm.sqlite"
    con = sqlite3.connect(db)
    try:
        con.execute("CREATE TABLE c (source_id, name, opened_on, updated_at, phone, other)")
        con.execute("CREATE TABLE b (account_id, month, balance, debit_amount, credit_amount, txn_count)")
        con.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)", customers)
        con.executemany("INSERT INTO b VALUES (?, ?, ?, ?, ?, ?)", balances)
        con.commit()
    finally:
        con.close()
    result = outcome(
        "sql", url=f"sqlite:///{db}", queries={"customers": "SELECT * FROM c", "balances": "SELECT * FROM b"}
    )
    if isinstance(result, int):
        assert result == len(customers) + len(balances)


@given(texts)
def test_sql_any_query_text_is_run_or_refused(query: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-sqlq-"))
    db = folder / "crm.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (source_id, name)")
    con.execute("INSERT INTO customers VALUES (1, 'ACME')")
    con.commit()
    con.close()
    outcome("sql", url=f"sqlite:///{db}", queries={"customers": query})
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    finally:
        con.close()


def test_conform_keeps_working_on_odd_frames() -> None:
    """A frame with only NULLs or mixed types still conforms (what every fuzz example above relies on)."""
    ctx = make_ctx(format="companies_house_csv", path="x.csv")
    out = conform("organization", pd.DataFrame({"source_id": [None, 1, "x"], "name": [b"a", None, 3.5]}), ctx)
    assert out["source_id"].tolist() == [None, "1", "x"]
