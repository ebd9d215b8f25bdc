"""Chinese enterprise registration extracts (format ``cn_registry_csv``) -> ``organization`` batches.

Reads CSV files with the columns 企业名称 (name), 统一社会信用代码 (Unified Social Credit Code),
注册日期 (registration date), 企业类型 (enterprise type), 法人代表 (legal representative), 注册资金
(registered capital), 经营范围 (business scope), 所在省份 (province), 地区 (district) and 注册地址
(registered address); 企业名称 and 统一社会信用代码 are required. Such extracts come as UTF-8 or GBK /
GB18030: set the source's ``encoding`` accordingly (undecodable bytes are a SourceError naming the line).

The natural key is the 统一社会信用代码, stripped and upper-cased but otherwise kept as given: older
companies carry a 15-, 13- or 11-character legacy registration number instead of an 18-character
USCC, and that number is their key too. Validation and deduplication are the loader's job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pipelines.adapters._csv import YMD, CsvRow, iso_date, read_csv
from pipelines.adapters.base import Batch, ExtractContext, chunked

NAME, CODE = "企业名称", "统一社会信用代码"
REQUIRED = (NAME, CODE)
# Kept in `extra` under English keys.
_EXTRA = {"法人代表": "legal_representative", "注册资金": "registered_capital", "经营范围": "business_scope"}


def _record(ctx: ExtractContext, row: CsvRow) -> dict[str, Any]:
    """Map one register row to an ``organization`` row."""
    raw_code = row.get(CODE)
    code = raw_code.upper() if raw_code is not None else None
    extra = {key: value for column, key in _EXTRA.items() if (value := row.get(column)) is not None}
    return {
        "source_id": code,
        "uscc": code,
        "name": row.get(NAME),
        "name_lang": "zh",
        "country": "CN",
        "jurisdiction": "CN",
        "incorporated_on": iso_date(ctx, row, "注册日期", YMD, code),
        "category": row.get("企业类型"),
        "region": row.get("所在省份"),
        "city": row.get("地区"),
        "address": row.get("注册地址"),
        "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None,
        "src_file": row.file,
        "src_line": row.line,
    }


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """Stream a register ``.csv`` (or ``.zip`` holding one) as ``organization`` batches."""
    rows = (_record(ctx, row) for row in read_csv(ctx, required=REQUIRED, key_column=CODE))
    yield from chunked(rows, ctx.chunk_size, "organization")
