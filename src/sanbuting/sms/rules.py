"""The rules every text message is queued under (`submit`, over `sms.queue.enqueue`).

- **Quiet hours**: nothing is sent from 21:00 to 08:00 Asia/Shanghai; a message queued then
  waits until the next 08:00 (`not_before`), except an emergency and a sign-in code, which go
  at once (`IMMEDIATE`).
- **Opt-out**: a number opted out of a company's non-essential messages (`NON_ESSENTIAL`:
  public-service broadcasts and other news such as an application's progress) is not sent
  them; essential collections notices, emergencies and sign-in codes still go.
- **Daily cap**: a number is sent at most `daily_cap` messages of a company a day (the day they
  go out, Asia/Shanghai; `SANBUTING_SMS_DAILY_CAP`, 10 by default). Past it a non-essential
  message is refused; essential ones, emergencies and sign-in codes go whatever the count.

A refused message is recorded (`sms_refusals`, with why) under the key it would have had, so
that asking again refuses again and nothing is counted twice; a key queued before is never
queued again (the queue's own rule). Numbers are normalised to 11 mobile digits; a number that
is not a mainland mobile (a fixed line) cannot take an SMS and is skipped. The caller owns the
transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import SHANGHAI, as_utc, local_midnight
from sanbuting.settings import Settings
from sanbuting.sms.queue import SmsMessage, enqueue
from sanbuting.store.models import Company
from sanbuting.store.sms_controls import SmsOptOut, SmsRefusal

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)
IMMEDIATE = frozenset({"emergency", "sign_in"})
"""Categories quiet hours do not hold."""
NON_ESSENTIAL = frozenset({"public_service", "marketing_free"})
"""Categories a number may opt out of, and that the daily cap refuses."""
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
MAX_KEY = 200
Status = Literal["queued", "held", "refused", "repeated", "no_phone"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: `queued` (to go now), `held` (queued for the end of quiet
    hours, `not_before`), `refused` (`reason`: opted_out or daily_cap), `repeated` (its key was
    queued or refused before: nothing new) or `no_phone` (no mobile number to send to)."""

    status: Status
    message: SmsMessage | None = None
    reason: str | None = None
    not_before: datetime | None = None

    @property
    def queued(self) -> bool:
        return self.status in ("queued", "held")


def mobile_of(phone: str | None) -> str | None:
    """The 11-digit mainland mobile number in `phone` (spaces, dashes and a +86 dropped), or
    None when it is not one (a fixed line, nothing, garbage)."""
    if not phone:
        return None
    digits = re.sub(r"[\s-]", "", phone)[:40]
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if MOBILE.match(digits) else None


def sms_key(base: str) -> str:
    """`base` as a queue key: itself when it fits, else its start and a hash of the whole."""
    if len(base) <= MAX_KEY:
        return base
    digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:32]
    return f"{base[: MAX_KEY - 33]}#{digest}"


def quiet_until(now: datetime, category: str) -> datetime | None:
    """When a message of `category` queued at `now` may go: None for now, else the next 08:00
    Asia/Shanghai (21:00 to 08:00 is quiet; 08:00 itself is not, 21:00 is)."""
    if category in IMMEDIATE:
        return None
    local = now.astimezone(SHANGHAI)
    clock = local.time()
    if QUIET_UNTIL <= clock < QUIET_FROM:
        return None
    day = local.date() if clock < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=SHANGHAI)


def daily_cap(settings: Settings | None = None) -> int:
    """Messages a number may get from a company in a day (`SANBUTING_SMS_DAILY_CAP`)."""
    return (settings or Settings()).sms_daily_cap


def is_opted_out(session: Session, *, company_id: int, phone: str) -> bool:
    return (
        session.scalar(
            select(SmsOptOut.id).where(SmsOptOut.company_id == company_id, SmsOptOut.phone == phone)
        )
        is not None
    )


def opted_out_numbers(session: Session, *, company_id: int) -> set[str]:
    """Every number opted out of the company's non-essential messages."""
    return set(session.scalars(select(SmsOptOut.phone).where(SmsOptOut.company_id == company_id)))


def set_opt_out(
    session: Session,
    *,
    company_ids: list[int],
    phone: str,
    out: bool,
    source: Literal["portal", "staff"],
    now: datetime,
) -> None:
    """Opt `phone` out of (or back into) the non-essential messages of these companies."""
    if not company_ids:
        return
    if not out:
        session.execute(
            delete(SmsOptOut).where(SmsOptOut.company_id.in_(company_ids), SmsOptOut.phone == phone)
        )
        return
    have = set(
        session.scalars(
            select(SmsOptOut.company_id).where(
                SmsOptOut.company_id.in_(company_ids), SmsOptOut.phone == phone
            )
        )
    )
    for company_id in company_ids:
        if company_id not in have:
            session.add(
                SmsOptOut(company_id=company_id, phone=phone, source=source, created_at=as_utc(now))
            )
    session.flush()


def opted_out_everywhere(session: Session, *, phone: str) -> bool:
    """Whether `phone` is opted out of every company's non-essential messages (the portal's
    toggle, which covers them all)."""
    companies = session.scalar(select(func.count()).select_from(Company)) or 0
    out = (
        session.scalar(select(func.count()).select_from(SmsOptOut).where(SmsOptOut.phone == phone))
        or 0
    )
    return companies > 0 and out >= companies


def sent_on(session: Session, *, company_id: int, phone: str, day: date) -> int:
    """Messages of the company to `phone` that go out on `day` (Asia/Shanghai): queued with a
    `not_before` that day; sign-in codes left out (they are limited on their own)."""
    start, end = as_utc(local_midnight(day)), as_utc(local_midnight(day + timedelta(days=1)))
    return int(
        session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(
                SmsMessage.company_id == company_id,
                SmsMessage.phone == phone,
                SmsMessage.not_before >= start,
                SmsMessage.not_before < end,
                SmsMessage.category != "sign_in",
            )
        )
        or 0
    )


def submit(
    session: Session,
    *,
    company_id: int,
    key: str,
    phone: str | None,
    text: str,
    category: str,
    now: datetime,
    cap: int | None = None,
) -> Outcome:
    """Queue `text` to `phone` under the rules (see the module); `cap` defaults to the
    setting."""
    mobile = mobile_of(phone)
    if mobile is None:
        return Outcome("no_phone")
    key = sms_key(key)
    if _known(session, key):
        return Outcome("repeated")
    moment = as_utc(now)
    later = quiet_until(now, category)
    sends_at = later if later is not None else now
    reason: str | None = None
    if category in NON_ESSENTIAL:
        if is_opted_out(session, company_id=company_id, phone=mobile):
            reason = "opted_out"
        else:
            limit = cap if cap is not None else daily_cap()
            day = sends_at.astimezone(SHANGHAI).date()
            if sent_on(session, company_id=company_id, phone=mobile, day=day) >= limit:
                reason = "daily_cap"
    if reason is not None:
        session.add(
            SmsRefusal(
                company_id=company_id,
                key=key,
                phone=mobile,
                category=category,
                reason=reason,
                created_at=moment,
            )
        )
        session.flush()
        return Outcome("refused", reason=reason)
    message = enqueue(
        session,
        company_id=company_id,
        key=key,
        phone=mobile,
        text=text,
        category=category,
        now=moment,
        not_before=as_utc(later) if later is not None else None,
    )
    if message is None:
        return Outcome("repeated")
    if later is not None:
        return Outcome("held", message, not_before=later)
    return Outcome("queued", message)


def _known(session: Session, key: str) -> bool:
    """Whether `key` was queued or refused before."""
    queued = session.scalar(select(SmsMessage.id).where(SmsMessage.key == key))
    if queued is not None:
        return True
    return session.scalar(select(SmsRefusal.id).where(SmsRefusal.key == key)) is not None
