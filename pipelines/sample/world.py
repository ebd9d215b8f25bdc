"""The world builder: corporate groups of entities with names, addresses, identifiers and source membership."""

from __future__ import annotations

import random
from datetime import date, timedelta

from pipelines.sample import synth
from pipelines.sample.entities import Address, Entity
from pipelines.sample.pools import (
    _ABROAD,
    _CN_BUILDINGS,
    _CN_CITIES,
    _CN_FORM_EN,
    _CN_ROADS,
    _COUNTRY_QUALIFIER,
    _DE_COURTS,
    _EIN_PREFIXES,
    _FORMS,
    _GB_BUILDINGS,
    _GB_STREETS,
    _GB_TOWNS,
    _HK_DISTRICTS,
    _INDUSTRIES,
    _JP_WARDS,
    _LOUS,
    _MUNICIPALITIES,
    _OTHER_CITIES,
    _OTHER_STREETS,
    _PC_LETTERS,
    _QUALIFIERS,
    _REGION_QUALIFIERS,
    _ROOT_COUNTRIES,
    _US_CITIES,
    _US_RA,
    _US_STREETS,
    _WORD_STEMS,
    _ZIHAO,
    _latin_stems,
)
from pipelines.sample.spaces import _Ids, _rand_date, _Space, _weighted


class World:
    """Builds groups of entities and renders their names, addresses and identifiers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.stems = _latin_stems()
        self.latin = _Space(rng, len(self.stems), len(_INDUSTRIES))
        self.zh = _Space(rng, len(_ZIHAO) * len(_ZIHAO), len(_INDUSTRIES))
        self.ids = _Ids(rng)
        self.next_idx = 0

    # stems ------------------------------------------------------------------------------------
    def latin_stem(self, s: int) -> tuple[str, str]:
        """Latin and Chinese renderings of Latin stem number ``s``."""
        return self.stems[s]

    @staticmethod
    def zh_stem(s: int) -> tuple[str, str]:
        """Pinyin (capitalised) and Chinese renderings of trade-name number ``s``."""
        a, b = divmod(s, len(_ZIHAO))
        return (_ZIHAO[a][1] + _ZIHAO[b][1]).capitalize(), _ZIHAO[a][0] + _ZIHAO[b][0]

    # addresses ---------------------------------------------------------------------------------
    def address(self, country: str, near: Address | None = None) -> Address:
        """A random address in ``country`` (in ``near``'s city when given)."""
        rng = self.rng
        if country == "CN":
            if near is not None and near.country == "CN":
                cn_city = next(c for c in _CN_CITIES if c[1] == near.city)
            else:
                cn_city = _CN_CITIES[rng.randrange(len(_CN_CITIES))]
            province, name, _, region, phone, postal, districts = cn_city
            district, area = districts[rng.randrange(len(districts))]
            road = _CN_ROADS[rng.randrange(len(_CN_ROADS))]
            prefix = f"{name}市" if province in _MUNICIPALITIES else f"{province}省{name}市"
            line = f"{prefix}{district}{road}{rng.randrange(1, 2000)}号"
            if rng.random() < 0.35:
                line += f"{_CN_BUILDINGS[rng.randrange(len(_CN_BUILDINGS))]}{rng.randrange(2, 40)}{rng.randrange(1, 20):02d}室"
            return Address(
                (line,), name, region, f"{postal[:4]}{rng.randrange(100):02d}", "CN", district, province, area, phone
            )
        if country == "GB":
            town = _GB_TOWNS[rng.randrange(len(_GB_TOWNS))]
            pc = f"{town[2][rng.randrange(len(town[2]))]} {rng.randrange(1, 10)}{rng.choice(_PC_LETTERS)}{rng.choice(_PC_LETTERS)}"
            street = f"{rng.randrange(1, 300)} {_GB_STREETS[rng.randrange(len(_GB_STREETS))]}"
            if rng.random() < 0.5:
                lines: tuple[str, ...] = (
                    f"{rng.choice(('Unit', 'Suite', 'Floor'))} {rng.randrange(1, 30)} {rng.choice(_WORD_STEMS[:40])} {rng.choice(_GB_BUILDINGS)}",
                    street,
                )
            else:
                lines = (street,)
            return Address(lines, town[0].title(), town[1].title(), pc, "GB", phone_prefix=town[3], district=town[4])
        if country == "US":
            city, state, zip_base, area = _US_CITIES[rng.randrange(len(_US_CITIES))]
            lines = (f"{rng.randrange(1, 9999)} {_US_STREETS[rng.randrange(len(_US_STREETS))]}",)
            if rng.random() < 0.5:
                lines += (f"Suite {rng.randrange(100, 4000)}",)
            return Address(lines, city, f"US-{state}", f"{zip_base + rng.randrange(40):05d}", "US", phone_prefix=area)
        cities = _OTHER_CITIES[country]
        city, region, pbase, phone = cities[rng.randrange(len(cities))]
        street = _OTHER_STREETS[country][rng.randrange(len(_OTHER_STREETS[country]))]
        n = rng.randrange(1, 200)
        if country == "DE":
            return Address(
                (f"{street} {n}",), city, region, f"{pbase + rng.randrange(60):05d}", country, phone_prefix=phone
            )
        if country == "FR":
            return Address(
                (f"{n} {street}",), city, region, f"{pbase + rng.randrange(16):05d}", country, phone_prefix=phone
            )
        if country == "HK":
            lines = (
                f"Room {rng.randrange(1, 40)}{rng.randrange(1, 20):02d}, {rng.randrange(2, 60)}/F, {rng.choice(_WORD_STEMS[:40])} Tower",
                f"{n} {street}, {rng.choice(_HK_DISTRICTS)}",
            )
            return Address(lines, city, region, "", country, phone_prefix=phone)
        if country == "SG":
            return Address(
                (f"{n} {street} #{rng.randrange(2, 60):02d}-{rng.randrange(1, 20):02d}",),
                city,
                region,
                f"{pbase + rng.randrange(70000):06d}",
                country,
                phone_prefix=phone,
            )
        pnum = pbase + rng.randrange(50)
        return Address(
            (f"{rng.randrange(1, 9)}-{rng.randrange(1, 20)}-{rng.randrange(1, 30)} {street}, {rng.choice(_JP_WARDS)}",),
            city,
            region,
            f"{pnum // 10000:03d}-{pnum % 10000:04d}",
            country,
            phone_prefix=phone,
        )

    # names -------------------------------------------------------------------------------------
    def render(
        self,
        country: str,
        form: str,
        stem_l: str,
        stem_z: str,
        ind: int,
        qual: int | None,
        city_prefix: str = "",
        group_word: bool = False,
    ) -> tuple[str, str | None]:
        """The legal name (and English name for Chinese) of an entity."""
        en, zh, de, fr = _INDUSTRIES[ind][:4]
        canon = _FORMS[form][1]
        if country == "CN":
            q = f"（{_QUALIFIERS[qual][1]}）" if qual is not None else ""
            grp = "集团" if group_word else ""
            name = f"{city_prefix}{stem_z}{zh}{grp}{q}{canon}"
            qe = f" ({_QUALIFIERS[qual][0]})" if qual is not None else ""
            pre = ""
            if city_prefix:
                pre = next(c[2] for c in _CN_CITIES if city_prefix.startswith(c[1])) + " "
            name_en = f"{pre}{stem_l} {en}{' Group' if group_word else ''}{qe} {_CN_FORM_EN[form][0]}"
            return name, name_en
        word = {"DE": de, "FR": fr}.get(country, en)
        lang_col = {"DE": 2, "FR": 3}.get(country, 0)
        q = ""
        if qual is not None:
            text, bracket = _QUALIFIERS[qual][lang_col], _QUALIFIERS[qual][4]
            q = f" ({text})" if bracket else f" {text}"
        return f"{stem_l} {word}{q} {canon}", None

    def form_for(self, country: str, kind: str) -> str:
        r = self.rng.random()
        if country == "CN":
            return "cn_jsc" if r < 0.1 and kind == "root" else ("cn_llc" if r < 0.35 else "cn_ltd")
        if country == "GB":
            return "gb_plc" if r < 0.05 and kind == "root" else ("gb_llp" if r < 0.08 else "gb_ltd")
        if country == "US":
            return "us_inc" if r < 0.45 else ("us_corp" if r < 0.7 else "us_llc")
        if country == "DE":
            return "de_ag" if r < 0.15 else "de_gmbh"
        if country == "FR":
            return "fr_sa" if r < 0.15 else ("fr_sarl" if r < 0.45 else "fr_sas")
        return {"HK": "hk_ltd", "SG": "sg_pte", "JP": "jp_kk"}[country]

    # groups ------------------------------------------------------------------------------------
    def group(self, max_size: int) -> list[Entity]:
        """One corporate group (root first), at most ``max_size`` entities."""
        rng = self.rng
        r = rng.random()
        size = 1 if r < 0.72 else (rng.randint(2, 4) if r < 0.93 else rng.randint(5, 12))
        size = min(size, max_size)
        country = _weighted(rng, _ROOT_COUNTRIES)
        if country == "CN":
            s, ind = self.zh.take()
            stem_l, stem_z = self.zh_stem(s)
        else:
            s, ind = self.latin.take()
            stem_l, stem_z = self.latin_stem(s)
        root = self._entity(country, "root", None, stem_l, stem_z, ind, None, size > 1)
        root.root = root
        members = [root]
        used_q: set[int] = set()
        for _ in range(size - 1):
            parent = root if rng.random() < 0.7 else members[rng.randrange(len(members))]
            if parent.kind == "branch":
                parent = root
            c = parent.country if rng.random() < 0.7 else _weighted(rng, _ABROAD)
            kind = "branch" if c == "CN" and parent.country == "CN" and rng.random() < 0.35 else "sub"
            q = self._qualifier(c, used_q, parent.address)
            used_q.add(q)
            child = self._entity(c, kind, parent, stem_l, stem_z, ind, q, False)
            child.root = root
            members.append(child)
        return members

    def _qualifier(self, country: str, used: set[int], near: Address | None) -> int:
        """A qualifier index not yet used in the group; for CN the city the member is in
        (often the parent's)."""
        rng = self.rng
        if country == "CN":
            home = next((i for i, c in enumerate(_CN_CITIES) if near is not None and c[1] == near.city), None)
            if home is not None and home not in used and rng.random() < 0.5:
                return home
            free = [i for i in range(len(_CN_CITIES)) if i not in used]
            return free[rng.randrange(len(free))]
        else:
            want = _COUNTRY_QUALIFIER.get(country)
            q = next((i for i, t in enumerate(_QUALIFIERS) if t[0] == want), -1)
            if q < 0 or q in used or rng.random() < 0.4:
                free = [i for i in _REGION_QUALIFIERS if i not in used]
                if not free:
                    free = [i for i in range(len(_QUALIFIERS)) if i not in used]
                q = free[rng.randrange(len(free))]
        return q

    def _entity(
        self,
        country: str,
        kind: str,
        parent: Entity | None,
        stem_l: str,
        stem_z: str,
        ind: int,
        qual: int | None,
        has_children: bool,
    ) -> Entity:
        rng = self.rng
        idx = self.next_idx
        self.next_idx += 1
        name_en: str | None
        if kind == "branch":
            assert parent is not None and qual is not None
            form = parent.form
            city = _CN_CITIES[qual]
            name = f"{parent.name}{city[1]}分公司"
            name_en = f"{parent.name_en} {city[2]} Branch"
            addr = self.address("CN", Address((), city[1], "", "", "CN"))
        else:
            form = self.form_for(country, kind)
            city_prefix = ""
            if country == "CN" and kind == "root" and rng.random() < 0.3:
                c = _CN_CITIES[rng.randrange(len(_CN_CITIES))]
                city_prefix = c[1] + ("市" if rng.random() < 0.5 else "")
            name, name_en = self.render(
                country,
                form,
                stem_l,
                stem_z,
                ind,
                qual,
                city_prefix,
                has_children and country == "CN" and rng.random() < 0.3,
            )
            here: Address | None = None
            if country == "CN" and qual is not None:
                here = Address((), _CN_CITIES[qual][1], "", "", "CN")
            elif city_prefix:
                here = Address((), city_prefix.removesuffix("市"), "", "", "CN")
            if (
                parent is not None
                and parent.country == country
                and rng.random() < 0.5
                and (here is None or here.city == parent.address.city)
            ):
                addr = parent.address
            else:
                addr = self.address(country, here)
        start = parent.incorporated if parent is not None else date(1965, 1, 1)
        incorporated = _rand_date(rng, start, date(2022, 6, 30))
        e = Entity(
            idx,
            country,
            kind,
            form,
            name,
            name_en,
            ind,
            addr,
            incorporated,
            rng.random() < 0.94,
            parent=parent,
            stem_latin=stem_l,
        )
        if kind == "root" and rng.random() < 0.12:
            if country == "CN":
                s, find = self.zh.take_former()
                fl, fz = self.zh_stem(s)
            else:
                s, find = self.latin.take_former()
                fl, fz = self.latin_stem(s)
            e.former_name, e.former_name_en = self.render(country, form, fl, fz, find, None)
            e.renamed_on = _rand_date(rng, max(incorporated, date(2005, 1, 1)) + timedelta(days=200), date(2024, 3, 1))
        if rng.random() < 0.2:
            e.old_address = self.address(country, addr)
        self._identifiers(e)
        self._membership(e)
        return e

    def _identifiers(self, e: Entity) -> None:
        rng, ids = self.rng, self.ids
        c = e.country
        if c == "CN":
            e.uscc = synth.make_uscc(e.address.area_code, f"{ids.next('uscc'):08d}")
            e.reg_authority, e.reg_id = "RA000092", e.uscc
        elif c == "GB":
            reg = e.address.district
            if reg == "SC":
                e.ch_number = f"SC{ids.next('ch6'):06d}"
            elif reg == "NI":
                e.ch_number = f"NI{ids.next('ch6'):06d}"
            elif e.form == "gb_llp":
                e.ch_number = f"OC{ids.next('ch6'):06d}"
            else:
                e.ch_number = f"{ids.next('ch8'):08d}"
            e.reg_authority, e.reg_id = "RA000585", e.ch_number
        elif c == "US":
            e.us_state = "DE" if rng.random() < 0.75 else "CA"
            e.reg_authority, e.reg_id = _US_RA[e.us_state], f"{ids.next('state'):07d}"
            e.ein = _EIN_PREFIXES[rng.randrange(len(_EIN_PREFIXES))] + f"{ids.next('ein'):07d}"
        elif c == "DE":
            e.reg_authority = _DE_COURTS[rng.randrange(len(_DE_COURTS))]
            e.reg_id = f"{'HRB' if e.form in ('de_gmbh', 'de_ag') else 'HRA'} {ids.next('hrb') + 1000}"
        elif c == "FR":
            e.reg_authority, e.reg_id = "RA000189", synth.make_siren(f"{ids.next('siren'):08d}")
        elif c == "HK":
            e.reg_authority, e.reg_id = "RA000388", f"{ids.next('hkcr'):07d}"
        else:
            e.reg_authority, e.reg_id = "RA999999", None

    def _membership(self, e: Entity) -> None:
        r = self.rng.random
        c, kind = e.country, e.kind
        src = e.sources
        if c == "CN":
            src.add("cn_registry")
            if kind != "branch" and r() < (0.35 if kind == "root" else 0.25):
                src.add("gleif")
        elif c == "GB":
            src.add("uk_registry")
            if r() < (0.4 if kind == "root" else 0.3):
                src.add("gleif")
            if kind == "root" and r() < 0.03:
                src.add("sec")
        elif c == "US":
            if r() < (0.8 if kind == "root" else 0.2):
                src.add("sec")
            if r() < 0.5:
                src.add("gleif")
        elif r() < 0.85:
            src.add("gleif")
        if r() < 0.8:
            src.add("crm")
        if not src:
            src.add("gleif" if r() < 0.5 else "crm")
        if "gleif" in src:
            lous = _LOUS[c]
            lou = lous[self.rng.randrange(len(lous))]
            e.lei = synth.make_lei(lou[:4], "00" + synth.to_base(self.ids.next("lei"), 12))
        if "sec" in src:
            e.cik = str(self.ids.next("cik") + 20000)
