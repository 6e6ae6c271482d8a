"""Money in fen, dates and timestamps in Asia/Shanghai, masking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sanbuting.domain import (
    format_yuan,
    local_date,
    local_midnight,
    mask_phone,
    parse_date,
    parse_period,
    parse_timestamp,
    parse_yuan,
)
from sanbuting.errors import InvalidMoney, SanbutingError


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12.30", 1230),
        ("12.3", 1230),
        ("12", 1200),
        ("0.01", 1),
        ("0", 0),
        (" 7.05 ", 705),
        ("2000", 200000),
    ],
)
def test_yuan_text_parses_to_exact_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["12.301", "1e3", "1,000", "", "abc", ".5", "12.", "+3"])
def test_malformed_yuan_is_refused(text: str) -> None:
    with pytest.raises(InvalidMoney):
        parse_yuan(text)


def test_negative_yuan_only_where_allowed() -> None:
    with pytest.raises(InvalidMoney, match="negative"):
        parse_yuan("-1.00")
    assert parse_yuan("-1.05", allow_negative=True) == -105


@pytest.mark.parametrize(
    ("fen", "text"), [(1230, "12.30"), (5, "0.05"), (-5, "-0.05"), (0, "0.00")]
)
def test_fen_formats_as_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_format_then_parse_is_identity(fen: int) -> None:
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen


def test_dates_and_periods_are_strict() -> None:
    assert parse_date("2020-03-01") == date(2020, 3, 1)
    assert parse_period("2020-01") == "2020-01"
    for bad in ["2020-3-1", "2020-02-30", "01/03/2020"]:
        with pytest.raises(SanbutingError):
            parse_date(bad)
    for bad in ["2020-13", "2020-1", "202001"]:
        with pytest.raises(SanbutingError):
            parse_period(bad)


def test_timestamps_need_an_offset_and_map_to_shanghai_dates() -> None:
    moment = parse_timestamp("2020-02-03T23:30:00+00:00")
    assert local_date(moment) == date(2020, 2, 4)  # 07:30 next morning in Shanghai
    assert local_date(datetime(2020, 2, 3, 15, 59, tzinfo=UTC)) == date(2020, 2, 3)
    assert local_date(datetime(2020, 2, 3, 16, 0, tzinfo=timezone(timedelta(0)))) == date(
        2020, 2, 4
    )
    with pytest.raises(SanbutingError, match="offset"):
        parse_timestamp("2020-02-03T10:15:00")


def test_phones_are_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1234") == "****"


def test_a_policy_date_means_midnight_in_shanghai() -> None:
    midnight = local_midnight(date(2020, 3, 1))  # "至2020年3月1日零點"
    assert midnight.astimezone(UTC) == datetime(2020, 2, 29, 16, 0, tzinfo=UTC)
    assert local_date(midnight) == date(2020, 3, 1)
