"""Reading a config file: size-limited, YAML, validated, with paths resolved against its folder and the
files and databases it names checked before any work."""

from __future__ import annotations

import contextlib
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipelines.config.model import Config
from pipelines.config.sources import SourceConfig
from pipelines.config.values import MAX_CONFIG_SIZE, StrictModel
from pipelines.errors import ConfigError


def _resolve(base: Path, p: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


# (section, key) of the files outside the sources that the config names; each must exist.
_INPUT_FILES = (("matching", "decisions"), ("survivorship", "overrides"), ("marts", "fx_rates"))
# Every path key outside the sources; the key file need not exist (the first run creates it).
_SECTION_PATHS = (*_INPUT_FILES, ("security", "key_file"))


def _resolve_key(base: Path, section: StrictModel, key: str) -> StrictModel:
    """The section with its path ``key`` resolved against the config folder (as it is when unset)."""
    value = getattr(section, key)
    return section if value is None else section.model_copy(update={key: _resolve(base, value)})


def _resolve_url(base: Path, url: str) -> str:
    """A SQLite URL's relative database path resolves against the config folder (any sqlite+driver)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except ArgumentError:
        return url  # reported by _check_url
    if (
        u.get_backend_name() == "sqlite"
        and u.database
        and u.database != ":memory:"
        and not u.database.startswith("file:")
        and not Path(u.database).is_absolute()
    ):
        return u.set(database=str((base / u.database).resolve())).render_as_string(hide_password=False)
    return url


def _connection_url(file: Path, source: SourceConfig) -> str:
    """A source's Airflow connection as an SQLAlchemy URL (pipelines/connections.py; no Airflow import)."""
    from pipelines.connections import ConnectionLookupError, sql_url

    try:
        return sql_url(source.connection or "")
    except ConnectionLookupError as e:
        raise ConfigError(f"{file}: sources.{source.name}.connection: {e}") from None


def _check_url(source: SourceConfig, file: Path) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(source.url or "")
    except ArgumentError as e:
        raise ConfigError(f"{file}: sources.{source.name}.url: not an SQLAlchemy URL: {e}") from None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and not Path(u.database).exists():
        raise ConfigError(f"{file}: sources.{source.name}.url: SQLite file not found: {u.database}")


def _read_config_text(file: Path) -> str:
    """The text of a config file: a regular file of at most MAX_CONFIG_SIZE bytes (``/dev/zero``, a FIFO
    or a huge file is refused at once, and never more than the limit is read)."""
    try:
        st = file.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{file}: cannot read the config file: {e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{file}: refused: the config must be a regular file (not a device, FIFO, socket or folder)")
    if st.st_size > MAX_CONFIG_SIZE:
        raise ConfigError(
            f"{file}: refused: the config file is {st.st_size:,} bytes, over the limit of {MAX_CONFIG_SIZE:,} bytes"
        )
    with file.open("rb") as fh:
        data = fh.read(MAX_CONFIG_SIZE + 1)
    if len(data) > MAX_CONFIG_SIZE:
        raise ConfigError(f"{file}: refused: the config file is over the limit of {MAX_CONFIG_SIZE:,} bytes")
    return data.decode("utf-8")


def _check_source_path(file: Path, s: SourceConfig) -> None:
    """A file source's path: an existing regular file (or a folder for sec_fsds), within max_file_size."""
    assert s.path is not None
    try:
        st = s.path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{file}: sources.{s.name}.path: file not found: {s.path}") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{file}: sources.{s.name}.path: cannot read {s.path}: {e}") from None
    if stat.S_ISDIR(st.st_mode) and s.format == "sec_fsds":
        return
    if not stat.S_ISREG(st.st_mode):
        allowed = "a regular file or a folder" if s.format == "sec_fsds" else "a regular file"
        raise ConfigError(
            f"{file}: sources.{s.name}.path: refused: {s.path} is not {allowed} (devices, FIFOs "
            f"and sockets cannot be sources)"
        )
    if st.st_size > s.max_file_size:
        raise ConfigError(
            f"{file}: sources.{s.name}.path: refused: {s.path} is {st.st_size:,} bytes, over "
            f"max_file_size ({s.max_file_size:,} bytes)"
        )


def load_config(path: str | Path, *, check_files: bool = True) -> Config:
    """Read, validate and resolve a config file; raise :class:`ConfigError` naming the key and file."""
    file = Path(path)
    try:
        raw: Any = yaml.safe_load(_read_config_text(file))
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
                with contextlib.suppress(Exception):
                    loc[1] = raw["sources"][loc[1]].get("name", loc[1])
            lines.append(f"  {'.'.join(str(x) for x in loc if not str(x).startswith('function-'))}: {err['msg']}")
        raise ConfigError(f"{file}: invalid configuration:\n" + "\n".join(lines)) from None
    sources = []
    for s in cfg.sources:
        upd: dict[str, Any] = {}
        if s.path is not None:
            upd["path"] = _resolve(base, s.path)
        if s.url is not None:
            upd["url"] = _resolve_url(base, s.url)
        if s.connection is not None:
            upd["url"] = _connection_url(file, s)
        sources.append(s.model_copy(update=upd))
    sections = {name: _resolve_key(base, getattr(cfg, name), key) for name, key in _SECTION_PATHS}
    cfg = cfg.model_copy(
        update={
            "sources": sources,
            "warehouse": _resolve(base, cfg.warehouse),
            "config_path": file.resolve(),
            **sections,
        }
    )
    if check_files:
        for name, key in _INPUT_FILES:
            named = getattr(getattr(cfg, name), key)
            if named is not None and not named.exists():
                raise ConfigError(f"{file}: {name}.{key}: file not found: {named}")
        for s in cfg.sources:
            if s.path is not None:
                _check_source_path(file, s)
            if s.format == "sql":
                _check_url(s, file)
    return cfg
