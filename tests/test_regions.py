"""The GB/T 2260 table: lookup, parents, prefixes and unknown codes."""

from __future__ import annotations

import pytest

from sanbuting import regions
from sanbuting.errors import UnknownRegion


def test_lookup_names_and_parents() -> None:
    assert regions.lookup("440305").name == "南山区"
    assert [r.code for r in regions.parents("440305")] == ["44", "4403"]
    assert regions.full_name("440305") == "广东省 深圳市 南山区"
    assert regions.full_name("110101") == "北京市 东城区"  # the 市辖区 grouping row is left out
    assert regions.lookup("42").name == "湖北省"
    assert regions.lookup("4201").level == "city"


def test_prefix_matching_at_every_level() -> None:
    assert regions.matches("440305", ["44"])
    assert regions.matches("440305", ["4403"])
    assert regions.matches("440305", ["440305"])
    assert not regions.matches("440305", ["4401", "42"])


def test_unknown_codes_name_the_code() -> None:
    with pytest.raises(UnknownRegion, match="449999"):
        regions.lookup("449999")
    with pytest.raises(UnknownRegion, match="'4403'"):
        regions.require_district("4403")


def test_table_is_complete_enough() -> None:
    districts = regions.districts()
    assert len(districts) > 2800
    assert {r.province_code for r in districts} >= {"11", "42", "44", "65"}
    assert regions.is_known("441900")  # 东莞: a city without districts has a 6-digit code
