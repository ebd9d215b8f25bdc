"""Fuzzing the config loader (issue 12, point 7): any file ends in a Config or a clear ConfigError naming
the file, never another exception, a traceback or a hang."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipelines.config import FORMATS, Config, load_config
from pipelines.errors import ConfigError
from tests.fuzz_helpers import mutated, no_hang, texts

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
SOURCE_KEYS = (
    "path",
    "url",
    "queries",
    "changes",
    "encoding",
    "chunk_size",
    "priority",
    "validation",
    "max_file_size",
    "max_zip_ratio",
    "max_line_size",
    "timeout",
)
source = st.fixed_dictionaries(
    {"name": st.one_of(texts, st.just("crm")), "format": st.sampled_from(FORMATS)},
    optional={k: st.one_of(anything, texts) for k in SOURCE_KEYS},
)
config = st.fixed_dictionaries(
    {"warehouse": st.one_of(texts, anything), "sources": st.one_of(st.lists(source, max_size=3), anything)},
    optional={
        "matching": st.dictionaries(
            st.sampled_from(("match_threshold", "review_threshold", "decisions", "max_block_size")),
            anything,
            max_size=3,
        ),
        "validation": anything,
        "survivorship": anything,
        "incremental": anything,
        "unknown_key": anything,
    },
)
SEED = b"""warehouse: warehouse
sources:
  - {name: gleif, format: gleif_lei_xml, path: registry/gleif_lei2.xml}
  - name: crm
    format: sql
    url: sqlite:///internal/crm.sqlite
    queries: {customers: "SELECT source_id, name FROM customers"}
    changes: {customers: updated_at}
matching: {match_threshold: 0.9, review_threshold: 0.5}
"""


def outcome(data: bytes) -> Config | ConfigError:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-cfg-"))
    path = folder / "mdm.yaml"
    path.write_bytes(data)
    results = []
    with no_hang():
        for check in (False, True):
            try:
                results.append(load_config(path, check_files=check))
            except ConfigError as e:
                assert str(path) in str(e)
                results.append(e)
    return results[-1]


@given(config)
def test_config_structures(raw: dict) -> None:
    outcome(yaml.safe_dump(raw, allow_unicode=True).encode("utf-8", "surrogatepass"))


@given(st.one_of(st.binary(max_size=300), mutated(SEED, max_edits=6)))
def test_config_bytes_and_mutations(data: bytes) -> None:
    outcome(data)


def test_seed_config_loads_without_checking_files() -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-cfg-"))
    (folder / "mdm.yaml").write_bytes(SEED)
    cfg = load_config(folder / "mdm.yaml", check_files=False)
    assert [s.name for s in cfg.sources] == ["gleif", "crm"]


def test_nul_characters_in_paths_are_a_config_error(tmp_path: Path) -> None:
    """Found by the fuzzer: a NUL in a path made the loader raise ValueError (embedded null byte)."""
    path = tmp_path / "mdm.yaml"
    path.write_text(
        'warehouse: "w\\0x"\nsources:\n  - {name: a, format: companies_house_csv, path: "a\\0b.csv"}\n'
        '  - {name: c, format: sql, url: "sqlite:///x\\0y", queries: {customers: "SELECT 1"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).count("contains a NUL character") == 3
