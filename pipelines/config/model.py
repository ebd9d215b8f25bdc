"""The whole pipeline configuration: the sources and every section, with the lookups the run makes on it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator

from pipelines.config.sections import (
    MartsConfig,
    MatchingConfig,
    PerformanceConfig,
    SecurityConfig,
    SurvivorshipConfig,
)
from pipelines.config.sources import DEFAULT_FORMAT_PRIORITY, SourceConfig, ValidationLimits
from pipelines.config.values import SafePath, StrictModel


class Config(StrictModel):
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
