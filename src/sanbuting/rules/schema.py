"""The ruleset schema: late-fee rates and the cut-off ladder of each billing mode, as data.

A ruleset is a YAML file (shipped ones live in `rules/data/`); every section names its
`source` (the article of the regulation it comes from). Rates are per-day, in permille (‰),
given as text with at most three decimals ("1", "2", "0.5"), and held as integer parts per
million so that every fee is exact integer arithmetic.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sanbuting.domain import Action, CustomerClass, Utility

Days = Annotated[int, Field(ge=0, le=3650)]
PositiveDays = Annotated[int, Field(ge=1, le=3650)]
Fen = Annotated[int, Field(ge=-(10**13), le=10**13)]
Source = Annotated[str, Field(min_length=3)]

PPM_PER_PERMILLE = 1000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DailyRate(Strict):
    """Daily late-fee rate of one customer class, in permille, by the day's calendar year."""

    same_year: str
    """Days in the same calendar year as the due date."""
    later_year: str
    """Days in a later calendar year (供電營業規則 Art. 98: 跨年度)."""

    @field_validator("same_year", "later_year", mode="before")
    @classmethod
    def _permille_text(cls, value: object) -> str:
        text = str(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a rate in permille such as 1 or 0.5") from None
        if number < 0 or number > 100 or number.as_tuple().exponent < -3:  # type: ignore[operator]
            raise ValueError(f"{text!r}: a daily rate is 0-100 permille with at most 3 decimals")
        return text

    def ppm(self, *, later_year: bool) -> int:
        """The rate in parts per million per day."""
        text = self.later_year if later_year else self.same_year
        return int(Decimal(text) * PPM_PER_PERMILLE)


class LateFee(Strict):
    source: Source
    daily_rate_permille: dict[CustomerClass, DailyRate]
    minimum_fen: Annotated[int, Field(ge=0)] = 0
    """A finalized fee with at least one accruing day is at least this (0: no minimum)."""

    @field_validator("daily_rate_permille")
    @classmethod
    def _every_class(cls, rates: dict[CustomerClass, DailyRate]) -> dict[CustomerClass, DailyRate]:
        missing = set(CustomerClass) - set(rates)
        if missing:
            raise ValueError(f"rates missing for {sorted(missing)}")
        return rates


class Notice(Strict):
    """A cut-off notice (停電通知書): served `lead_days` before the cut-off at the least, valid
    for `valid_days` after the day it is served (served on N: valid through N + valid_days)."""

    source: Source
    lead_days: Days
    valid_days: PositiveDays


class Cutoff(Strict):
    action: Literal[Action.SUSPEND, Action.DISCONNECT]
    step: str
    """The ruleset's own name for the step (`disconnect`, `suspend`, `meter_closed`)."""
    self_enforcing: bool = False
    """True when the device enforces it itself (IC-card gas meter): no exempt or defer stops it."""


class Postpaid(Strict):
    source: Source
    remind_after_due_days: PositiveDays
    enforce_when_overdue_more_than_days: Days
    """Enforcement starts when the oldest open overdue bill is more than this many days overdue."""
    notice: Notice | None
    cutoff: Cutoff
    terminate_after_cutoff_days: PositiveDays | None = None


class PrepaidNotice(Strict):
    source: Source
    grace_days: PositiveDays
    """The cut-off comes this many days after the notice at the earliest (while still below)."""


class Prepaid(Strict):
    source: Source
    low_balance_below_fen: Fen
    trigger: Literal["at_or_below", "below"]
    """Enforcement when the balance is at or below (or strictly below) the floor
    (0 minus credit limit minus emergency credit)."""
    notice: PrepaidNotice | None
    cutoff: Cutoff
    terminate_after_cutoff_days: PositiveDays | None = None


class AccountRelief(Strict):
    """How an instalment plan treats late fees and late parts (docs/account-relief.md)."""

    source: Source = (
        "sanbuting default: no published rule found in China; CPUC 2021 arrearage plans stop "
        "late fees while the customer keeps the plan"
    )
    instalment_grace_days: Days = 10
    """A part not paid by its due day plus this many days breaks the plan."""
    instalment_fees: Literal["stop", "accrue"] = "stop"
    """`stop`: bills issued before the plan accrue no fee while it is kept."""


class Reconnection(Strict):
    """How soon a cut-off account is reconnected once it has paid (the field work order's
    deadline, `field`): within `within_hours` of the payment."""

    source: Source
    within_hours: Annotated[int, Field(ge=1, le=720)]


DEFAULT_RECONNECTION: dict[Utility, Reconnection] = {
    Utility.POWER: Reconnection(
        source=(
            "中国南方电网供电服务承诺：客户缴清欠费后12小时内恢复供电"
            "（国家电网承诺24小时；《供电营业规则》（1996）第六十九条：三日内）"
        ),
        within_hours=12,
    ),
    Utility.TELECOM: Reconnection(
        source="《电信条例》（2016）第三十五条：补交电信费用和违约金后48小时内恢复",
        within_hours=48,
    ),
    Utility.GAS: Reconnection(
        source=(
            "三不停默认值：24小时内恢复供气"
            "（《上海市燃气管理条例》第二十四条要求及时恢复，未定时限；参照淄博市的地方承诺）"
        ),
        within_hours=24,
    ),
}
"""The promise of a ruleset that names none (domain-rules.md §3 and §6)."""


class Ruleset(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    utility: Utility
    title: str
    late_fee: LateFee
    postpaid: Postpaid
    prepaid: Prepaid
    account_relief: AccountRelief = AccountRelief()
    reconnection: Reconnection | None = Field(default=None, exclude=True)
    """The reconnection promise (None: the utility's `DEFAULT_RECONNECTION`); left out of
    the engines' fingerprints, since it decides no action."""

    @property
    def reconnect_promise(self) -> Reconnection:
        return self.reconnection or DEFAULT_RECONNECTION[self.utility]
