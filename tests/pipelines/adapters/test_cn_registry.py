"""Chinese enterprise register adapter: the real 1998 extract, GBK input and bad inputs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mdm.schema import ORGANIZATION
from pipelines.adapters.base import conform
from pipelines.adapters.cn_registry import extract
from pipelines.errors import SourceError
from tests.conftest import make_ctx

REAL = "cn-enterprise-registry/cn-enterprise-registration-1998-all-provinces.csv"
HEADER = "企业名称,统一社会信用代码,注册日期,企业类型,法人代表,注册资金,经营范围,所在省份,地区,注册地址"


def run(path: Path, **source) -> tuple[pd.DataFrame, list[int], object]:
    """Extract a file; return all rows, the batch sizes and the context (for its warnings)."""
    ctx = make_ctx(format="cn_registry_csv", path=path, **source)
    batches = list(extract(ctx))
    assert all(b.table == "organization" for b in batches)
    frame = pd.concat([b.frame for b in batches], ignore_index=True) if batches else pd.DataFrame()
    return frame, [len(b.frame) for b in batches], ctx


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture(scope="module")
def real(realdata: Path) -> tuple[pd.DataFrame, list[int], object]:
    return run(realdata / REAL, chunk_size=20_000)


# --------------------------------------------------------------------------------------------- real extract
def test_real_rows_keys_and_batches(real, realdata: Path) -> None:
    df, sizes, ctx = real
    assert len(df) == 78_242 and sizes == [20_000, 20_000, 20_000, 18_242]
    assert df["source_id"].isna().sum() == 0  # no row lacks its 统一社会信用代码
    assert df["source_id"].nunique() == 78_241
    assert (df["source_id"] == df["uscc"]).all()
    assert df["src_line"].tolist() == list(range(2, 78_244))
    assert set(df["src_file"]) == {str(realdata / REAL)}
    assert set(df["country"]) == {"CN"} and set(df["name_lang"]) == {"zh"}
    # Legacy registration numbers are kept as they are (they are the key of older companies).
    assert df["source_id"].str.len().value_counts().to_dict() == {18: 77_928, 15: 276, 13: 35, 11: 3}
    assert df["incorporated_on"].str.startswith("1998-").all()
    assert list(conform("organization", df.head(100), ctx).columns) == list(ORGANIZATION)


def test_real_nul_name_cleaned_with_one_warning(real, realdata: Path) -> None:
    df, _, ctx = real
    assert ctx.warnings.counts == {"nul_bytes": 1}  # the only problem in the whole file
    [w] = ctx.warnings.items
    assert (w.code, w.line, w.key, w.file) == ("nul_bytes", 61_801, "91420106300248585N", str(realdata / REAL))
    assert "企业名称 (1411)" in w.message
    row = df[df["src_line"] == 61_801].iloc[0]
    assert (row["name"], row["source_id"]) == ("武汉久源电力有限公司", "91420106300248585N")
    assert not df["name"].str.contains("\x00").any()


def test_real_duplicate_uscc_yielded_twice(real) -> None:
    df, _, _ = real
    dup = df[df["source_id"].duplicated(keep=False)]
    assert dup["source_id"].unique().tolist() == ["91430900748377342E"]
    assert len(dup) == 2 and dup["src_line"].nunique() == 2


def test_real_concrete_rows(real) -> None:
    df, _, _ = real
    first, second = df.iloc[0], df.iloc[1]
    assert (first["source_id"], first["name"], first["incorporated_on"], first["src_line"]) == (
        "91310000X0727109X6",
        "丽嘉酒店有限公司",
        "1998-01-01",
        2,
    )
    assert (first["region"], first["city"], first["address"]) == ("上海", "静安", "上海市静安区南京西路1376号")
    assert first["category"] is None  # "N/A"
    extra = json.loads(first["extra"])
    assert set(extra) == {"legal_representative", "business_scope"}  # registered capital "N/A" is NULL
    assert extra["business_scope"].startswith("承包经营管理上海商城内的")
    assert json.loads(second["extra"])["registered_capital"] == "1,500(万元人民币)"
    assert second["name"] == "上海永昌房地产发展有限公司"


# ---------------------------------------------------------------------------------------------- generated
ROWS = [
    HEADER,
    '北京测试科技有限公司, 91110000x00000000a ,1998年3月5日,有限责任公司,张三,"100(万元人民币)",软件开发,北京,海淀,北京市海淀区中关村大街1号',
    '上海旧号有限公司,310000000012345,1998/12/31 00:00:00,N/A,李四,N/A,"贸易，\n咨询",上海,黄浦,上海市黄浦区外滩1号',
    "广州坏日期有限公司,91440000000000000B,1998-02-30,,,,,广东,天河,",
]


def test_generated_mapping(tmp_path: Path) -> None:
    df, _, ctx = run(write(tmp_path / "cn.csv", ROWS))
    a, b, c = df.to_dict("records")
    assert (a["source_id"], a["uscc"], a["incorporated_on"], a["category"]) == (
        "91110000X00000000A",
        "91110000X00000000A",
        "1998-03-05",
        "有限责任公司",
    )
    assert json.loads(a["extra"]) == {
        "legal_representative": "张三",
        "registered_capital": "100(万元人民币)",
        "business_scope": "软件开发",
    }
    assert (b["source_id"], b["incorporated_on"], b["category"], b["src_line"]) == (
        "310000000012345",
        "1998-12-31",
        None,
        3,
    )
    assert json.loads(b["extra"])["business_scope"] == "贸易，\n咨询"
    # The row after a quoted line break starts on line 5; its impossible date is NULL with a warning.
    assert (c["src_line"], c["incorporated_on"], c["extra"], c["address"]) == (5, None, None, None)
    assert ctx.warnings.counts == {"bad_date": 1}
    assert (ctx.warnings.items[0].line, ctx.warnings.items[0].key) == (5, "91440000000000000B")


def test_gbk_file(tmp_path: Path) -> None:
    path = write(tmp_path / "gbk.csv", ROWS, encoding="gbk")
    df, _, _ = run(path, encoding="gbk")
    assert df["name"].tolist() == ["北京测试科技有限公司", "上海旧号有限公司", "广州坏日期有限公司"]
    # Read with the default UTF-8, the GBK header cannot be decoded: a clear error naming file and line.
    with pytest.raises(SourceError, match=r"cannot decode the bytes as utf-8 .*set the source's 'encoding'") as e:
        run(path)
    assert (e.value.file, e.value.line) == (str(path), 1)


def test_gbk_bytes_inside_a_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        HEADER.encode("utf-8") + b"\r\n" + ROWS[1].encode("utf-8") + b"\r\n" + ROWS[3].encode("gbk") + b"\r\n"
    )
    with pytest.raises(SourceError, match="cannot decode the bytes as utf-8") as e:
        run(path)
    assert e.value.line == 3


def test_bom_and_spaced_header(tmp_path: Path) -> None:
    header = " 企业名称 , 统一社会信用代码 ,注册日期"
    df, _, ctx = run(write(tmp_path / "bom.csv", [header, "甲公司,91110000000000001A,1998-01-01"], "utf-8-sig"))
    assert (df["name"][0], df["source_id"][0], df["incorporated_on"][0]) == (
        "甲公司",
        "91110000000000001A",
        "1998-01-01",
    )
    assert ctx.warnings.total == 0


def test_zip_with_chinese_member_name(tmp_path: Path) -> None:
    archive = tmp_path / "cn.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("企业注册.csv", ("\r\n".join(ROWS) + "\r\n").encode("utf-8"))
    df, _, _ = run(archive)
    assert len(df) == 3 and df["src_line"].tolist() == [2, 3, 5]
    assert set(df["src_file"]) == {f"{archive}!企业注册.csv"}


def test_missing_uscc_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", ["企业名称,注册日期", "甲公司,1998-01-01"])
    with pytest.raises(SourceError, match="required column '统一社会信用代码' missing") as e:
        run(path)
    assert (e.value.file, e.value.line) == (str(path), 1)


def test_header_only_and_empty(tmp_path: Path) -> None:
    _, sizes, ctx = run(write(tmp_path / "h.csv", [HEADER]))
    assert sizes == [] and ctx.warnings.total == 0
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"\r\n")
    with pytest.raises(SourceError, match="empty file"):
        run(empty)


def test_empty_uscc_is_yielded_not_dropped(tmp_path: Path) -> None:
    df, _, ctx = run(
        write(tmp_path / "k.csv", [HEADER, "无代码公司,,1998-01-01" + "," * 7, "有代码公司,N/A,1998-01-02" + "," * 7])
    )
    assert df["name"].tolist() == ["无代码公司", "有代码公司"]
    assert df["source_id"].isna().all() and ctx.warnings.total == 0


def test_ragged_and_nul(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes((HEADER + "\r\n").encode() + "\x00\x00乙公司,91110000000000002B,1998-01-01\r\n".encode())
    df, _, ctx = run(path)
    assert (df["name"][0], df["region"][0]) == ("乙公司", None)
    assert ctx.warnings.counts == {"ragged_row": 1, "nul_bytes": 1}
    assert {w.key for w in ctx.warnings.items} == {"91110000000000002B"}
