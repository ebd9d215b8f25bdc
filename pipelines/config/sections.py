"""The config's sections after the sources: matching, survivorship, marts, security and performance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator

from pipelines.config.values import SafePath, StrictModel

if TYPE_CHECKING:
    from mdm.matching import MatchSettings


class MatchingConfig(StrictModel):
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


class SurvivorshipConfig(StrictModel):
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


class TierRule(StrictModel):
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


class ChurnConfig(StrictModel):
    # Months in each window: the recent window is compared with the one before it.
    window_months: Annotated[int, Field(ge=1, le=24)] = 3
    # Relative fall of the average total balance (absolute values) from the earlier to the recent window.
    balance_drop: Annotated[float, Field(gt=0, le=1)] = 0.3
    # Relative fall of the transactions from the earlier to the recent window.
    transaction_drop: Annotated[float, Field(gt=0, le=1)] = 0.5


class RiskConfig(StrictModel):
    # Year-on-year revenue fall that counts as sharp (0.2 = -20 % or worse).
    revenue_fall: Annotated[float, Field(gt=0, le=1)] = 0.2
    # Liabilities / assets above which leverage is flagged high.
    high_leverage: Annotated[float, Field(gt=0)] = 0.8


class MartsConfig(StrictModel):
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


class SecurityConfig(StrictModel):
    # File holding the encryption keys of sensitive values (see pipelines/crypto.py); by default a key file
    # beside the config (.mdm-keys/), created by the first run. The env MDM_ENCRYPTION_KEY beats both.
    key_file: Path | None = None


class PerformanceConfig(StrictModel):
    """How a run uses the machine (docs/scale-out.md): worker processes for the CPU-bound Python work
    (standardisation, pair comparison) and the rows handled per batch, which bounds memory."""

    # Worker processes; 0 = one per CPU core (at most 8). 1 runs everything in the run's own process.
    workers: Annotated[int, Field(ge=0, le=64)] = 0
    # Records (or pairs) per batch handed to one worker; memory grows with it, not with the data.
    batch_rows: Annotated[int, Field(ge=1_000, le=5_000_000)] = 100_000
    # Memory DuckDB may use for the run's staging database before it spills to disk (in the staging folder).
    duckdb_memory_gb: Annotated[float, Field(gt=0.1, le=1024)] = 3.0

    def worker_count(self) -> int:
        import os

        return self.workers or max(1, min(os.cpu_count() or 1, 8))

    def duckdb_config(self, spill: Path) -> dict[str, str | bool | int | float | list[str]]:
        """DuckDB settings for a staging connection: the memory limit, and where it spills beyond it."""
        return {"memory_limit": f"{self.duckdb_memory_gb:g}GB", "temp_directory": str(spill)}
