"""Issue 12: size and time limits on everything read from outside, with clear errors naming the file.

A config of /dev/zero, a FIFO or a 2 MiB file; a source path of /dev/zero or a FIFO; a 1 MB zip holding
1 GB of NULs; a 10 MB CSV field; a file without newlines; an XML entity bomb: each fails fast with a
clear error and small memory, never a hang, a traceback or gigabytes read."""

from __future__ import annotations

import io
import os
import signal
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipelines.adapters import get_adapter
from pipelines.adapters.limits import BoundedReader, check_member
from pipelines.cli import app
from pipelines.config import DEFAULT_MAX_ZIP_RATIO, load_config
from pipelines.errors import ConfigError, SourceError
from tests.conftest import make_ctx

cli = CliRunner()
GB = 2**30
FILE_FORMATS = ("gleif_lei_xml", "gleif_rr_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds")
ZIP_FORMATS = ("gleif_lei_xml", "gleif_rr_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds")
# Member names of the same length as BOMB_NAME (the bomb's bytes are reused with the name replaced).
BOMB_NAME = "XXX.xxx"
MEMBER = {
    "gleif_lei_xml": "lei.xml",
    "gleif_rr_xml": "rrr.xml",
    "companies_house_csv": "chh.csv",
    "cn_registry_csv": "cnn.csv",
    "sec_fsds": "sub.txt",
}


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def drain(fmt: str, path: Path, **source: object) -> int:
    rows = 0
    for batch in get_adapter(fmt)(make_ctx(format=fmt, path=path, **source)):
        rows += len(batch.frame)
    return rows


# --- config files ----------------------------------------------------------------------------------


def test_config_of_dev_zero_fails_fast_via_the_cli() -> None:
    start = time.monotonic()
    with pytest.raises(ConfigError, match="/dev/zero: refused: the config must be a regular file"):
        load_config("/dev/zero")
    assert time.monotonic() - start < 1
    with deadline(120):  # the first CLI call imports the pipeline (seconds); the config is refused at once
        res = cli.invoke(app, ["run", "--config", "/dev/zero"])
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "/dev/zero" in res.output and "regular file" in res.output


def test_config_fifo_and_oversized_config_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "mdm.yaml"
    os.mkfifo(fifo)
    with deadline(10), pytest.raises(ConfigError, match="regular file"):
        load_config(fifo)
    big = tmp_path / "big.yaml"
    big.write_text("warehouse: w\n# " + "x" * (2 * 2**20) + "\nsources: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"big.yaml: refused: .* over the limit of 1,048,576 bytes"):
        load_config(big)
    with pytest.raises(ConfigError, match="regular file"):
        load_config(tmp_path)


# --- source paths ----------------------------------------------------------------------------------


def write_config(tmp_path: Path, fmt: str, path: str, **extra: object) -> Path:
    cfg = tmp_path / "mdm.yaml"
    source = {"name": "s", "format": fmt, "path": path, **extra}
    cfg.write_text(yaml.safe_dump({"warehouse": str(tmp_path / "wh"), "sources": [source]}), encoding="utf-8")
    return cfg


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_dev_zero_and_fifo_sources_are_refused(tmp_path: Path, fmt: str) -> None:
    fifo = tmp_path / "source.fifo"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        with deadline(10):
            with pytest.raises(ConfigError, match=rf"sources.s.path: refused: {path} is not a regular file"):
                load_config(write_config(tmp_path, fmt, str(path)))
            # The adapter refuses it by itself too (a config loaded without checking files).
            with pytest.raises(SourceError, match=r"refused: a (device|FIFO) cannot be a source") as e:
                drain(fmt, path)
        assert e.value.file == str(path)


def test_dev_zero_run_fails_fast_via_the_cli(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "companies_house_csv", "/dev/zero")
    with deadline(120):
        res = cli.invoke(app, ["run", "--config", str(cfg)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "refused" in res.output and "/dev/zero" in res.output


def test_source_file_over_max_file_size_is_refused(tmp_path: Path) -> None:
    csv_file = tmp_path / "ch.csv"
    csv_file.write_text("CompanyName,CompanyNumber\n" + "ACME LTD,00000001\n" * 200, encoding="utf-8")
    cfg = write_config(tmp_path, "companies_house_csv", str(csv_file), max_file_size="1 KiB")
    with pytest.raises(ConfigError, match=r"refused: .*ch.csv is 3,626 bytes, over max_file_size \(1,024 bytes\)"):
        load_config(cfg)
    with pytest.raises(SourceError, match=r"over the source's max_file_size of 1.0 KiB"):
        drain("companies_house_csv", csv_file, max_file_size=1024)
    assert drain("companies_house_csv", csv_file, max_file_size="1 MiB") == 200


def test_bounded_reader_stops_a_file_that_lies_about_its_size() -> None:
    """Files in /proc declare size 0; a member can declare less than it holds: bytes are counted while read."""
    ctx = make_ctx(format="companies_house_csv", path="x.csv")
    reader = BoundedReader(io.BytesIO(b"\0" * 10_000), ctx, "x.csv", 4096, "the test limit")
    got = 0
    with pytest.raises(SourceError, match=r"x.csv: refused: more than 4.0 KiB read, the test limit"):
        while chunk := reader.read(1000):
            got += len(chunk)
    assert got <= 4096
    with pytest.raises(SourceError, match="refused: more than"):
        BoundedReader(io.BytesIO(b"\0" * 10_000), ctx, "x.csv", 4096, "the test limit").read()


# --- zip bombs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A ~1 MB zip whose one member ``XXX.xxx`` is 1 GB of NULs (written in chunks: small memory here too)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    chunk = b"\0" * (16 * 2**20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(BOMB_NAME, "w", force_zip64=True) as out,
    ):
        for _ in range(GB // len(chunk)):
            out.write(chunk)
    data = path.read_bytes()
    assert len(data) < 8 * 2**20
    return data


@pytest.mark.parametrize("fmt", ZIP_FORMATS)
def test_zip_member_of_1gb_nuls_fails_fast_with_small_memory(bomb: bytes, tmp_path: Path, fmt: str) -> None:
    member = MEMBER[fmt]
    path = tmp_path / f"{fmt}.zip"
    path.write_bytes(bomb.replace(BOMB_NAME.encode(), member.encode()))  # same length: offsets stay valid
    if fmt == "sec_fsds":  # a data set also has num.txt
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("num.txt", "adsh\ttag\tversion\tcoreg\tddate\tqtrs\tuom\tvalue\n")
    info = zipfile.ZipFile(path).getinfo(member)
    assert info.file_size == GB
    tracemalloc.start()
    start = time.monotonic()
    try:
        with deadline(30), pytest.raises(SourceError, match=r"refused: the zip member expands [\d,]+ times") as e:
            drain(fmt, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 5
    assert peak < 64 * 2**20
    assert e.value.file == f"{path}!{member}"


def test_a_member_over_max_file_size_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "ch.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ch.csv", "CompanyName,CompanyNumber\n" + "".join(f"CO {i} LTD,{i:08d}\n" for i in range(5000)))
    assert drain("companies_house_csv", path) == 5000
    with pytest.raises(
        SourceError,
        match=r"ch.zip!ch.csv: refused: the zip member is .* uncompressed, over the "
        r"source's max_file_size of 30.0 KiB",
    ):
        drain("companies_house_csv", path, max_file_size="30 KiB")


def test_real_register_zips_pass_the_ratio_limit(realdata: Path) -> None:
    zips = sorted(realdata.rglob("*.zip"))
    assert zips
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                check_member(make_ctx(format="sec_fsds", path=path), info, f"{path}!{info.filename}")
                assert info.file_size / max(info.compress_size, 1) < DEFAULT_MAX_ZIP_RATIO / 4


# --- lines and fields ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["companies_house_csv", "cn_registry_csv"])
def test_a_10mb_csv_field_is_a_clear_error(tmp_path: Path, fmt: str) -> None:
    header = "CompanyName,CompanyNumber" if fmt == "companies_house_csv" else "企业名称,统一社会信用代码"
    path = tmp_path / "big.csv"
    path.write_text(
        f'{header}\nGOOD LTD,00000001\n"{"A" * 10 * 2**20}",00000002\nLAST LTD,00000003\n', encoding="utf-8"
    )
    with (
        deadline(30),
        pytest.raises(
            SourceError,
            match=r"line 3: malformed CSV .*field larger than field limit "
            r"\(131,072 characters",
        ),
    ):
        drain(fmt, path)


def test_a_file_without_newlines_stops_at_max_line_size(tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    with path.open("wb") as fh:
        fh.write(b"CompanyName,CompanyNumber\n")
        for _ in range(8):
            fh.write(b"\0" * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(
            SourceError,
            match=r"one-line.csv, line 2: refused: line longer than the source's "
            r"max_line_size of 1.0 MiB",
        ):
            drain("companies_house_csv", path, max_line_size="1 MiB")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_sec_line_over_max_line_size(tmp_path: Path) -> None:
    folder = tmp_path / "fsds"
    folder.mkdir()
    (folder / "sub.txt").write_bytes(b"adsh\tcik\tname\tform\tfiled\n" + b"x" * 3 * 2**20)
    (folder / "num.txt").write_bytes(b"adsh\ttag\tversion\tcoreg\tddate\tqtrs\tuom\tvalue\n")
    with pytest.raises(SourceError, match=r"sub.txt, line 2: refused: line longer"):
        drain("sec_fsds", folder, max_line_size="1 MiB")


# --- XML -------------------------------------------------------------------------------------------

LOL = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE LEIData [<!ENTITY lol0 "lol">{LOL}]>
<LEIData xmlns="http://www.gleif.org/data/schema/leidata/2016"><LEIRecords>
<LEIRecord><LEI>5493001KJTIIGC8Y1R12</LEI><Entity><LegalName>&lol9;</LegalName></Entity></LEIRecord>
</LEIRecords></LEIData>"""


def test_xml_entity_bomb_is_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    tracemalloc.start()
    start = time.monotonic()
    try:
        with deadline(30):
            try:
                frames = list(get_adapter("gleif_lei_xml")(make_ctx(format="gleif_lei_xml", path=path)))
                names = [n for b in frames for n in b.frame.get("name", [])]
            except SourceError as e:
                names = []
                assert "bomb.xml" in str(e)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 5
    assert peak < 32 * 2**20
    assert all(n is None or "lollollol" not in str(n) for n in names)
