"""Which values are personal or confidential: declared once, here.

Every other module asks this one. A value is *sensitive* when it can name or reach a person: a phone
number, the bank's relationship manager, a legal representative (法人代表), a company officer or a
contact. Sensitive values are encrypted before they reach disk (see :mod:`pipelines.crypto`) and are
shown to analysts only as tokens (see ``sql/marts/analyst_views.sql``).

- :data:`SENSITIVE_COLUMNS`: column names that are sensitive in every table they appear in (landings,
  staging, ``organization_record``, ``golden_organization`` and its history, Parquet exports).
- :data:`SENSITIVE_EXTRA_KEYS`: keys of the ``extra`` JSON column that are sensitive, per source format;
  :data:`ALL_KEYS` for formats whose ``extra`` holds columns nobody has classified (a bank system's
  columns outside the contract may be contact names or e-mail addresses: sensitive until declared).
- :data:`SENSITIVE_ATTRIBUTES`: golden attributes whose values are sensitive (rows of
  ``golden_attribute_lineage`` and steward overrides of these attributes hold sensitive values).
"""

from __future__ import annotations

from typing import Final

# Sensitive wherever a column of this name appears.
SENSITIVE_COLUMNS: Final[frozenset[str]] = frozenset({"phone", "relationship_manager"})

# The column holding source-specific attributes as a JSON object (mdm.schema.ORGANIZATION).
EXTRA_COLUMN: Final = "extra"

ALL_KEYS: Final = "*"
# Source format -> keys of `extra` that are sensitive (ALL_KEYS: every key).
SENSITIVE_EXTRA_KEYS: Final[dict[str, frozenset[str] | str]] = {
    "cn_registry_csv": frozenset({"legal_representative"}),  # 法人代表: a natural person
    "companies_house_csv": frozenset({"officers", "persons_with_significant_control"}),
    "gleif_lei_xml": frozenset(),
    "sec_fsds": frozenset(),
    "sql": ALL_KEYS,  # unclassified columns of a bank system
}

# Golden attributes (mdm.survivorship.ATTRIBUTES) that carry sensitive values.
SENSITIVE_ATTRIBUTES: Final[frozenset[str]] = frozenset({"phone", "relationship_manager"})


def is_sensitive_column(column: str) -> bool:
    """Whether a column of this name holds sensitive values in every table."""
    return column in SENSITIVE_COLUMNS


def sensitive_extra_keys(source_format: str) -> frozenset[str] | str:
    """The sensitive keys of ``extra`` for a source format (:data:`ALL_KEYS` for every key); an unknown
    format is treated as unclassified, so every key is sensitive."""
    return SENSITIVE_EXTRA_KEYS.get(source_format, ALL_KEYS)


def is_sensitive_extra_key(source_format: str, key: str) -> bool:
    keys = sensitive_extra_keys(source_format)
    return keys == ALL_KEYS or key in keys
