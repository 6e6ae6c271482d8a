"""A late fee told as a customer-service agent would tell it: each day range with its base,
rate and amount, the waived ranges, the rounding and the minimum; in zh-CN or English, or as
one JSON-ready dictionary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sanbuting.domain import CustomerClass, format_yuan
from sanbuting.fees.latefee import UNITS_PER_FEN, FeeSegment, LateFee
from sanbuting.policy.model import WaiverPolicy

Lang = Literal["zh", "en"]

CLASS_NAMES: dict[Lang, dict[CustomerClass, str]] = {
    "zh": {CustomerClass.RESIDENTIAL: "居民", CustomerClass.NON_RESIDENTIAL: "非居民"},
    "en": {
        CustomerClass.RESIDENTIAL: "residential",
        CustomerClass.NON_RESIDENTIAL: "non-residential",
    },
}

TEXT: dict[Lang, dict[str, str]] = {
    "zh": {
        "head": "违约金计算（{ruleset}，{klass}）："
        "账单 {amount} 元，到期日 {due}，{end_label} {end}",
        "paid": "交清日",
        "through": "计至",
        "range": "  {first} 至 {last}  {days} 天 × {base} 元 × {rate}‰ = {value} 元{note}",
        "later": "（跨年度）",
        "waived": "  {first} 至 {last}  {days} 天 免收（本应 {value} 元）",
        "none": "  未逾期，无违约金。",
        "total": "合计 {fee} 元（精确值 {exact} 元，四舍五入到分一次）；"
        "计费 {days} 天，免收 {wdays} 天（{wfee} 元）",
        "minimum": "不足 {minimum} 元，按 {minimum} 元收取。",
        "open": "本金尚未交清：违约金仍在累计，交清之日结算。",
        "policy": "免收依据：{id}「{title}」，{start} 起至 {end} 前",
    },
    "en": {
        "head": "Late fee ({ruleset}, {klass}): bill {amount} yuan, due {due}, {end_label} {end}",
        "paid": "paid in full",
        "through": "computed through",
        "range": "  {first} to {last}  {days} days × {base} yuan × {rate}‰ = {value} yuan{note}",
        "later": " (a later calendar year than the due date)",
        "waived": "  {first} to {last}  {days} days waived (would have been {value} yuan)",
        "none": "  Not overdue: no late fee.",
        "total": "Total {fee} yuan (exactly {exact} yuan, rounded half-up to the fen once); "
        "{days} accruing days, {wdays} waived days ({wfee} yuan)",
        "minimum": "Under the {minimum}-yuan minimum: charged {minimum} yuan.",
        "open": "The principal is still open: "
        "the fee keeps accruing and is settled on full payment.",
        "policy": 'Waived under {id} "{title}", from {start} until before {end}',
    },
}


@dataclass(frozen=True, slots=True)
class FeeQuestion:
    """What the fee was asked for: the bill and the account facts that chose its rate."""

    ruleset: str
    customer_class: CustomerClass
    amount_fen: int
    due_on: date
    through: date


def exact_yuan(units: int) -> str:
    """fen x ppm units as exact yuan text, at least two decimals (64000000000 -> '640.00')."""
    value = (Decimal(units) / Decimal(UNITS_PER_FEN * 100)).normalize()
    text = f"{value:f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _permille(rate_ppm: int) -> str:
    return f"{(Decimal(rate_ppm) / 1000).normalize():f}"


def _segment_line(segment: FeeSegment, words: dict[str, str]) -> str:
    value = exact_yuan(segment.units)
    if segment.waived:
        return words["waived"].format(
            first=segment.first, last=segment.last, days=segment.days, value=value
        )
    return words["range"].format(
        first=segment.first,
        last=segment.last,
        days=segment.days,
        base=format_yuan(segment.base_fen),
        rate=_permille(segment.rate_ppm),
        value=value,
        note=words["later"] if segment.later_year and segment.rate_ppm else "",
    )


def describe(
    question: FeeQuestion, fee: LateFee, waivers: Sequence[WaiverPolicy], lang: Lang = "zh"
) -> list[str]:
    """The explanation, one line of text per list item."""
    words = TEXT[lang]
    lines = [
        words["head"].format(
            ruleset=question.ruleset,
            klass=CLASS_NAMES[lang][question.customer_class],
            amount=format_yuan(question.amount_fen),
            due=question.due_on,
            end_label=words["paid"] if fee.finalized else words["through"],
            end=question.through,
        )
    ]
    lines += [_segment_line(s, words) for s in fee.segments] or [words["none"]]
    lines.append(
        words["total"].format(
            fee=format_yuan(fee.rounded_fen),
            exact=exact_yuan(fee.accrued_units),
            days=fee.days,
            wdays=fee.waived_days,
            wfee=format_yuan(fee.waived_fen),
        )
    )
    if fee.minimum_applied:
        lines.append(words["minimum"].format(minimum=format_yuan(fee.minimum_fen)))
    if not fee.finalized:
        lines.append(words["open"])
    lines += [
        words["policy"].format(id=p.id, title=p.title, start=p.window.start, end=p.window.end)
        for p in waivers
    ]
    return lines


def as_json(
    question: FeeQuestion, fee: LateFee, waivers: Sequence[WaiverPolicy]
) -> dict[str, object]:
    """The same facts as one JSON-ready object (money in integer fen)."""
    return {
        "ruleset": question.ruleset,
        "customer_class": str(question.customer_class),
        "amount_fen": question.amount_fen,
        "due_on": question.due_on.isoformat(),
        "through": question.through.isoformat(),
        "finalized": fee.finalized,
        "accrued_fen": fee.accrued_fen,
        "charged_fen": fee.charged_fen,
        "waived_fen": fee.waived_fen,
        "days": fee.days,
        "waived_days": fee.waived_days,
        "exact_yuan": exact_yuan(fee.accrued_units),
        "minimum_fen": fee.minimum_fen,
        "minimum_applied": fee.minimum_applied,
        "segments": [
            {
                "first": s.first.isoformat(),
                "last": s.last.isoformat(),
                "days": s.days,
                "base_fen": s.base_fen,
                "rate_permille": _permille(s.rate_ppm),
                "later_year": s.later_year,
                "waived": s.waived,
                "exact_yuan": exact_yuan(s.units),
            }
            for s in fee.segments
        ],
        "waivers": [p.id for p in waivers],
    }
