"""The pipeline configuration: a YAML file validated with pydantic.

Relative paths resolve against the folder of the config file. Unknown keys or formats, missing files
and bad database URLs fail before any work, with a message naming the key and the file.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.errors import ConfigError

if TYPE_CHECKING:
    from mdm.matching import MatchSettings

FILE_FORMATS = ("gleif_lei_xml", "gleif_rr_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds")
FORMATS = (*FILE_FORMATS, "sql")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Default survivorship order of formats when a config gives no source priority: registers first.
DEFAULT_FORMAT_PRIORITY = ("gleif_lei_xml", "cn_registry_csv", "companies_house_csv", "sec_fsds", "sql", "gleif_rr_xml")


# Limits on what is read from outside (issue 12); each is a per-source key of the config.
DEFAULT_MAX_FILE_SIZE = 64 * 2**30  # the full GLEIF golden copy and Companies House files are a few GB
DEFAULT_MAX_ZIP_RATIO = 200.0  # real register zips compress 5-30x; a zip of NULs ~1000x
DEFAULT_MAX_LINE_SIZE = 16 * 2**20  # bytes of one physical line of a CSV or tab-separated file
DEFAULT_SQL_TIMEOUT = 3600.0  # seconds
MAX_CONFIG_SIZE = 1 * 2**20  # bytes of a config file
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(v: Any) -> int:
    """A size in bytes from an int or text like ``500 MB`` / ``40GiB``; ValueError otherwise."""
    if isinstance(v, bool):
        raise ValueError("expected a size in bytes")
    if isinstance(v, int):
        n = v
    else:
        m = _SIZE.match(str(v))
        if not m or m[2].lower() not in _UNITS:
            raise ValueError(f"not a size: {v!r} (bytes, or a number with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
        n = int(float(m[1]) * _UNITS[m[2].lower()])
    if n <= 0:
        raise ValueError("a size must be positive")
    return n


ByteSize = Annotated[int, BeforeValidator(parse_size)]


def _no_nul(v: Any) -> Any:
    if "\x00" in str(v):
        raise ValueError("contains a NUL character")
    return v


# A path or URL without NUL characters (the operating system cannot take them).
SafePath = Annotated[Path, BeforeValidator(_no_nul)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValidationLimits(_Strict):
    """Batch-level limits of the validation stage; a load beyond any of them stops the run before publishing."""

    # Largest relative change of a source's row count against its previous load (0.5 = +-50%); null disables.
    max_row_count_change: Annotated[float, Field(ge=0)] | None = 0.5
    # Largest share of rows whose natural key repeats another row's key.
    max_duplicate_rate: Annotated[float, Field(ge=0, le=1)] = 0.001
    # Largest share of rows without a name.
    max_name_null_rate: Annotated[float, Field(ge=0, le=1)] = 0.01
    # Stop when a column the previous load of the source filled is empty in this load.
    schema_drift: bool = True
    # Fewest rows a load may have (an empty or header-only file is an error by default).
    min_rows: Annotated[int, Field(ge=0)] = 1


class SourceConfig(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")]
    format: Literal[FORMATS]  # type: ignore[valid-type]
    path: SafePath | None = None
    url: Annotated[str, BeforeValidator(_no_nul)] | None = None
    # `sql` sources: an Airflow connection id instead of `url` (pipelines/connections.py; docs/airflow.md).
    connection: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}$")] | None = None
    queries: dict[str, str] | None = None
    # Change-data capture for `sql` sources: query key -> the column holding each row's last update time.
    # An incremental run then reads only the rows updated at or after the previous load's latest value,
    # plus the keys of all rows (to see deletions), and keeps the other rows from the previous landing.
    changes: dict[str, str] | None = None
    encoding: str = "utf-8"
    # Rows per batch handed from the adapter to the loader; bounds memory.
    chunk_size: Annotated[int, Field(gt=0)] = 50_000
    # Survivorship rank (lower wins); defaults to the format order above.
    priority: int | None = None
    # Validation limits for this source; unset keys fall back to the config's top-level `validation`.
    validation: dict[str, Any] | None = None
    # Largest size of one source file, or of one zip member once uncompressed (bytes, or text like "40 GiB").
    max_file_size: ByteSize = DEFAULT_MAX_FILE_SIZE
    # Largest ratio of a zip member's uncompressed to compressed size (zip bombs reach 1000).
    max_zip_ratio: Annotated[float, Field(gt=1)] = DEFAULT_MAX_ZIP_RATIO
    # Longest physical line of a CSV or tab-separated file (bytes, or text like "64 MiB"); one CSV field
    # is limited to 131,072 characters (Python's csv module).
    max_line_size: ByteSize = DEFAULT_MAX_LINE_SIZE
    # `sql` sources: seconds one statement may run (PostgreSQL statement_timeout; for SQLite the whole query).
    timeout: Annotated[float, Field(gt=0)] = DEFAULT_SQL_TIMEOUT

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        return v

    @model_validator(mode="after")
    def _shape(self) -> SourceConfig:
        if self.format == "sql":
            if bool(self.url) == bool(self.connection):
                raise ValueError("format 'sql' needs 'url' (an SQLAlchemy URL) or 'connection' (an Airflow conn id)")
            if not self.queries or "customers" not in self.queries:
                raise ValueError("format 'sql' needs 'queries' with at least 'customers'")
            unknown = set(self.queries) - {"customers", "accounts", "balances"}
            if unknown:
                raise ValueError(f"unknown queries {sorted(unknown)}; allowed: customers, accounts, balances")
            if self.path is not None:
                raise ValueError("format 'sql' takes 'url', not 'path'")
            for key, column in (self.changes or {}).items():
                if key not in self.queries:
                    raise ValueError(
                        f"changes: {key!r} is not one of the configured queries ({', '.join(self.queries)})"
                    )
                if not _IDENTIFIER.match(column):
                    raise ValueError(f"changes.{key}: {column!r} is not a plain column name (letters, digits, _)")
        else:
            if self.path is None:
                raise ValueError(f"format {self.format!r} needs 'path'")
            if self.url or self.connection or self.queries or self.changes:
                raise ValueError(f"format {self.format!r} takes 'path', not 'url'/'connection'/'queries'/'changes'")
        return self


class MatchingConfig(_Strict):
    # Bands on the match probability of the Fellegi-Sunter model.
    match_threshold: Annotated[float, Field(ge=0, le=1)] = 0.90
    review_threshold: Annotated[float, Field(ge=0, le=1)] = 0.50
    max_block_size: Annotated[int, Field(gt=1)] = 200
    # Steward decisions as CSV (source_a, source_id_a, source_b, source_id_b, decision = match | no_match):
    # must-links and cannot-links for clustering, and labels for training the model.
    decisions: SafePath | None = None

    def settings(self) -> MatchSettings:
        """These settings as mdm.matching takes them (the run and `mdm explain` decide pairs with them)."""
        from mdm.matching import MatchSettings  # recordlinkage comes with it: loaded only where pairs are decided

        return MatchSettings(self.match_threshold, self.review_threshold, self.max_block_size)


class SurvivorshipConfig(_Strict):
    # Rules per golden attribute (see mdm.survivorship.spec_from_config); unset attributes keep the defaults.
    rules: dict[str, Any] | None = None
    # Steward overrides as CSV: golden_id, attribute, value, steward, decided_at (beat every rule).
    overrides: SafePath | None = None

    @field_validator("rules")
    @classmethod
    def _valid_rules(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            from mdm.survivorship import spec_from_config

            spec_from_config(v)  # raises ValueError naming the attribute and the bad key or rule
        return v


class TierRule(_Strict):
    """One customer tier: a customer gets the first tier (in config order) whose every minimum it meets."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_ -]{0,39}$")]
    min_balance: Annotated[float, Field(ge=0)] = 0.0  # total balance (absolute, reporting currency)
    min_products: Annotated[int, Field(ge=0)] = 0  # distinct products of open accounts
    min_tenure_years: Annotated[float, Field(ge=0)] = 0.0  # years since the relationship opened
    min_monthly_txn: Annotated[float, Field(ge=0)] = 0.0  # average transactions a month over the churn window


DEFAULT_TIERS = (
    TierRule(name="platinum", min_balance=5_000_000, min_products=2, min_tenure_years=3),
    TierRule(name="gold", min_balance=1_000_000, min_products=1, min_tenure_years=1),
    TierRule(name="silver", min_balance=100_000),
)


class ChurnConfig(_Strict):
    # Months in each window: the recent window is compared with the one before it.
    window_months: Annotated[int, Field(ge=1, le=24)] = 3
    # Relative fall of the average total balance (absolute values) from the earlier to the recent window.
    balance_drop: Annotated[float, Field(gt=0, le=1)] = 0.3
    # Relative fall of the transactions from the earlier to the recent window.
    transaction_drop: Annotated[float, Field(gt=0, le=1)] = 0.5


class RiskConfig(_Strict):
    # Year-on-year revenue fall that counts as sharp (0.2 = -20 % or worse).
    revenue_fall: Annotated[float, Field(gt=0, le=1)] = 0.2
    # Liabilities / assets above which leverage is flagged high.
    high_leverage: Annotated[float, Field(gt=0)] = 0.8


class MartsConfig(_Strict):
    """Analyst marts (sql/marts/): the reporting currency, the FX rates file and the tier/churn/risk rules."""

    reporting_currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    # CSV with columns currency, base, rate, as_of: 1 unit of `currency` is `rate` units of `base` (one base).
    fx_rates: Path | None = None
    # Ordered, best tier first; a customer meeting none gets `default_tier`.
    tiers: tuple[TierRule, ...] = DEFAULT_TIERS
    default_tier: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_ -]{0,39}$")] = "bronze"
    churn: ChurnConfig = ChurnConfig()
    risk: RiskConfig = RiskConfig()

    @field_validator("tiers")
    @classmethod
    def _unique_tiers(cls, v: tuple[TierRule, ...]) -> tuple[TierRule, ...]:
        names = [t.name for t in v]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate tier names in {names}")
        return v


class SecurityConfig(_Strict):
    # File holding the encryption keys of sensitive values (see pipelines/crypto.py); by default a key file
    # beside the config (.mdm-keys/), created by the first run. The env MDM_ENCRYPTION_KEY beats both.
    key_file: Path | None = None


class PerformanceConfig(_Strict):
    """How a run uses the machine (docs/scale-out.md): worker processes for the CPU-bound Python work
    (standardisation, pair comparison) and the rows handled per batch, which bounds memory."""

    # Worker processes; 0 = one per CPU core (at most 8). 1 runs everything in the run's own process.
    workers: Annotated[int, Field(ge=0, le=64)] = 0
    # Records (or pairs) per batch handed to one worker; memory grows with it, not with the data.
    batch_rows: Annotated[int, Field(ge=1_000, le=5_000_000)] = 100_000

    def worker_count(self) -> int:
        import os

        return self.workers or max(1, min(os.cpu_count() or 1, 8))


class Config(_Strict):
    warehouse: SafePath
    sources: list[SourceConfig]
    matching: MatchingConfig = MatchingConfig()
    validation: ValidationLimits = ValidationLimits()
    survivorship: SurvivorshipConfig = SurvivorshipConfig()
    marts: MartsConfig = MartsConfig()
    security: SecurityConfig = SecurityConfig()
    performance: PerformanceConfig = PerformanceConfig()
    # Reuse what the previous run computed for unchanged files and records (see README).
    incremental: bool = True
    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in v:
            if s.name in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name)
        if not v:
            raise ValueError("at least one source is needed")
        return v

    @model_validator(mode="after")
    def _source_limits(self) -> Config:
        for s in self.sources:
            if s.validation is not None:
                try:
                    self.limits(s.name)
                except ValidationError as e:
                    raise ValueError(
                        f"sources.{s.name}.validation: {e.errors()[0]['loc']}: {e.errors()[0]['msg']}"
                    ) from None
        return self

    def limits(self, source: str) -> ValidationLimits:
        """The validation limits of a source: its own `validation` keys over the config-wide ones."""
        s = self.source(source)
        if not s.validation:
            return self.validation
        return ValidationLimits.model_validate(self.validation.model_dump() | s.validation)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def priority(self, source: str) -> float:
        """Survivorship rank of a source (lower wins): its ``priority`` key, else the default order of
        formats (registers first), then the order of the config."""
        s = self.source(source)
        if s.priority is not None:
            return float(s.priority)
        return 100 + DEFAULT_FORMAT_PRIORITY.index(s.format) * 10 + self.sources.index(s) / 1000


def _resolve(base: Path, p: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


def _resolve_url(base: Path, url: str) -> str:
    """A SQLite URL's relative database path resolves against the config folder (any sqlite+driver)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except ArgumentError:
        return url  # reported by _check_url
    if (
        u.get_backend_name() == "sqlite"
        and u.database
        and u.database != ":memory:"
        and not u.database.startswith("file:")
        and not Path(u.database).is_absolute()
    ):
        return u.set(database=str((base / u.database).resolve())).render_as_string(hide_password=False)
    return url


def _connection_url(file: Path, source: SourceConfig) -> str:
    """A source's Airflow connection as an SQLAlchemy URL (pipelines/connections.py; no Airflow import)."""
    from pipelines.connections import ConnectionLookupError, sql_url

    try:
        return sql_url(source.connection or "")
    except ConnectionLookupError as e:
        raise ConfigError(f"{file}: sources.{source.name}.connection: {e}") from None


def _check_url(source: SourceConfig, file: Path) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(source.url or "")
    except ArgumentError as e:
        raise ConfigError(f"{file}: sources.{source.name}.url: not an SQLAlchemy URL: {e}") from None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and not Path(u.database).exists():
        raise ConfigError(f"{file}: sources.{source.name}.url: SQLite file not found: {u.database}")


def _read_config_text(file: Path) -> str:
    """The text of a config file: a regular file of at most MAX_CONFIG_SIZE bytes (``/dev/zero``, a FIFO
    or a huge file is refused at once, and never more than the limit is read)."""
    try:
        st = file.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{file}: cannot read the config file: {e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{file}: refused: the config must be a regular file (not a device, FIFO, socket or folder)")
    if st.st_size > MAX_CONFIG_SIZE:
        raise ConfigError(
            f"{file}: refused: the config file is {st.st_size:,} bytes, over the limit of {MAX_CONFIG_SIZE:,} bytes"
        )
    with file.open("rb") as fh:
        data = fh.read(MAX_CONFIG_SIZE + 1)
    if len(data) > MAX_CONFIG_SIZE:
        raise ConfigError(f"{file}: refused: the config file is over the limit of {MAX_CONFIG_SIZE:,} bytes")
    return data.decode("utf-8")


def _check_source_path(file: Path, s: SourceConfig) -> None:
    """A file source's path: an existing regular file (or a folder for sec_fsds), within max_file_size."""
    assert s.path is not None
    try:
        st = s.path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{file}: sources.{s.name}.path: file not found: {s.path}") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{file}: sources.{s.name}.path: cannot read {s.path}: {e}") from None
    if stat.S_ISDIR(st.st_mode) and s.format == "sec_fsds":
        return
    if not stat.S_ISREG(st.st_mode):
        allowed = "a regular file or a folder" if s.format == "sec_fsds" else "a regular file"
        raise ConfigError(
            f"{file}: sources.{s.name}.path: refused: {s.path} is not {allowed} (devices, FIFOs "
            f"and sockets cannot be sources)"
        )
    if st.st_size > s.max_file_size:
        raise ConfigError(
            f"{file}: sources.{s.name}.path: refused: {s.path} is {st.st_size:,} bytes, over "
            f"max_file_size ({s.max_file_size:,} bytes)"
        )


def load_config(path: str | Path, *, check_files: bool = True) -> Config:
    """Read, validate and resolve a config file; raise :class:`ConfigError` naming the key and file."""
    file = Path(path)
    try:
        raw: Any = yaml.safe_load(_read_config_text(file))
    except yaml.YAMLError as e:
        raise ConfigError(f"{file}: not valid YAML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8: {e}") from None
    except OSError as e:
        raise ConfigError(f"{file}: cannot read the config file: {e.strerror or e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping with 'warehouse' and 'sources'")
    base = file.resolve().parent
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = list(err["loc"])
            # Name sources by their name rather than their index where we can.
            if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
                with contextlib.suppress(Exception):
                    loc[1] = raw["sources"][loc[1]].get("name", loc[1])
            lines.append(f"  {'.'.join(str(x) for x in loc if not str(x).startswith('function-'))}: {err['msg']}")
        raise ConfigError(f"{file}: invalid configuration:\n" + "\n".join(lines)) from None
    sources = []
    for s in cfg.sources:
        upd: dict[str, Any] = {}
        if s.path is not None:
            upd["path"] = _resolve(base, s.path)
        if s.url is not None:
            upd["url"] = _resolve_url(base, s.url)
        if s.connection is not None:
            upd["url"] = _connection_url(file, s)
        sources.append(s.model_copy(update=upd))
    matching = cfg.matching
    if matching.decisions is not None:
        matching = matching.model_copy(update={"decisions": _resolve(base, matching.decisions)})
    surv = cfg.survivorship
    if surv.overrides is not None:
        surv = surv.model_copy(update={"overrides": _resolve(base, surv.overrides)})
    marts = cfg.marts
    if marts.fx_rates is not None:
        marts = marts.model_copy(update={"fx_rates": _resolve(base, marts.fx_rates)})
    security = cfg.security
    if security.key_file is not None:
        security = security.model_copy(update={"key_file": _resolve(base, security.key_file)})
    cfg = cfg.model_copy(
        update={
            "sources": sources,
            "warehouse": _resolve(base, cfg.warehouse),
            "config_path": file.resolve(),
            "matching": matching,
            "survivorship": surv,
            "marts": marts,
            "security": security,
        }
    )
    if check_files:
        if cfg.matching.decisions is not None and not cfg.matching.decisions.exists():
            raise ConfigError(f"{file}: matching.decisions: file not found: {cfg.matching.decisions}")
        if cfg.survivorship.overrides is not None and not cfg.survivorship.overrides.exists():
            raise ConfigError(f"{file}: survivorship.overrides: file not found: {cfg.survivorship.overrides}")
        if cfg.marts.fx_rates is not None and not cfg.marts.fx_rates.exists():
            raise ConfigError(f"{file}: marts.fx_rates: file not found: {cfg.marts.fx_rates}")
        for s in cfg.sources:
            if s.path is not None:
                _check_source_path(file, s)
            if s.format == "sql":
                _check_url(s, file)
    return cfg
