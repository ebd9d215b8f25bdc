"""The pipeline configuration: a YAML file validated with pydantic.

Relative paths resolve against the folder of the config file. Unknown keys or formats, missing files
and bad database URLs fail before any work, with a message naming the key and the file.

The public names live here; the modules behind them: :mod:`~pipelines.config.values` (limits, sizes, safe
paths), :mod:`~pipelines.config.sources` (one source), :mod:`~pipelines.config.sections` (matching,
survivorship, marts, security, performance), :mod:`~pipelines.config.model` (the whole config) and
:mod:`~pipelines.config.load` (reading and checking a file).
"""

from __future__ import annotations

from pipelines.config.load import load_config
from pipelines.config.model import Config
from pipelines.config.sections import (
    DEFAULT_TIERS,
    ChurnConfig,
    MartsConfig,
    MatchingConfig,
    PerformanceConfig,
    RiskConfig,
    SecurityConfig,
    SurvivorshipConfig,
    TierRule,
)
from pipelines.config.sources import (
    DEFAULT_FORMAT_PRIORITY,
    FILE_FORMATS,
    FORMATS,
    SourceConfig,
    ValidationLimits,
)
from pipelines.config.values import (
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_MAX_LINE_SIZE,
    DEFAULT_MAX_ZIP_RATIO,
    DEFAULT_SQL_TIMEOUT,
    MAX_CONFIG_SIZE,
    ByteSize,
    SafePath,
    parse_size,
)

__all__ = [
    "DEFAULT_FORMAT_PRIORITY",
    "DEFAULT_MAX_FILE_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "DEFAULT_MAX_ZIP_RATIO",
    "DEFAULT_SQL_TIMEOUT",
    "DEFAULT_TIERS",
    "FILE_FORMATS",
    "FORMATS",
    "MAX_CONFIG_SIZE",
    "ByteSize",
    "ChurnConfig",
    "Config",
    "MartsConfig",
    "MatchingConfig",
    "PerformanceConfig",
    "RiskConfig",
    "SafePath",
    "SecurityConfig",
    "SourceConfig",
    "SurvivorshipConfig",
    "TierRule",
    "ValidationLimits",
    "load_config",
    "parse_size",
]
