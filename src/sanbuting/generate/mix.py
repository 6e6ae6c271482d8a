"""The synthetic population's mix, as data: how accounts split by utility, class, billing mode,
tags and state, how much they are billed or consume, and how they pay.

Every share here is an assumption chosen to look like a utility's export and to exercise the
engine (overdue bills before the start date, prepaid balances crossing zero, tagged accounts
for the relief policies); none is a published statistic. Money is integer fen.
"""

from __future__ import annotations

from enum import IntEnum

from sanbuting.domain import AccountState, Utility

UTILITY_SHARE: dict[Utility, float] = {
    Utility.POWER: 0.45,
    Utility.TELECOM: 0.35,
    Utility.GAS: 0.20,
}
"""Share of accounts per utility (the counts are one multinomial draw per seed)."""

ID_LETTER: dict[Utility, str] = {Utility.POWER: "P", Utility.TELECOM: "T", Utility.GAS: "G"}
"""Account ids are this letter and a zero-padded number counted per utility (P00000001)."""

ID_DIGITS = 8
"""Digits of an account number (more when a utility has more accounts than that holds)."""

RESIDENTIAL_SHARE = 0.90

PREPAID_SHARE: dict[Utility, float] = {
    Utility.POWER: 0.30,  # 費控 smart meters
    Utility.TELECOM: 0.40,  # prepaid SIM cards
    Utility.GAS: 0.50,  # IC-card meters
}

# Tags (the relief policies' vocabulary), drawn independently, per customer class.
HOSPITAL_SHARE = {"residential": 0.001, "non_residential": 0.04}  # ~0.5% overall
EPIDEMIC_KEY_SHARE = {"residential": 0.0055, "non_residential": 0.05}  # ~1% overall
FRONTLINE_MEDICAL_SHARE_OF_RESIDENTIAL_TELECOM = 0.011  # ~1% of telecom accounts

PHONE_SHARE: dict[Utility, float] = {
    Utility.POWER: 0.6,
    Utility.TELECOM: 0.9,
    Utility.GAS: 0.5,
}
"""Share of accounts with a (fake, well-formed) 11-digit mobile number 13x-19x."""

CUTOFF_STATE: dict[Utility, AccountState] = {
    Utility.POWER: AccountState.DISCONNECTED,
    Utility.TELECOM: AccountState.SUSPENDED,
    Utility.GAS: AccountState.DISCONNECTED,
}
"""The state of an account already cut off on the start date, by utility."""

CUTOFF_SHARE_OF_NEVER_PAYERS = 0.10
"""Postpaid: share of never-paying accounts already cut off on the start date (~0.8% of all)."""
CUTOFF_SHARE_OF_PARTIAL_PAYERS = 0.03
CUTOFF_SHARE_OF_PREPAID_AT_FLOOR = 0.5
"""Prepaid: share of accounts starting at or below their floor that are already cut off."""

MONTHLY_FEN: dict[tuple[Utility, bool], tuple[int, int]] = {
    # (utility, non_residential): (low, high) of an account's typical monthly bill, in fen;
    # each account's typical amount is log-uniform in the range.
    (Utility.POWER, False): (5_000, 40_000),  # 50-400 yuan
    (Utility.POWER, True): (50_000, 2_000_000),  # 500-20,000 yuan
    (Utility.TELECOM, False): (3_000, 30_000),  # 30-300 yuan
    (Utility.TELECOM, True): (10_000, 300_000),  # business lines: 100-3,000 yuan
    (Utility.GAS, False): (3_000, 30_000),  # 30-300 yuan
    (Utility.GAS, True): (30_000, 1_000_000),  # restaurants, boilers: 300-10,000 yuan
}
MONTHLY_VARIATION = (0.8, 1.25)
"""Each bill is the account's typical amount times a factor drawn uniformly in this range."""

FIRST_PERIOD_MONTHS_BEFORE_START = 2
"""Bills start with the period this many months before the start month (issued the month
after), so some are overdue on the start date and the engine's replay has work to do."""
ISSUE_DAY_RANGE = (1, 10)
"""Bills are issued on this day of the month after their period (fixed per account)."""
DUE_AFTER_ISSUE_DAYS = (15, 20)
"""A bill is due this many days after its issue (fixed per account)."""


class Payer(IntEnum):
    """How a postpaid account pays its bills (fixed per account)."""

    ON_TIME = 0  # each bill in full between its issue and due dates
    LATE = 1  # each bill in full (plus the late fee) 5-60 days after its due date
    PARTIAL = 2  # a part around the due date, sometimes the rest (plus fee) later
    NEVER = 3  # nothing


PAYER_SHARE: dict[Payer, float] = {
    Payer.ON_TIME: 0.70,
    Payer.LATE: 0.15,
    Payer.PARTIAL: 0.07,
    Payer.NEVER: 0.08,
}
LATE_DAYS = (5, 60)
"""A late payer's delay after the due date: fixed per account, plus a little jitter per bill,
always within this range..."""
LATE_EXTRA_MEAN_DAYS = 10.0
"""...drawn as the range's low end plus an exponential of this mean: most late payers are one
to three weeks late, a few nearly two months."""
LATE_JITTER_DAYS = 3
PARTIAL_SHARE = (0.3, 0.8)
"""A partial payer first pays this share of the bill, between 5 days before and 10 after due."""
PARTIAL_FIRST_DAYS = (-5, 10)
PARTIAL_REST_PROBABILITY = 0.5
PARTIAL_REST_DAYS = (15, 45)
"""When a partial payer pays the rest, it is this many days after the due date."""


class TopUp(IntEnum):
    """How a prepaid account tops up (fixed per account)."""

    REGULAR = 0  # often, a little more than it consumes
    RARE = 1  # seldom and too little: its balance crosses the alert threshold and zero


TOPUP_SHARE: dict[TopUp, float] = {TopUp.REGULAR: 0.8, TopUp.RARE: 0.2}
TOPUP_INTERVAL_DAYS: dict[TopUp, tuple[int, int]] = {
    TopUp.REGULAR: (7, 30),
    TopUp.RARE: (30, 75),
}
TOPUP_COVER: dict[TopUp, tuple[float, float]] = {
    TopUp.REGULAR: (1.0, 1.4),
    TopUp.RARE: (0.4, 0.9),
}
"""A top-up pays for the days until the next one times a factor drawn in this range."""
REGULAR_FIRST_TOPUP = (0.4, 0.9)
"""A regular account first tops up when this share (drawn) of its start balance is used up
(within its first interval); a rare one late in its first interval, whatever its balance."""
TOPUP_ROUND_FEN = 1_000
"""Top-ups are whole multiples of 10 yuan."""

START_BALANCE_DAYS = (3, 40)
"""A prepaid account's start balance covers this many days of its typical consumption..."""
LOW_START_SHARE = 0.06
LOW_START_FEN = (-2_000, 3_000)
"""...except this share, which starts near or below zero (uniform in this range)."""

CREDIT_LIMITS_FEN = (0, 5_000, 10_000)
CREDIT_LIMIT_SHARE = (0.6, 0.25, 0.15)
"""Telecom prepaid credit limits (信用額度) and their shares; every other account has 0."""

USAGE_NOISE_SHAPE = 8.0
"""Daily usage is the typical daily amount times a gamma factor (mean 1, shape this)."""
USAGE_ZERO_SHARE = 0.03
"""Share of days with no consumption at all (away, meter not read)."""

CHANNELS = ("app", "counter", "bank", "kiosk", "wechat", "alipay")
POSTPAID_CHANNEL_SHARE = (0.20, 0.10, 0.15, 0.05, 0.30, 0.20)
PREPAID_CHANNEL_SHARE: dict[Utility, tuple[float, ...]] = {
    Utility.POWER: (0.30, 0.05, 0.05, 0.05, 0.35, 0.20),
    Utility.TELECOM: (0.30, 0.05, 0.05, 0.00, 0.35, 0.25),
    Utility.GAS: (0.10, 0.30, 0.00, 0.40, 0.15, 0.05),  # IC cards are loaded at 圈存 kiosks
}

PAY_SECONDS = (6 * 3600, 24 * 3600)
"""Payments happen between 06:00 and midnight, local time, to the second."""
