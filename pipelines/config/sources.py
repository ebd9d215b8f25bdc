"""The config of one source (format, where to read it, limits) and the validation limits of its loads."""

from __future__ import annotations

import codecs
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from pipelines.config.values import (
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_MAX_LINE_SIZE,
    DEFAULT_MAX_ZIP_RATIO,
    DEFAULT_SQL_TIMEOUT,
    ByteSize,
    SafePath,
    StrictModel,
    no_nul,
)

FILE_FORMATS = ("gleif_lei_xml", "gleif_rr_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds")
FORMATS = (*FILE_FORMATS, "sql")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Default survivorship order of formats when a config gives no source priority: registers first.
DEFAULT_FORMAT_PRIORITY = ("gleif_lei_xml", "cn_registry_csv", "companies_house_csv", "sec_fsds", "sql", "gleif_rr_xml")


class ValidationLimits(StrictModel):
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


class SourceConfig(StrictModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")]
    format: Literal[FORMATS]  # type: ignore[valid-type]
    path: SafePath | None = None
    url: Annotated[str, BeforeValidator(no_nul)] | None = None
    # `sql` sources: an Airflow connection id instead of `url` (pipelines/connections.py; docs/airflow.md).
    connection: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}$")] | None = None
    queries: dict[str, str] | None = None
    # Change-data capture for `sql` sources: query key -> the column holding each row's last update time.
    # An incremental run then reads only the rows updated at or after the previous load's latest value,
    # plus a count of the distinct keys (and the keys of all rows when the count shows a deletion), and keeps
    # the other rows from the previous landing.
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
