"""Customers: sign-in by phone with a one-time code, binding accounts, and ownership.

A code is 6 digits, kept only as a keyed hash bound to the phone, valid for
`settings.code_ttl_minutes` of wall-clock time (in every channel: the portal and the API call
the same functions, `request_code` and `sign_in_with_code`, on the wall clock whatever day
the business clock shows), used once, and dead after `settings.code_attempts` wrong tries; it
leaves as a `sign_in` text message (`sms.rules.submit`: at once, whatever the hour; the
`sign_in_code` template, in the language the customer asked in), queued in the caller's
transaction. Sending is counted in the store (shared by every worker) and limited per phone
(`codes_per_hour` an hour, one a minute), per asking address (`codes_per_ip_hour`), per number
prefix (`codes_per_prefix_hour`, the first 7 digits: one block of 10,000 numbers, against
pumping through a range) and by a site budget (`codes_per_minute`). The budget only stops
sending: a customer who already holds a valid code still signs in with it.

A customer binds an account by its region, number, the holder's name (`Holder`) and the
amount of its latest bill (`proof_fen`: what is printed on the bill, which a stranger who
knows the number and the name does not see); a failed binding never says which part was wrong,
and binding attempts are limited per customer.
Every read of an account by a customer goes through `owned_account`, which answers "not found"
for an account not bound to them, whether it exists or not.

Every function is keyword-only and the caller owns the transaction. `verify_code` records a
wrong try (flushes it) before raising `Unauthorized`: the caller must commit even then (the
portal renders the form again and returns normally), or the try is not counted.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode, as_utc, local_midnight, read_utc
from sanbuting.errors import NotFound, SanbutingError, TooMany, Unauthorized
from sanbuting.guard.hashing import code_hash, new_code, same
from sanbuting.guard.limits import Limits
from sanbuting.settings import Settings
from sanbuting.sms import rules as sms_rules
from sanbuting.sms.templates import configured as sms_templates
from sanbuting.store.models import Account, Bill, Company, Payment
from sanbuting.store.web_models import Binding, Customer, Holder, LoginCode

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
CODE = re.compile(r"^[0-9]{6}$")
ONE_HOUR = timedelta(hours=1)
ONE_MINUTE = timedelta(minutes=1)
ONE_DAY = timedelta(days=1)
CODE_GAP = timedelta(seconds=60)
"""The least time between two codes sent to one phone."""
PREFIX_DIGITS = 7
"""A number's prefix: its first 7 digits (号段 and HLR block, 10,000 numbers)."""
BIND_ATTEMPTS = RateLimitItemPerHour(10)
"""Binding attempts a customer may make in an hour (stops guessing holders' names)."""
_FALLBACK = MovingWindowRateLimiter(MemoryStorage())
"""Binding limits when the caller passes no `Limits` (one process, like `Limits` itself)."""

WRONG_CODE = (
    "the code is wrong, already used or expired: check the SMS, or ask for a new code "
    "(a code lasts {ttl} minutes and allows {tries} tries)"
)
NO_MATCH = (
    "no account matches that region, number, name and latest bill amount: check your latest "
    "bill (or, for a prepaid meter, your latest top-up receipt)"
)


class InvalidPhone(SanbutingError):
    """Not a mainland mobile number."""


def normal_phone(phone: str) -> str:
    """The 11-digit mobile number in `phone` (spaces, dashes and a +86 prefix dropped)."""
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not PHONE.match(digits):
        raise InvalidPhone("enter an 11-digit mainland mobile number, e.g. 13812345678")
    return digits


def request_code(
    *,
    session: Session,
    phone: str,
    ip: str,
    settings: Settings,
    now: datetime,
    language: str = "zh-CN",
) -> str:
    """Make a sign-in code for `phone` and queue the SMS that carries it (see the module);
    returns the phone as normalised. `now` is the wall clock; `language` the message's
    (`zh-CN` or `en`)."""
    phone = normal_phone(phone)
    moment = as_utc(now)
    _check_sending(session, phone, ip, settings, moment)
    company = session.scalar(select(Company).order_by(Company.id).limit(1))
    if company is None:
        raise SanbutingError("no utility is set up in the store yet: import accounts first")
    code = new_code()
    row = LoginCode(
        phone=phone,
        code_hash=code_hash(code, phone, settings.secret_key),
        ip=ip[:64],
        prefix=phone[:PREFIX_DIGITS],
        created_at=moment,
        expires_at=moment + timedelta(minutes=settings.code_ttl_minutes),
        attempts=0,
        used_at=None,
    )
    session.add(row)
    session.flush()
    text = sms_templates().render(
        "sign_in_code",
        language=language,
        company=company,
        values={"code": code, "minutes": settings.code_ttl_minutes},
    )
    sms_rules.submit(
        session,
        company_id=company.id,
        key=f"signin:{row.id}:{moment:%Y%m%d%H%M%S%f}",
        phone=phone,
        text=text,
        category="sign_in",
        now=moment,
    )
    return phone


def _check_sending(
    session: Session, phone: str, ip: str, settings: Settings, moment: datetime
) -> None:
    """Refuse a code past any of the sending limits (see the module docstring)."""
    hour_ago = LoginCode.created_at > moment - ONE_HOUR
    sent, last = session.execute(
        select(func.count(), func.max(LoginCode.created_at)).where(
            LoginCode.phone == phone, hour_ago
        )
    ).one()
    if sent >= settings.codes_per_hour:
        raise TooMany(
            f"at most {settings.codes_per_hour} codes an hour are sent to one phone: "
            "use the last code you received, or try again in an hour",
            retry_after=3600,
        )
    if last is not None and read_utc(last) > moment - CODE_GAP:
        raise TooMany(
            "a code was sent to this phone less than a minute ago: use it, or wait a minute",
            retry_after=60,
        )
    counted = (
        (LoginCode.ip == ip[:64], settings.codes_per_ip_hour, "from this address"),
        (
            LoginCode.prefix == phone[:PREFIX_DIGITS],
            settings.codes_per_prefix_hour,
            "to numbers like this one",
        ),
    )
    for condition, limit, where in counted:
        if _count(session, condition, hour_ago) >= limit:
            raise TooMany(
                f"too many sign-in codes were asked for {where} in the last hour: try again later",
                retry_after=3600,
            )
    if _count(session, LoginCode.created_at > moment - ONE_MINUTE) >= settings.codes_per_minute:
        raise TooMany(
            "the site is sending too many codes right now: try again in a minute (a code "
            "you already received still works)",
            retry_after=60,
        )


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(LoginCode).where(*conditions)) or 0)


def sign_in_with_code(
    *,
    session: Session,
    phone: str,
    code: str,
    ip: str,
    settings: Settings,
    limits: Limits,
    now: datetime,
) -> Customer:
    """Sign in with a code (the portal's and the API's one rule): tries limited per address
    and per phone, then `verify_code`. `now` is the wall clock."""
    limits.hit(limits.sign_in, "verify-ip", ip, what="sign-in attempts")
    limits.hit(limits.sign_in, "verify-phone", phone.strip()[:32], what="sign-in attempts")
    return verify_code(session=session, phone=phone, code=code, settings=settings, now=now)


def verify_code(
    *, session: Session, phone: str, code: str, settings: Settings, now: datetime
) -> Customer:
    """The customer signing in with `code` (created on first sign-in); `Unauthorized` for a
    wrong, used, expired or exhausted code (the message never says whether the phone is
    known). A wrong try is flushed before raising: commit it."""
    wrong = Unauthorized(
        WRONG_CODE.format(ttl=settings.code_ttl_minutes, tries=settings.code_attempts)
    )
    try:
        phone = normal_phone(phone)
    except InvalidPhone:
        raise wrong from None
    moment = as_utc(now)
    row = session.scalar(
        select(LoginCode)
        .where(
            LoginCode.phone == phone,
            LoginCode.used_at.is_(None),
            LoginCode.expires_at > moment,
        )
        .order_by(LoginCode.created_at.desc(), LoginCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.attempts >= settings.code_attempts:
        raise wrong
    code = code.strip()
    if not CODE.match(code) or not same(row.code_hash, code_hash(code, phone, settings.secret_key)):
        row.attempts += 1
        session.flush()
        raise wrong
    row.used_at = moment
    customer = session.scalar(select(Customer).where(Customer.phone == phone))
    if customer is None:
        customer = Customer(phone=phone, created_at=moment)
        try:
            with session.begin_nested():
                session.add(customer)
        except IntegrityError:  # signed up meanwhile by another request
            customer = session.scalar(select(Customer).where(Customer.phone == phone))
            assert customer is not None
    session.flush()
    return customer


def name_key(name: str) -> str:
    """A holder's name as compared: width-folded (NFKC), case-folded, without spaces."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def bind_account(
    *,
    session: Session,
    customer: Customer,
    region: str,
    account_id: str,
    holder_name: str,
    last_bill_fen: int,
    on: date,
    now: datetime,
    limits: Limits | None = None,
) -> Account:
    """Bind the account with this number and region whose holder is `holder_name` and whose
    latest bill (as of day `on`; a prepaid account: its latest top-up) is `last_bill_fen` —
    something a stranger who knows the number and the name cannot see — (every such account,
    if several utilities use the number; the first is returned). Binding again is a no-op. A
    mismatch is `NotFound` without saying which part was wrong; more than `BIND_ATTEMPTS` an
    hour is `TooMany`."""
    limiter = limits.limiter if limits is not None else _FALLBACK
    if not limiter.hit(BIND_ATTEMPTS, "bind", str(customer.id), customer.phone):
        raise TooMany("too many binding attempts: wait an hour and try again", retry_after=3600)
    wanted = name_key(holder_name)
    rows = session.execute(
        select(Account, Holder.name)
        .join(Holder, Holder.account == Account.id)
        .where(Account.account_id == account_id.strip(), Account.region == region.strip())
        .order_by(Account.id)
    ).all()
    found = [
        account
        for account, name in rows
        if wanted
        and name_key(name) == wanted
        and proof_fen(session=session, account=account, on=on) == last_bill_fen
    ]
    if not found:
        raise NotFound(NO_MATCH)
    bound = set(
        session.scalars(
            select(Binding.account).where(
                Binding.customer_id == customer.id, Binding.account.in_([a.id for a in found])
            )
        )
    )
    for account in found:
        if account.id in bound:
            continue
        try:
            with session.begin_nested():
                session.add(
                    Binding(customer_id=customer.id, account=account.id, created_at=as_utc(now))
                )
        except IntegrityError:  # bound meanwhile by the same customer's other request
            pass
    return found[0]


def proof_fen(*, session: Session, account: Account, on: date) -> int | None:
    """What binding asks besides the name: the amount of the account's latest bill issued by
    day `on`; else of its latest payment by then (a prepaid meter's top-up); else a prepaid
    meter's opening balance (its last statement before it came to this system); None when
    there is none of these (such an account is bound at a service hall)."""
    bill = session.scalar(
        select(Bill.amount_fen)
        .where(Bill.account == account.id, Bill.issued_on <= on)
        .order_by(Bill.issued_on.desc(), Bill.bill_id.desc())
        .limit(1)
    )
    if bill is not None:
        return int(bill)
    paid = session.scalar(
        select(Payment.amount_fen)
        .where(
            Payment.account == account.id, Payment.paid_at < as_utc(local_midnight(on + ONE_DAY))
        )
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(1)
    )
    if paid is not None:
        return int(paid)
    if account.billing_mode == BillingMode.PREPAID.value and account.opening_balance_fen > 0:
        return account.opening_balance_fen  # the balance on the card's last statement
    return None


def bound_accounts(*, session: Session, customer: Customer) -> list[Account]:
    """The accounts bound to `customer`, in the order they were bound."""
    return list(
        session.scalars(
            select(Account)
            .join(Binding, Binding.account == Account.id)
            .where(Binding.customer_id == customer.id)
            .order_by(Binding.created_at, Binding.id)
        )
    )


def owned_account(*, session: Session, customer: Customer, account_id: str) -> Account:
    """The account `account_id` if it is bound to `customer`; `NotFound` otherwise (an account
    that exists but is not theirs looks exactly like one that does not exist)."""
    account = session.scalar(
        select(Account)
        .join(Binding, Binding.account == Account.id)
        .where(Binding.customer_id == customer.id, Account.account_id == account_id)
        .order_by(Account.id)
        .limit(1)
    )
    if account is None:
        raise NotFound(f"account {account_id} is not among your bound accounts: bind it first")
    return account


def quick_pay_account(*, session: Session, account_id: str, region: str | None) -> Account:
    """The account quick pay (no sign-in) is for: by number, and region when given or when
    the number is used in several places. `NotFound` when none matches."""
    query = select(Account).where(Account.account_id == account_id.strip()).order_by(Account.id)
    if region:
        query = query.where(Account.region == region.strip())
    found = list(session.scalars(query.limit(2)))
    if not found:
        raise NotFound("no account has that number (and region): check your bill")
    if len(found) > 1:
        raise SanbutingError("several accounts have this number: give the region code too")
    return found[0]


def holder_name(*, session: Session, account: Account) -> str | None:
    holder = session.get(Holder, account.id)
    return holder.name if holder is not None else None


def masked_name(name: str) -> str:
    """A holder's name as shown to someone who may not see it: 张三 → 张*, 王小明 → 王*明."""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*" * len(chars)
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def set_holder(*, session: Session, account: Account, name: str) -> None:
    """Record (or replace) the holder's name of `account` (imports and the demo)."""
    clean = name.strip()
    if not clean or len(clean) > 100:
        raise SanbutingError("a holder's name has 1 to 100 characters")
    holder = session.get(Holder, account.id)
    if holder is None:
        session.add(Holder(account=account.id, name=clean))
    else:
        holder.name = clean
    session.flush()
