"""The records of the sample world: a legal entity and its postal address."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Address:
    """A postal address; ``lines`` are street lines, ``full`` the one-line form a CRM would keep."""

    lines: tuple[str, ...]
    city: str
    region: str
    postal: str
    country: str
    district: str = ""  # CN: 区/县 (with suffix); GB: the register (EW, SC or NI)
    province: str = ""  # CN: 所在省份
    area_code: str = ""  # CN: 6-digit administrative division code
    phone_prefix: str = ""

    @property
    def full(self) -> str:
        if self.country == "CN":
            return self.lines[0]
        return ", ".join(self.lines)


@dataclass
class Entity:
    """One legal entity of the world and everything the sources know about it."""

    idx: int
    country: str
    kind: str  # root / sub / branch
    form: str  # key of _FORMS
    name: str  # current legal name, native script
    name_en: str | None  # English name of a Chinese-script entity
    industry: int
    address: Address
    incorporated: date
    active: bool
    parent: Entity | None = None
    root: Entity | None = None
    former_name: str | None = None
    former_name_en: str | None = None
    renamed_on: date | None = None
    old_address: Address | None = None
    stem_latin: str = ""
    lei: str | None = None
    uscc: str | None = None
    ch_number: str | None = None
    cik: str | None = None
    ein: str | None = None
    reg_authority: str | None = None
    reg_id: str | None = None
    us_state: str = ""
    sources: set[str] = field(default_factory=set)  # membership only; never iterated

    @property
    def entity_id(self) -> str:
        return f"E{self.idx + 1:07d}"
