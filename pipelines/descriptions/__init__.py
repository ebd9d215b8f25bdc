"""The data dictionary's words: what every table, view, table macro and column of the warehouse means.

Data only; :mod:`pipelines.schema_doc` renders it with the live DuckDB catalogue into docs/schema.md, and
:mod:`pipelines.comments` puts it on the tables as DuckDB comments. Tables declared by a SQL header
(``-- description:``/``-- column``, see pipelines/catalog.py) describe themselves there instead.

One module per area: :mod:`~pipelines.descriptions.golden` (golden records), :mod:`~pipelines.descriptions.sources`
(standardised source data), :mod:`~pipelines.descriptions.runs` (matching, runs and quality),
:mod:`~pipelines.descriptions.views` (analyst views, macros); :mod:`~pipelines.descriptions.shared` holds
:class:`Doc` and the column descriptions several areas share. The marts describe themselves in their SQL.
"""

from __future__ import annotations

from pipelines.descriptions.golden import GOLDEN, GOLDEN_COLUMNS
from pipelines.descriptions.runs import MATCHING, RUNS
from pipelines.descriptions.shared import COMMON, FINANCIAL_COLUMNS, HIERARCHY_COLUMNS, Doc
from pipelines.descriptions.sources import ORGANIZATION_COLUMNS, SOURCES
from pipelines.descriptions.views import FIGURES, MACROS, VIEWS
from pipelines.marts import mart_docs

RELATIONS: dict[str, Doc] = {**GOLDEN, **SOURCES, **MATCHING, **RUNS, **VIEWS}

# The marts describe themselves in their SQL headers (sql/marts/<name>.sql: -- description:, -- column x:).
RELATIONS.update({d.name: Doc(d.description, d.columns) for d in mart_docs().values()})

__all__ = [
    "COMMON",
    "FIGURES",
    "FINANCIAL_COLUMNS",
    "GOLDEN_COLUMNS",
    "HIERARCHY_COLUMNS",
    "MACROS",
    "ORGANIZATION_COLUMNS",
    "RELATIONS",
    "Doc",
]
