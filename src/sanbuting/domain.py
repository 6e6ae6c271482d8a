"""The domain vocabulary: money in integer fen, the utilities, classes, modes and states, and
business time in Asia/Shanghai.

Money is always an `int` of fen (分, 1/100 yuan). Yuan text is parsed exactly (no float ever
touches an amount) and formatted with two decimals.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sanbuting import privacy
from sanbuting.errors import InvalidMoney, SanbutingError

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Business time zone: a date in a rule or policy means 00:00 of that day here."""

FEN_PER_YUAN = 100
MAX_FEN = 10**15
"""The largest amount sanbuting accepts (10 trillion yuan): guards against garbage input."""

_YUAN = re.compile(r"^(?P<sign>-)?(?P<whole>\d+)(?:\.(?P<frac>\d{1,2}))?$")
_PERIOD = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Utility(StrEnum):
    POWER = "power"
    TELECOM = "telecom"
    GAS = "gas"


class CustomerClass(StrEnum):
    RESIDENTIAL = "residential"
    NON_RESIDENTIAL = "non_residential"


class BillingMode(StrEnum):
    POSTPAID = "postpaid"
    PREPAID = "prepaid"


class AccountState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISCONNECTED = "disconnected"
    TERMINATED = "terminated"


class Action(StrEnum):
    """What the engine writes to `actions.csv`, in the order one day decides them."""

    RECONNECT = "reconnect"
    GUARANTEE_ON = "guarantee_on"
    GUARANTEE_OFF = "guarantee_off"
    REMIND = "remind"
    LOW_BALANCE = "low_balance"
    NOTICE = "notice"
    SUSPEND = "suspend"
    DISCONNECT = "disconnect"
    TERMINATE = "terminate"


ENFORCEMENT_ACTIONS = frozenset(
    {Action.NOTICE, Action.SUSPEND, Action.DISCONNECT, Action.TERMINATE}
)
ACTION_ORDER = {action: rank for rank, action in enumerate(Action)}


def parse_yuan(text: str, *, allow_negative: bool = False) -> int:
    """Parse yuan text such as ``"12.30"`` into fen (1230), exactly.

    More than two decimals, exponents, thousands separators and (unless allowed) negatives
    are refused: an amount that cannot be represented in fen is an input error, not a rounding.
    """
    match = _YUAN.match(text.strip())
    if match is None:
        raise InvalidMoney(
            f"{text!r} is not an amount in yuan: write digits with at most two decimals, e.g. 12.30"
        )
    if match["sign"] and not allow_negative:
        raise InvalidMoney(f"{text!r}: a negative amount makes no sense here")
    frac = (match["frac"] or "").ljust(2, "0")
    fen = int(match["whole"]) * FEN_PER_YUAN + int(frac or "0")
    if fen > MAX_FEN:
        raise InvalidMoney(f"{text!r} is larger than sanbuting accepts ({MAX_FEN // 100} yuan)")
    return -fen if match["sign"] else fen


def format_yuan(fen: int) -> str:
    """Format fen as yuan with two decimals: 1230 -> ``"12.30"``, -5 -> ``"-0.05"``."""
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{frac:02d}"


def parse_date(text: str) -> date:
    """Parse an ISO date ``YYYY-MM-DD`` (nothing else: no times, no other orders)."""
    candidate = text.strip()
    if not _DATE.match(candidate):
        raise SanbutingError(f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2020-03-01")
    try:
        return date.fromisoformat(candidate)
    except ValueError as exc:
        raise SanbutingError(f"{text!r} is not a real date ({exc})") from exc


def parse_period(text: str) -> str:
    """Validate a billing period ``YYYY-MM`` and return it normalised."""
    match = _PERIOD.match(text.strip())
    if match is None or not 1 <= int(match["month"]) <= 12:
        raise SanbutingError(f"{text!r} is not a billing period: write YYYY-MM, e.g. 2020-01")
    return f"{match['year']}-{match['month']}"


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries its UTC offset (``2020-02-03T10:15:00+08:00``)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise SanbutingError(
            f"{text!r} is not an ISO 8601 timestamp, e.g. 2020-02-03T10:15:00+08:00"
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SanbutingError(f"{text!r} has no UTC offset: add one, e.g. +08:00")
    return moment


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware moment (the day whose run sees it)."""
    if moment.tzinfo is None:
        raise SanbutingError("a naive datetime has no business date: give it a time zone")
    return moment.astimezone(SHANGHAI).date()


def local_midnight(day: date) -> datetime:
    """00:00 Asia/Shanghai of `day`: the instant a rule or policy date refers to."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def date_range(start: date, end_inclusive: date) -> list[date]:
    """Every day from `start` through `end_inclusive`."""
    return [start + timedelta(days=n) for n in range((end_inclusive - start).days + 1)]


def mask_phone(phone: str) -> str:
    """Mask a phone number for logs and screens: ``13812345678`` -> ``138****5678``, a fixed
    line ``020-12345678`` -> ``020-****5678`` (`sanbuting.privacy.mask_phone`)."""
    return privacy.mask_phone(phone)


def as_utc(moment: datetime) -> datetime:
    """An aware moment in UTC, as the store keeps every time; a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} is naive: give it a time zone")
    return moment.astimezone(UTC)


def read_utc(stored: datetime) -> datetime:
    """A time read back from the store, in UTC: SQLite returns the UTC it was given, naive."""
    if stored.tzinfo is None:
        return stored.replace(tzinfo=UTC)
    return stored.astimezone(UTC)


WRITE_OFF_PREFIX = "write-off:"
"""The payment key of an approved write-off (`desk.adjustments`): `payments.model.check`
refuses it to every payer, and the ledger books it to `bad_debt`, not `cash`."""
WRITE_OFF_CHANNEL = "write_off"


def is_write_off(key: str) -> bool:
    """Whether a payment key is a write-off's (see `WRITE_OFF_PREFIX`)."""
    return key.startswith(WRITE_OFF_PREFIX)
