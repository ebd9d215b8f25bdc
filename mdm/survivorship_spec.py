"""Survivorship rules as data: the golden attributes, the rule kinds, and the spec that says which rules
decide each attribute (:class:`SurvivorshipSpec`, validated from the config by :func:`spec_from_config`).

:mod:`mdm.survivorship` applies a spec to the records of each cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# golden attribute -> standardised record column
ATTRIBUTES: dict[str, str] = {
    "legal_name": "name",
    "legal_name_lang": "name_lang",
    "name_en": "name_en",
    "lei": "id_LEI",
    "uscc": "id_USCC",
    "cn_registration_number": "id_CN_REG",
    "gb_company_number": "id_GB_COH",
    "cik": "id_CIK",
    "ein": "ein",
    "registration_authority": "registration_authority",
    "registration_number": "registration_number",
    "legal_form": "legal_form",
    "legal_form_code": "legal_form_code",
    "category": "category",
    "entity_status": "entity_status",
    "country": "country_iso",
    "region": "region",
    "city": "city",
    "address": "address",
    "postal_code": "postal_code",
    "hq_country": "hq_country",
    "hq_city": "hq_city",
    "hq_address": "hq_address",
    "hq_postal_code": "hq_postal_code",
    "jurisdiction": "jurisdiction",
    "incorporated_on": "incorporated_on",
    "industry_code": "industry_code",
    "phone": "phone",
    "branch": "branch",
    "relationship_manager": "relationship_manager",
    "customer_status": "status",
    "customer_since": "opened_on",
}

SOURCE_PRIORITY = "source_priority"  # lowest source rank wins (sources without a rank come last)
MOST_RECENT = "most_recent"  # latest updated_at of the source record wins (a record without one loses)
MOST_COMPLETE = "most_complete"  # the record with the most non-blank golden attributes overall wins
MOST_FREQUENT = "most_frequent"  # the value most records of the cluster agree on (trimmed, case-folded) wins
RULES: tuple[str, ...] = (SOURCE_PRIORITY, MOST_RECENT, MOST_COMPLETE, MOST_FREQUENT)
TIE_BREAK = "tie_break"  # lineage rule when only the rid order separated the candidates
STEWARD_OVERRIDE = "steward_override"

GOLDEN_COLUMNS: tuple[str, ...] = ("golden_id", *ATTRIBUTES, "record_count", "source_count", "sources")
LINEAGE_COLUMNS: tuple[str, ...] = (
    "golden_id",
    "attribute",
    "value",
    "source",
    "source_id",
    "rid",
    "rule",
    "candidates",
)
OVERRIDE_COLUMNS: tuple[str, ...] = ("golden_id", "attribute", "value", "steward", "decided_at")
RECORD_COLUMNS = ("golden_id", "rid", "source", "source_id", "source_format", "updated_at")


@dataclass(frozen=True)
class AttributeRule:
    """How one golden attribute survives.

    rules: rule kinds from :data:`RULES`, applied in order. priority: source ranks (lower wins) that
    override the run's ranks for this attribute (sources not named keep their run rank). prefer_formats:
    records of these source formats (e.g. ``("sql",)``: the bank's own systems) rank before all others
    under ``source_priority``, whatever their source rank.
    """

    rules: tuple[str, ...]
    priority: Mapping[str, float] = field(default_factory=dict)
    prefer_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurvivorshipSpec:
    """Survivorship rules: ``default`` applies to every attribute not listed in ``attributes``."""

    default: tuple[str, ...]
    attributes: Mapping[str, AttributeRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_rule("default", AttributeRule(tuple(self.default)))
        for attr, rule in self.attributes.items():
            if attr not in ATTRIBUTES:
                raise ValueError(f"survivorship: unknown attribute {attr!r} (known: {', '.join(ATTRIBUTES)})")
            _check_rule(attr, rule)

    def rule_for(self, attribute: str) -> AttributeRule:
        """The rule of a golden attribute (its own, else the default)."""
        return self.attributes.get(attribute) or AttributeRule(tuple(self.default))


def _check_rule(attr: str, rule: AttributeRule) -> None:
    """Raise ValueError naming the attribute when a rule list is empty, repeats or names unknown rules."""
    if not rule.rules:
        raise ValueError(f"survivorship: attribute {attr!r}: 'rules' must name at least one rule")
    for r in rule.rules:
        if r not in RULES:
            raise ValueError(f"survivorship: attribute {attr!r}: unknown rule {r!r} (known: {', '.join(RULES)})")
    if len(set(rule.rules)) != len(rule.rules):
        raise ValueError(f"survivorship: attribute {attr!r}: a rule is listed twice in {list(rule.rules)}")
    if (rule.priority or rule.prefer_formats) and SOURCE_PRIORITY not in rule.rules:
        key = "priority" if rule.priority else "prefer_formats"
        raise ValueError(
            f"survivorship: attribute {attr!r}: {key!r} has no effect without the {SOURCE_PRIORITY!r} rule"
        )


_REGISTER_FIRST = AttributeRule((SOURCE_PRIORITY, MOST_RECENT))
_INTERNAL_FIRST = AttributeRule((SOURCE_PRIORITY, MOST_RECENT), prefer_formats=("sql",))

# Registers (ranked before internal systems by the run's source priority) win for the legal name,
# identifiers and the registered address; the bank's own systems (format sql) win for relationship data;
# the latest status wins; an industry code most sources agree on wins.
DEFAULT_SPEC = SurvivorshipSpec(
    default=(SOURCE_PRIORITY, MOST_RECENT),
    attributes={
        **{
            a: _REGISTER_FIRST
            for a in (
                "legal_name",
                "legal_name_lang",
                "name_en",
                "lei",
                "uscc",
                "cn_registration_number",
                "gb_company_number",
                "cik",
                "ein",
                "registration_authority",
                "registration_number",
                "country",
                "region",
                "city",
                "address",
                "postal_code",
                "jurisdiction",
            )
        },
        **{
            a: _INTERNAL_FIRST for a in ("relationship_manager", "branch", "phone", "customer_status", "customer_since")
        },
        "entity_status": AttributeRule((MOST_RECENT, SOURCE_PRIORITY)),
        "industry_code": AttributeRule((MOST_FREQUENT, SOURCE_PRIORITY, MOST_RECENT)),
    },
)

_ATTRIBUTE_KEYS = ("rules", "priority", "prefer_formats")


def spec_from_config(config: Mapping[str, Any], base: SurvivorshipSpec | None = DEFAULT_SPEC) -> SurvivorshipSpec:
    """A validated spec from a config mapping such as::

        {"default": ["source_priority", "most_recent"],
         "attributes": {"phone": {"rules": ["most_recent"], "priority": {"crm": 1}},
                        "relationship_manager": {"rules": ["source_priority"], "prefer_formats": ["sql"]}}}

    Attributes listed replace their rule in ``base``; the others keep it (``base=None``: they follow
    ``default``). An attribute entry without ``rules`` uses the default rules. Raises ValueError naming the
    attribute and the bad key, rule or value.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"survivorship: config must be a mapping, not {type(config).__name__}")
    for key in config:
        if key not in ("default", "attributes"):
            raise ValueError(f"survivorship: unknown key {key!r} (expected 'default', 'attributes')")
    if "default" in config:
        default = _names("default", "default", config["default"])
    elif base is not None:
        default = tuple(base.default)
    else:
        raise ValueError("survivorship: 'default' is required")
    entries = config.get("attributes") or {}
    if not isinstance(entries, Mapping):
        raise ValueError("survivorship: 'attributes' must be a mapping of attribute -> rule")
    attributes: dict[str, AttributeRule] = dict(base.attributes) if base is not None else {}
    for attr, entry in entries.items():
        if attr not in ATTRIBUTES:
            raise ValueError(f"survivorship: unknown attribute {attr!r} (known: {', '.join(ATTRIBUTES)})")
        if not isinstance(entry, Mapping):
            raise ValueError(
                f"survivorship: attribute {attr!r}: must be a mapping with keys {', '.join(_ATTRIBUTE_KEYS)}"
            )
        for key in entry:
            if key not in _ATTRIBUTE_KEYS:
                raise ValueError(
                    f"survivorship: attribute {attr!r}: unknown key {key!r} (expected {', '.join(_ATTRIBUTE_KEYS)})"
                )
        rules = _names(attr, "rules", entry["rules"]) if "rules" in entry else default
        prio = entry.get("priority") or {}
        if not isinstance(prio, Mapping) or not all(
            isinstance(s, str) and isinstance(r, int | float) and not isinstance(r, bool) for s, r in prio.items()
        ):
            raise ValueError(
                f"survivorship: attribute {attr!r}: 'priority' must map source names to numeric ranks, got {prio!r}"
            )
        formats = _names(attr, "prefer_formats", entry["prefer_formats"]) if "prefer_formats" in entry else ()
        rule = AttributeRule(rules, dict(prio), formats)
        _check_rule(attr, rule)
        attributes[attr] = rule
    return SurvivorshipSpec(default, attributes)


def _names(attr: str, key: str, value: Any) -> tuple[str, ...]:
    """A list of non-empty strings from the config, else ValueError naming the attribute and key."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"survivorship: attribute {attr!r}: {key!r} must be a list of names, got {value!r}")
    return tuple(value)
