"""Source adapters, one per ``format``; each module exposes ``extract(ctx) -> Iterator[Batch]``."""

from __future__ import annotations

from importlib import import_module

from pipelines.adapters.base import Adapter, Batch, ExtractContext, conform

_MODULES = {
    "gleif_lei_xml": ("pipelines.adapters.gleif", "extract_lei"),
    "gleif_rr_xml": ("pipelines.adapters.gleif", "extract_rr"),
    "companies_house_csv": ("pipelines.adapters.companies_house", "extract"),
    "cn_registry_csv": ("pipelines.adapters.cn_registry", "extract"),
    "sec_fsds": ("pipelines.adapters.sec_fsds", "extract"),
    "sql": ("pipelines.adapters.sql", "extract"),
}


def get_adapter(fmt: str) -> Adapter:
    module, func = _MODULES[fmt]
    return getattr(import_module(module), func)


__all__ = ["Adapter", "Batch", "ExtractContext", "conform", "get_adapter"]
