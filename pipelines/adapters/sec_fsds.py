"""SEC Financial Statement Data Sets adapter: filers as organizations, headline figures as facts.

A quarterly data set (``2009q3.zip`` or a folder holding its files) has ``sub.txt`` (one row per
filing: the filer's CIK, name, addresses, EIN, SIC, state of incorporation ...) and ``num.txt`` (one
row per reported number, millions of lines in recent quarters). Both are tab separated with a header
row and no quoting. This adapter emits

* ``organization``: one row per CIK, taken from that CIK's latest filing in ``sub.txt``;
* ``financial_fact``: the entity-level facts of ``num.txt`` (no co-registrant, no segment) whose tag
  is one of :data:`CONCEPTS`, joined to their filer's CIK through the accession number (adsh).

``sub.txt`` is read whole (it is small: one row per filing); ``num.txt`` is streamed line by line.
Both ``num.txt`` layouts are read by header name: the older ``adsh tag version coreg ddate qtrs uom
value footnote`` and the newer one with a ``segments`` column.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from pipelines.adapters.base import Batch, ExtractContext, chunked
from pipelines.adapters.limits import ByteStream, check_path, lines, open_file, open_member

# The tags kept from num.txt (raw tag name -> the headline measure it reports). Several tags report
# the same measure because filers and taxonomy years differ (SalesRevenueNet before ASC 606,
# RevenueFromContractWithCustomer... after); the raw tag is kept as the fact's concept.
CONCEPTS: Final[dict[str, str]] = {
    "Revenues": "revenue",
    "SalesRevenueNet": "revenue",
    "SalesRevenueGoodsNet": "revenue",
    "SalesRevenueServicesNet": "revenue",
    "RevenueFromContractWithCustomerExcludingAssessedTax": "revenue",
    "RevenueFromContractWithCustomerIncludingAssessedTax": "revenue",
    "Assets": "assets",
    "Liabilities": "liabilities",
    "LiabilitiesAndStockholdersEquity": "liabilities_and_equity",
    "NetIncomeLoss": "net_income",
    "ProfitLoss": "net_income",
    "NetIncomeLossAvailableToCommonStockholdersBasic": "net_income",
    "StockholdersEquity": "equity",
    "StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest": "equity",
}

SUB_FILE: Final = "sub.txt"
NUM_FILE: Final = "num.txt"
SUB_REQUIRED: Final = ("adsh", "cik", "name", "form", "filed")
NUM_REQUIRED: Final = ("adsh", "tag", "version", "coreg", "ddate", "qtrs", "uom", "value")

_YYYYMMDD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class _Filing:
    """One row of sub.txt, with its line number for lineage."""

    line: int
    row: dict[str, str]

    @property
    def order(self) -> tuple[str, str, str]:
        """Sort key of "latest filing": filed date, then acceptance timestamp, then accession number."""
        return (self.row.get("filed", ""), self.row.get("accepted", ""), self.row["adsh"])


class _DataSet:
    """The member files of one data set, whether a folder or a zip archive."""

    def __init__(self, ctx: ExtractContext) -> None:
        self.ctx = ctx
        self.path = ctx.path
        self.zip: zipfile.ZipFile | None = None
        if not check_path(ctx, self.path, folder_ok=True, what="SEC data set"):
            try:
                self.zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise ctx.error(f"not a readable zip archive: {e}", file=self.path) from None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def label(self, member: str) -> str:
        """The lineage name of a member: ``archive.zip!member`` or the file path."""
        return f"{self.path}!{member}" if self.zip is not None else str(self.path / member)

    def find(self, name: str) -> str:
        """The member (zip entry name or file name) for ``name``; a SourceError naming it when absent."""
        if self.zip is not None:
            hits = sorted(
                (n for n in self.zip.namelist() if n.rsplit("/", 1)[-1].lower() == name),
                key=lambda n: (n.count("/"), n),
            )
            if hits:
                return hits[0]
            raise self.ctx.error(f"{name} missing from the SEC data set archive", file=f"{self.path}!{name}")
        for p in self.path.iterdir():
            if p.name.lower() == name and p.is_file():
                return p.name
        raise self.ctx.error(f"{name} missing from the SEC data set folder", file=self.path / name)

    @contextmanager
    def open(self, member: str) -> Iterator[ByteStream]:
        if self.zip is not None:
            with open_member(self.ctx, self.zip, self.zip.getinfo(member), self.label(member)) as f:
                yield f
        else:
            with open_file(self.ctx, self.path / member) as f:
                yield f


def _fields(
    ctx: ExtractContext, ds: _DataSet, member: str, required: tuple[str, ...]
) -> Iterator[tuple[list[str], int, list[str]]]:
    """Stream one tab-separated member as (header, line number, fields) after checking its header.

    Lines are decoded one at a time so that bad bytes are reported at their exact line; rows with the
    wrong number of fields are skipped with a warning.
    """
    label = ds.label(member)
    line_no = 0
    try:
        with ds.open(member) as f:
            header: list[str] | None = None
            for raw in lines(ctx, f, label):
                line_no += 1
                try:
                    text = raw.decode(ctx.encoding)
                except UnicodeDecodeError as e:
                    raise ctx.error(
                        f"cannot decode as {ctx.encoding}: {e.reason} at byte {e.start}", file=label, line=line_no
                    ) from None
                text = text.rstrip("\r\n")
                if header is None:
                    header = [h.strip().lower() for h in text.lstrip("\ufeff").split("\t")]
                    for col in required:
                        if col not in header:
                            raise ctx.error(
                                f"required column {col!r} missing (header: {', '.join(header)})",
                                file=label,
                                line=1,
                                key=col,
                            )
                    continue
                if not text:
                    continue
                fields = text.split("\t")
                if len(fields) != len(header):
                    ctx.warn(
                        f"expected {len(header)} tab-separated fields, found {len(fields)}; row skipped",
                        file=label,
                        line=line_no,
                        code="bad_row",
                    )
                    continue
                yield header, line_no, fields
            if header is None:
                raise ctx.error("empty file: no header row", file=label, line=1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise ctx.error(f"cannot read: {e}", file=label, line=line_no or None) from None


def _rows(
    ctx: ExtractContext, ds: _DataSet, member: str, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Stream one tab-separated member as (line number, {column: value}) (see :func:`_fields`)."""
    for header, line_no, fields in _fields(ctx, ds, member, required):
        yield line_no, dict(zip(header, fields))


def _iso(yyyymmdd: str) -> str | None:
    """``20090630`` -> ``2009-06-30``; None when the value is not an 8-digit date."""
    m = _YYYYMMDD.match(yyyymmdd.strip())
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


def _cik(value: str) -> str:
    """A CIK as text without leading zeros (``0000320193`` -> ``320193``)."""
    v = value.strip()
    return (v.lstrip("0") or "0") if v.isdigit() else v


def _ein(value: str) -> str | None:
    v = value.strip()
    if not v:
        return None
    return v.zfill(9) if v.isdigit() and len(v) < 9 else v


def _subdivision(country: str, state: str) -> str | None:
    """ISO 3166-2 style ``US-MA`` from SEC's country and state codes; the bare state without a country."""
    country, state = country.strip(), state.strip()
    if not state:
        return None
    return f"{country}-{state}" if country else state


def _join(*parts: str) -> str | None:
    return ", ".join(p.strip() for p in parts if p and p.strip()) or None


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", {}, [])}


def _organization(f: _Filing, n_filings: int, label: str) -> dict[str, Any]:
    """The organization row of a CIK from its latest filing."""
    r = f.row

    def g(col: str) -> str:
        return r.get(col, "").strip()

    cik = _cik(r["cik"])
    country = g("countryba")
    address = _join(g("bas1"), g("bas2"))
    other_names = None
    if g("former"):
        other_names = json.dumps(
            [_compact({"name": g("former"), "type": "PREVIOUS_LEGAL_NAME", "date": _iso(g("changed"))})],
            ensure_ascii=False,
        )
    jurisdiction = None
    if g("countryinc"):
        jurisdiction = g("countryinc") + (f"-{g('stprinc')}" if g("stprinc") else "")
    elif g("stprinc"):
        jurisdiction = g("stprinc")
    mailing = _compact(
        {
            "address": _join(g("mas1"), g("mas2")),
            "city": g("cityma"),
            "region": _subdivision(g("countryma"), g("stprma")),
            "postal_code": g("zipma"),
            "country": g("countryma"),
        }
    )
    extra = _compact(
        {
            "adsh": r["adsh"],
            "form": g("form"),
            "period": _iso(g("period")) or g("period"),
            "fy": g("fy"),
            "fp": g("fp"),
            "fye": g("fye"),
            "afs": g("afs"),
            "wksi": g("wksi"),
            "prevrpt": g("prevrpt"),
            "detail": g("detail"),
            "instance": g("instance"),
            "nciks": g("nciks"),
            "aciks": g("aciks"),
            "accepted": g("accepted"),
            "filings_in_data_set": n_filings,
            "mailing_address": mailing,
        }
    )
    return {
        "source_id": cik,
        "cik": cik,
        "name": g("name"),
        "ein": _ein(r.get("ein", "")),
        "industry_code": g("sic"),
        "country": country,
        "region": _subdivision(country, g("stprba")),
        "city": g("cityba"),
        "address": address,
        "postal_code": g("zipba"),
        # The SEC business address is the filer's principal executive office: its headquarters.
        "hq_country": country,
        "hq_city": g("cityba"),
        "hq_address": address,
        "hq_postal_code": g("zipba"),
        "phone": g("baph"),
        "jurisdiction": jurisdiction,
        "other_names": other_names,
        "updated_at": _iso(g("filed")),
        "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True),
        "src_file": label,
        "src_line": f.line,
    }


def _facts(ctx: ExtractContext, ds: _DataSet, member: str, filings: dict[str, _Filing]) -> Iterator[dict[str, Any]]:
    """The kept facts of num.txt as financial_fact rows."""
    label = ds.label(member)
    at: tuple[int, int, int | None] | None = None  # positions of tag, coreg and segments (if any) in the header
    for header, line, fields in _fields(ctx, ds, member, NUM_REQUIRED):
        if at is None:  # the last column of a name, as in the row's dict
            where = {h: i for i, h in enumerate(header)}
            at = (where["tag"], where["coreg"], where.get("segments"))
        tag_at, coreg_at, segments_at = at
        # Most numbers are of other tags: they are skipped before a row is made of them.
        if fields[tag_at] not in CONCEPTS or fields[coreg_at] or (segments_at is not None and fields[segments_at]):
            continue
        r = dict(zip(header, fields))
        tag = r["tag"]
        filing = filings.get(r["adsh"])
        if filing is None:
            ctx.warn(
                f"fact {tag} refers to filing {r['adsh']} which is not in sub.txt; fact skipped",
                file=label,
                line=line,
                key=r["adsh"],
                code="orphan_fact",
            )
            continue
        try:
            value = float(r["value"])
            if not math.isfinite(value):
                raise ValueError(r["value"])
        except ValueError:
            ctx.warn(
                f"{tag} value {r['value']!r} is not a number; fact skipped",
                file=label,
                line=line,
                key=r["adsh"],
                code="bad_value",
            )
            continue
        period_end = _iso(r["ddate"])
        if period_end is None:
            ctx.warn(
                f"ddate {r['ddate']!r} is not a YYYYMMDD date; kept as given",
                file=label,
                line=line,
                key=r["adsh"],
                code="bad_date",
            )
            period_end = r["ddate"]
        yield {
            "source_id": _cik(filing.row["cik"]),
            "filing": r["adsh"],
            "form": filing.row.get("form"),
            "period_end": period_end,
            "qtrs": r["qtrs"],
            "concept": tag,
            "version": r["version"],
            "value": value,
            "unit": r["uom"],
            "src_file": label,
            "src_line": line,
        }


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """Stream one SEC Financial Statement Data Set (folder or quarter zip) as organizations and facts."""
    if "\t\n".encode(ctx.encoding) != b"\t\n":
        raise ctx.error(
            f"encoding {ctx.encoding!r} is not ASCII-compatible; SEC data sets are read line by line", file=ctx.path
        )
    ds = _DataSet(ctx)
    try:
        sub = ds.find(SUB_FILE)
        num = ds.find(NUM_FILE)
        filings: dict[str, _Filing] = {}
        latest: dict[str, _Filing] = {}
        counts: dict[str, int] = {}
        for line, row in _rows(ctx, ds, sub, SUB_REQUIRED):
            f = _Filing(line, row)
            filings[row["adsh"]] = f
            cik = _cik(row["cik"])
            counts[cik] = counts.get(cik, 0) + 1
            if cik not in latest or f.order > latest[cik].order:
                latest[cik] = f
        label = ds.label(sub)
        orgs = [_organization(f, counts[cik], label) for cik, f in sorted(latest.items(), key=lambda kv: kv[1].line)]
        for i in range(0, len(orgs), ctx.chunk_size):
            yield Batch("organization", pd.DataFrame.from_records(orgs[i : i + ctx.chunk_size]))
        yield from chunked(_facts(ctx, ds, num, filings), ctx.chunk_size, "financial_fact")
    finally:
        ds.close()
