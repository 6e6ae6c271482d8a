"""Public-service broadcasts (公益短信): one text to every number of a scope, free of charge,
with a preview and four eyes.

- **Draft** (`draft`, a `supervisor` or `policy_admin`): a text (1 to `MAX_TEXT` characters,
  sent inside the `broadcast` template with the company's name and hotline) and a scope read
  exactly as a relief policy's (`policy.model.Scope`: utilities, region prefixes, customer
  classes, tags; every key given must match, a list matches any item, a key left out matches
  all). An emergency broadcast (a storm, an outage) goes out at any hour and to numbers opted
  out of non-essential messages; any other is a `public_service` message, held by quiet hours,
  the opt-out and the daily cap.
- **Preview** (`preview`): the company's accounts the scope covers, the distinct mobile numbers
  on record among them (one message per number, however many accounts share it), how many of
  those opted out, and a sample of numbers, masked. A draft records how many numbers it
  reached then.
- **Approval** (`decide`): another `supervisor` approves or rejects it, never the drafter
  (refused here and by the database). An approval queues one message per number the scope
  reaches at that moment (`sms.rules.submit`, key `company:broadcast:NUMBER:phone`: approving
  twice, or a retry, never sends twice) and records how many were queued and how many the
  rules refused. These counts are the broadcast's own, apart from every other message:
  broadcasts are free of charge.

Every query is scoped by the company; the caller audits.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from sanbuting.domain import CustomerClass, Utility, as_utc, mask_phone
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.policy.model import Scope
from sanbuting.regions import is_known
from sanbuting.relief.position import facts_of
from sanbuting.sms import rules
from sanbuting.sms.encoding import segment_count
from sanbuting.sms.templates import MAX_TEXT, configured
from sanbuting.store.models import Account, Company
from sanbuting.store.sms_controls import SmsBroadcast
from sanbuting.store.web_models import Staff

DRAFTERS = ("supervisor", "policy_admin")
APPROVERS = ("supervisor",)
NOTE_LIMIT = 200
SAMPLE_SIZE = 5
MAX_SEGMENTS = 5
"""The most SMS one broadcast may take (a long text is 5 × 67 Chinese characters)."""
MOST_ITEMS = 50
"""Regions, classes or tags a scope may list."""
REGION = re.compile(r"^[0-9]{2}(?:[0-9]{2}){0,2}$")
TAG = re.compile(r"^[^;\s]{1,32}$")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
LANGUAGE = "zh-CN"


class InvalidBroadcast(SanbutingError):
    """A draft refused: `code` says which part (`text`, `long`, `scope`)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Preview:
    """What a scope reaches now (see the module)."""

    accounts: int
    numbers: int
    opted_out: int
    sample: tuple[str, ...]
    """Up to `SAMPLE_SIZE` of the numbers, masked (138****5678)."""


def make_scope(
    *,
    utilities: Sequence[str] = (),
    regions: Sequence[str] = (),
    classes: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> Scope:
    """A scope from lists (an empty list: any), each item checked as a policy's would be."""
    groups = (utilities, regions, classes, tags)
    cleaned = [[item.strip() for item in items if item.strip()] for items in groups]
    if any(len(items) > MOST_ITEMS for items in cleaned):
        raise InvalidBroadcast(f"a scope lists at most {MOST_ITEMS} items of a kind", "scope")
    wanted_utilities, wanted_regions, wanted_classes, wanted_tags = cleaned
    try:
        utility = tuple(Utility(u) for u in wanted_utilities)
        klass = tuple(CustomerClass(c) for c in wanted_classes)
    except ValueError as exc:
        raise InvalidBroadcast(f"not in the scope's vocabulary: {exc}", "scope") from None
    for region in wanted_regions:
        if not REGION.match(region) or not is_known(region):
            raise InvalidBroadcast(
                f"region prefix {region!r} is not a GB/T 2260 code of 2, 4 or 6 digits "
                "(e.g. 42, 4201, 420102)",
                "scope",
            )
    for tag in wanted_tags:
        if not TAG.match(tag):
            raise InvalidBroadcast(f"tag {tag!r}: 1 to 32 characters, no ';' or space", "scope")
    return Scope(
        utility=utility or None,
        region=tuple(wanted_regions) or None,
        customer_class=klass or None,
        tags=tuple(wanted_tags) or None,
    )


def scope_json(scope: Scope) -> str:
    data = {
        "utility": [str(u) for u in scope.utility] if scope.utility else None,
        "region": list(scope.region) if scope.region else None,
        "customer_class": [str(c) for c in scope.customer_class] if scope.customer_class else None,
        "tags": list(scope.tags) if scope.tags else None,
    }
    return json.dumps({k: v for k, v in data.items() if v}, ensure_ascii=False, sort_keys=True)


def scope_of(broadcast: SmsBroadcast) -> Scope:
    data = json.loads(broadcast.scope)
    return make_scope(
        utilities=data.get("utility", ()),
        regions=data.get("region", ()),
        classes=data.get("customer_class", ()),
        tags=data.get("tags", ()),
    )


def _accounts(session: Session, company: Company, scope: Scope) -> Iterator[Account]:
    """The company's accounts with a phone on record in `scope` (SQL narrows by utility,
    class and region; the policy matcher decides)."""
    conditions: list[ColumnElement[bool]] = [
        Account.company_id == company.id,
        Account.phone.is_not(None),
    ]
    if scope.utility:
        conditions.append(Account.utility.in_([str(u) for u in scope.utility]))
    if scope.customer_class:
        conditions.append(Account.customer_class.in_([str(c) for c in scope.customer_class]))
    if scope.region:
        conditions.append(or_(*(Account.region.startswith(prefix) for prefix in scope.region)))
    query = (
        select(Account).where(*conditions).order_by(Account.id).execution_options(yield_per=5_000)
    )
    for account in session.scalars(query):
        if scope.matches(facts_of(account)):
            yield account


def numbers_in(session: Session, company: Company, scope: Scope) -> tuple[int, list[str]]:
    """How many accounts the scope covers, and their distinct mobile numbers, sorted."""
    accounts = 0
    numbers: set[str] = set()
    for account in _accounts(session, company, scope):
        accounts += 1
        mobile = rules.mobile_of(account.phone)
        if mobile is not None:
            numbers.add(mobile)
    return accounts, sorted(numbers)


def preview(*, session: Session, company: Company, scope: Scope) -> Preview:
    """What `scope` reaches now (see the module)."""
    accounts, numbers = numbers_in(session, company, scope)
    out = len(rules.opted_out_numbers(session, company_id=company.id).intersection(numbers))
    step = max(1, len(numbers) // SAMPLE_SIZE)
    sample = tuple(mask_phone(phone) for phone in numbers[::step][:SAMPLE_SIZE])
    return Preview(accounts, len(numbers), out, sample)


def clean_text(text: str) -> str:
    """The text a broadcast carries, checked: 1 to `MAX_TEXT` characters, no control
    characters but line breaks."""
    cleaned = text.replace("\r\n", "\n").strip()
    if not cleaned:
        raise InvalidBroadcast("write the message", "text")
    if len(cleaned) > MAX_TEXT:
        raise InvalidBroadcast(f"a broadcast has at most {MAX_TEXT} characters", "long")
    if CONTROL.search(cleaned):
        raise InvalidBroadcast("the message has control characters", "text")
    return cleaned


def rendered(company: Company, text: str) -> str:
    """The message as sent: the text in the `broadcast` template."""
    return configured().render(
        "broadcast", language=LANGUAGE, company=company, values={"text": text}
    )


def draft(
    *,
    session: Session,
    company: Company,
    text: str,
    scope: Scope,
    emergency: bool,
    by: Staff,
    now: datetime,
) -> SmsBroadcast:
    """A broadcast waiting for another supervisor's approval (module docstring)."""
    if by.company_id != company.id or by.role not in DRAFTERS:
        raise Forbidden(f"the {by.role} role may not draft broadcasts")
    cleaned = clean_text(text)
    if segment_count(rendered(company, cleaned)) > MAX_SEGMENTS:
        raise InvalidBroadcast(f"the message would take more than {MAX_SEGMENTS} SMS", "long")
    seen = preview(session=session, company=company, scope=scope)
    broadcast = SmsBroadcast(
        company_id=company.id,
        number=f"GB-{secrets.token_hex(4).upper()}",
        text=cleaned,
        scope=scope_json(scope),
        emergency=emergency,
        status="pending",
        numbers=seen.numbers,
        drafted_by=by.id,
        drafted_at=as_utc(now),
        decision_note="",
        queued=0,
        refused=0,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def decide(
    *,
    session: Session,
    company: Company,
    number: str,
    approve: bool,
    by: Staff,
    now: datetime,
    note: str = "",
) -> SmsBroadcast:
    """Approve (and queue) or reject a pending broadcast of `company`: never by its drafter."""
    broadcast = session.scalar(
        select(SmsBroadcast)
        .where(SmsBroadcast.company_id == company.id, SmsBroadcast.number == number)
        .with_for_update()
    )
    if broadcast is None:
        raise NotFound(f"no broadcast {number} in {company.code}")
    if by.company_id != company.id or by.role not in APPROVERS:
        raise Forbidden(f"the {by.role} role may not approve broadcasts")
    if broadcast.drafted_by == by.id:
        raise Forbidden("a second person approves or rejects what you drafted (four eyes)")
    if broadcast.status != "pending":
        raise Conflict(f"{number} was {broadcast.status} already")
    broadcast.status = "approved" if approve else "rejected"
    broadcast.decided_by, broadcast.decided_at = by.id, as_utc(now)
    broadcast.decision_note = note.strip()[:NOTE_LIMIT]
    if approve:
        _send(session, company, broadcast, now)
    session.flush()
    return broadcast


def _send(session: Session, company: Company, broadcast: SmsBroadcast, now: datetime) -> None:
    text = rendered(company, broadcast.text)
    category = "emergency" if broadcast.emergency else "public_service"
    _, numbers = numbers_in(session, company, scope_of(broadcast))
    queued = refused = 0
    cap = rules.daily_cap()
    for phone in numbers:
        outcome = rules.submit(
            session,
            company_id=company.id,
            key=f"{company.code}:broadcast:{broadcast.number}:{phone}",
            phone=phone,
            text=text,
            category=category,
            now=now,
            cap=cap,
        )
        queued += outcome.queued
        refused += outcome.status == "refused"
    broadcast.numbers, broadcast.queued, broadcast.refused = len(numbers), queued, refused


def recent(session: Session, company: Company, limit: int = 50) -> list[SmsBroadcast]:
    """The company's broadcasts, newest first."""
    return list(
        session.scalars(
            select(SmsBroadcast)
            .where(SmsBroadcast.company_id == company.id)
            .order_by(SmsBroadcast.id.desc())
            .limit(limit)
        )
    )


def by_number(session: Session, company: Company, number: str) -> SmsBroadcast:
    found = session.scalar(
        select(SmsBroadcast).where(
            SmsBroadcast.company_id == company.id, SmsBroadcast.number == number
        )
    )
    if found is None:
        raise NotFound(f"no broadcast {number} in {company.code}")
    return found
