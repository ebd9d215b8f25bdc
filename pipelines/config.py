"""The pipeline configuration: a YAML file validated with pydantic.

Relative paths resolve against the folder of the config file. Unknown keys or formats, missing files
and bad database URLs fail before any work, with a message naming the key and the file.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.errors import ConfigError

FILE_FORMATS = ("gleif_lei_xml", "gleif_rr_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds")
FORMATS = (*FILE_FORMATS, "sql")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Default survivorship order of formats when a config gives no source priority: registers first.
DEFAULT_FORMAT_PRIORITY = ("gleif_lei_xml", "cn_registry_csv", "companies_house_csv", "sec_fsds", "sql", "gleif_rr_xml")


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
    path: Path | None = None
    url: str | None = None
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

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        return v

    @model_validator(mode="after")
    def _shape(self) -> "SourceConfig":
        if self.format == "sql":
            if not self.url:
                raise ValueError("format 'sql' needs 'url' (an SQLAlchemy URL)")
            if not self.queries or "customers" not in self.queries:
                raise ValueError("format 'sql' needs 'queries' with at least 'customers'")
            unknown = set(self.queries) - {"customers", "accounts", "balances"}
            if unknown:
                raise ValueError(f"unknown queries {sorted(unknown)}; allowed: customers, accounts, balances")
            if self.path is not None:
                raise ValueError("format 'sql' takes 'url', not 'path'")
            for key, column in (self.changes or {}).items():
                if key not in self.queries:
                    raise ValueError(f"changes: {key!r} is not one of the configured queries ({', '.join(self.queries)})")
                if not _IDENTIFIER.match(column):
                    raise ValueError(f"changes.{key}: {column!r} is not a plain column name (letters, digits, _)")
        else:
            if self.path is None:
                raise ValueError(f"format {self.format!r} needs 'path'")
            if self.url or self.queries or self.changes:
                raise ValueError(f"format {self.format!r} takes 'path', not 'url'/'queries'/'changes'")
        return self


class MatchingConfig(_Strict):
    # Bands on the match probability of the Fellegi-Sunter model.
    match_threshold: Annotated[float, Field(ge=0, le=1)] = 0.90
    review_threshold: Annotated[float, Field(ge=0, le=1)] = 0.50
    max_block_size: Annotated[int, Field(gt=1)] = 200
    # Steward decisions as CSV (source_a, source_id_a, source_b, source_id_b, decision = match | no_match):
    # must-links and cannot-links for clustering, and labels for training the model.
    decisions: Path | None = None


class SurvivorshipConfig(_Strict):
    # Rules per golden attribute (see mdm.survivorship.spec_from_config); unset attributes keep the defaults.
    rules: dict[str, Any] | None = None
    # Steward overrides as CSV: golden_id, attribute, value, steward, decided_at (beat every rule).
    overrides: Path | None = None

    @field_validator("rules")
    @classmethod
    def _valid_rules(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            from mdm.survivorship import spec_from_config

            spec_from_config(v)  # raises ValueError naming the attribute and the bad key or rule
        return v


class SecurityConfig(_Strict):
    # File holding the encryption keys of sensitive values (see pipelines/crypto.py); by default a key file
    # beside the config (.mdm-keys/), created by the first run. The env MDM_ENCRYPTION_KEY beats both.
    key_file: Path | None = None


class Config(_Strict):
    warehouse: Path
    sources: list[SourceConfig]
    matching: MatchingConfig = MatchingConfig()
    validation: ValidationLimits = ValidationLimits()
    survivorship: SurvivorshipConfig = SurvivorshipConfig()
    security: SecurityConfig = SecurityConfig()
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
    def _source_limits(self) -> "Config":
        for s in self.sources:
            if s.validation is not None:
                try:
                    self.limits(s.name)
                except ValidationError as e:
                    raise ValueError(f"sources.{s.name}.validation: {e.errors()[0]['loc']}: {e.errors()[0]['msg']}") from None
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
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not u.database.startswith("file:") and not Path(u.database).is_absolute():
        return u.set(database=str((base / u.database).resolve())).render_as_string(hide_password=False)
    return url


def _check_url(source: SourceConfig, file: Path) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(source.url or "")
    except ArgumentError as e:
        raise ConfigError(f"{file}: sources.{source.name}.url: not an SQLAlchemy URL: {e}") from None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        if not Path(u.database).exists():
            raise ConfigError(f"{file}: sources.{source.name}.url: SQLite file not found: {u.database}")


def load_config(path: str | Path, *, check_files: bool = True) -> Config:
    """Read, validate and resolve a config file; raise :class:`ConfigError` naming the key and file."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"config file not found: {file}")
    try:
        raw: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
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
                try:
                    loc[1] = raw["sources"][loc[1]].get("name", loc[1])
                except Exception:  # noqa: BLE001 - best effort for the message only
                    pass
            lines.append(f"  {'.'.join(str(x) for x in loc if not str(x).startswith('function-'))}: {err['msg']}")
        raise ConfigError(f"{file}: invalid configuration:\n" + "\n".join(lines)) from None
    sources = []
    for s in cfg.sources:
        upd: dict[str, Any] = {}
        if s.path is not None:
            upd["path"] = _resolve(base, s.path)
        if s.url is not None:
            upd["url"] = _resolve_url(base, s.url)
        sources.append(s.model_copy(update=upd))
    matching = cfg.matching
    if matching.decisions is not None:
        matching = matching.model_copy(update={"decisions": _resolve(base, matching.decisions)})
    surv = cfg.survivorship
    if surv.overrides is not None:
        surv = surv.model_copy(update={"overrides": _resolve(base, surv.overrides)})
    security = cfg.security
    if security.key_file is not None:
        security = security.model_copy(update={"key_file": _resolve(base, security.key_file)})
    cfg = cfg.model_copy(update={"sources": sources, "warehouse": _resolve(base, cfg.warehouse),
                                 "config_path": file.resolve(), "matching": matching, "survivorship": surv,
                                 "security": security})
    if check_files:
        if cfg.matching.decisions is not None and not cfg.matching.decisions.exists():
            raise ConfigError(f"{file}: matching.decisions: file not found: {cfg.matching.decisions}")
        if cfg.survivorship.overrides is not None and not cfg.survivorship.overrides.exists():
            raise ConfigError(f"{file}: survivorship.overrides: file not found: {cfg.survivorship.overrides}")
        for s in cfg.sources:
            if s.path is not None and not s.path.exists():
                raise ConfigError(f"{file}: sources.{s.name}.path: file not found: {s.path}")
            if s.format == "sql":
                _check_url(s, file)
    return cfg
