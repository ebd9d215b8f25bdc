"""Crafted bad input files through runner.run, starting from a good published run: each ends in a clear
MdmError naming the source and the file (never another exception type, never a partial publish) or
loads with counted warnings."""

from __future__ import annotations

import csv
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines import runner
from pipelines.errors import MdmError, SourceError
from pipelines.quality import ValidationFailed
from pipelines.sample import generate
from pipelines.warehouse import Warehouse
from tests.pipelines.test_quality import copy_warehouse, warehouse_state
from tests.pipelines.test_runner import query, write_config

ENTITIES = 300
SEED = 11
BIG_FIELD = 10 * 1024 * 1024


# --- crafted inputs: (sample, folder) -> location of the bad source ---------------------------------


def _uk(sample: Path) -> Path:
    return sample / "registry" / "uk_basiccompany.csv"


def _cn(sample: Path) -> Path:
    return sample / "registry" / "cn_registry.csv"


def empty_file(sample: Path, d: Path) -> str:
    out = d / "uk_empty.csv"
    out.write_bytes(b"")
    return str(out)


def header_only(sample: Path, d: Path) -> str:
    out = d / "uk_header_only.csv"
    out.write_bytes(_uk(sample).read_bytes().split(b"\n", 1)[0] + b"\n")
    return str(out)


def semicolons(sample: Path, d: Path) -> str:
    with _uk(sample).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    out = d / "uk_semicolons.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows(rows)
    return str(out)


def big_field(sample: Path, d: Path) -> str:
    """The address of the second data row (line 3) is 10 MB long."""
    with _uk(sample).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[2][[h.strip() for h in rows[0]].index("RegAddress.AddressLine1")] = "A" * BIG_FIELD
    out = d / "uk_big_field.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return str(out)


def mixed_encodings(sample: Path, d: Path) -> str:
    """A UTF-8 register whose line 6 is GBK-encoded."""
    lines = _cn(sample).read_bytes().split(b"\r\n")
    lines[5] = lines[5].decode("utf-8").encode("gbk")
    out = d / "cn_mixed.csv"
    out.write_bytes(b"\r\n".join(lines))
    return str(out)


def truncated_xml(sample: Path, d: Path) -> str:
    data = (sample / "registry" / "gleif_lei2.xml").read_bytes()
    out = d / "gleif_truncated.xml"
    out.write_bytes(data[: len(data) // 2])
    return str(out)


def no_customers(sample: Path, d: Path) -> str:
    out = d / "crm_empty.sqlite"
    shutil.copy(sample / "internal" / "crm.sqlite", out)
    con = sqlite3.connect(out)
    con.execute("DELETE FROM customers")
    con.commit()
    con.close()
    return "sqlite:///" + str(out)


# case: (source, builder, exception type, patterns the message must match)
CASES: dict[str, tuple[str, Callable[[Path, Path], str], type[MdmError], list[str]]] = {
    "empty_file": ("uk_registry", empty_file, SourceError, [r"line 1: empty file: no header line"]),
    "header_only_csv": (
        "uk_registry",
        header_only,
        ValidationFailed,
        [r"expectation expect_table_row_count_to_be_between failed: observed 0\b"],
    ),
    "semicolon_delimiter": (
        "uk_registry",
        semicolons,
        SourceError,
        [
            r"required column 'CompanyName', 'CompanyNumber' missing from the header",
            r"the file is probably not comma-separated",
        ],
    ),
    "10mb_field": (
        "uk_registry",
        big_field,
        SourceError,
        [r"line 3: malformed CSV in the record starting on this line", r"field larger than field limit"],
    ),
    "mixed_encodings": (
        "cn_registry",
        mixed_encodings,
        SourceError,
        [r"line 6: cannot decode the bytes as utf-8", r"set the source's 'encoding'"],
    ),
    "truncated_gleif_xml": ("gleif", truncated_xml, SourceError, [r"malformed XML after \d+ LEIRecord record"]),
    "empty_sqlite_table": (
        "crm",
        no_customers,
        ValidationFailed,
        [r"expectation expect_table_row_count_to_be_between failed: observed 0\b"],
    ),
}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, entities=ENTITIES, seed=SEED)
    return out


@pytest.fixture(scope="module")
def base(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> runner.RunSummary:
    root = tmp_path_factory.mktemp("base")
    return runner.run(write_config(sample, root / "wh", root / "mdm.yaml"))


@pytest.fixture(scope="module")
def outcomes(sample: Path, base: runner.RunSummary, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict]:
    """Each bad case run once against the base warehouse: the exception and the state before and after."""
    cache: dict[str, dict] = {}

    def outcome(case: str) -> dict:
        if case not in cache:
            source, build, _, _ = CASES[case]
            d = tmp_path_factory.mktemp(case)
            location = build(sample, d)
            cfg = write_config(sample, base.warehouse, d / "mdm.yaml", **{source: location})
            wh = base.warehouse
            before = warehouse_state(wh)
            reports = set((wh / ".runs").iterdir())
            error: BaseException | None = None
            try:
                runner.run(cfg)
            except BaseException as e:
                error = e
            cache[case] = {
                "source": source,
                "location": location,
                "error": error,
                "before": before,
                "after": warehouse_state(wh),
                "latest": Warehouse(wh).latest_run(),
                "reports": set((wh / ".runs").iterdir()) - reports,
            }
        return cache[case]

    return outcome


# --- each bad case ends in a clear error and leaves the warehouse as it was ----------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_cleanly(outcomes: Callable[[str], dict], base: runner.RunSummary, case: str) -> None:
    o = outcomes(case)
    source, _, error_type, patterns = CASES[case]
    assert o["error"] is not None, "the run did not fail"
    assert isinstance(o["error"], MdmError), f"{type(o['error']).__name__} escaped: {o['error']}"
    assert type(o["error"]) is error_type
    msg = str(o["error"])
    assert f"source '{source}'" in msg
    for p in patterns:
        assert re.search(p, msg), (p, msg)
    assert "Traceback" not in msg
    if isinstance(o["error"], SourceError):
        assert o["error"].source == source and o["error"].file == o["location"]
    # Never a partial publish: the published state is byte for byte as it was.
    assert o["after"] == o["before"]
    assert o["latest"] == base.run_id
    assert any(p.name.endswith(".failed.json") for p in o["reports"])


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_message_names_the_file(outcomes: Callable[[str], dict], case: str) -> None:
    o = outcomes(case)
    location = o["location"]
    assert location in str(o["error"])


def test_a_good_run_after_the_bad_ones_still_publishes(
    outcomes: Callable[[str], dict], sample: Path, base: runner.RunSummary, tmp_path: Path
) -> None:
    for case in CASES:
        outcomes(case)
    wh = copy_warehouse(base.warehouse, tmp_path / "wh")
    again = runner.run(write_config(sample, wh, tmp_path / "mdm.yaml"))
    assert Warehouse(wh).latest_run() == again.run_id
    assert query(wh, "SELECT count(DISTINCT run_id) FROM validation_result")[0][0] == 2


# --- NUL bytes load, with counted warnings --------------------------------------------------------------


def test_nul_bytes_inside_fields_load_with_counted_warnings(
    sample: Path, base: runner.RunSummary, tmp_path: Path
) -> None:
    with _cn(sample).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows, lines = [], []
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
    name_i, addr_i, code_i = header.index("企业名称"), header.index("注册地址"), header.index("统一社会信用代码")
    names = {}
    for i in (1, 4, 9):
        names[rows[i][code_i].upper()] = rows[i][name_i]
        rows[i][name_i] = "\x00" * 3 + rows[i][name_i] + "\x00"
    rows[4][addr_i] = rows[4][addr_i][:3] + "\x00" + rows[4][addr_i][3:]
    bad = tmp_path / "cn_nul.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    assert bad.read_bytes().count(b"\x00") == 3 * 4 + 1

    wh = copy_warehouse(base.warehouse, tmp_path / "wh")
    summary = runner.run(write_config(sample, wh, tmp_path / "mdm.yaml", cn_registry=str(bad)))
    assert summary.ok and summary.quarantined == 0
    issues = query(
        wh,
        "SELECT source, file, line, key, message FROM load_issue "
        f"WHERE run_id = '{summary.run_id}' AND code = 'nul_bytes' ORDER BY line",
    )
    assert [(s, f, ln, k) for s, f, ln, k, _ in issues] == [
        ("cn_registry", str(bad), lines[i], rows[i][code_i].upper()) for i in (1, 4, 9)
    ]
    assert "企业名称 (4)" in issues[0][4]
    assert "企业名称 (4)" in issues[1][4] and "注册地址 (1)" in issues[1][4]
    stored = dict(
        query(
            wh,
            "SELECT source_id, name FROM organization_record WHERE source = 'cn_registry' "
            f"AND source_id IN ({', '.join(repr(k) for k in names)})",
        )
    )
    assert stored == names
    assert (
        query(
            wh,
            "SELECT count(*) FROM organization_record WHERE source = 'cn_registry' "
            "AND (contains(name, chr(0)) OR contains(address, chr(0)))",
        )[0][0]
        == 0
    )
    assert query(wh, "SELECT count(*) FROM xref WHERE source = 'cn_registry'")[0][0] == len(rows)
    # The scorecard counts them per code.
    assert (
        query(wh, f"SELECT count(*) FROM load_issue WHERE run_id = '{summary.run_id}' AND code = 'nul_bytes'")[0][0]
        == 3
    )
