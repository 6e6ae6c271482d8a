"""Who may post a payment directly, and how much: the credentials of money channels.

A customer never creates money: only a payment provider's confirmed notification
(`checkout.service`), a cashier at the counter, or a bank's or collection agent's channel
posts a payment. A channel has an API key (shown once when it is made, kept as a hash), the
one company whose accounts it pays into, the channel labels it may post under (the first is
its default; the label always comes from the credential, a request may only pick among its
labels) and its largest single payment. A cashier's label is `counter` and the deployment's
cashier limit applies. Each credential names its own idempotency keys (`scope`): one bank's
key never meets another's or a cashier's.

Keyword-only functions; the caller owns the transaction.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc, format_yuan
from sanbuting.errors import Conflict, Forbidden, SanbutingError
from sanbuting.guard.hashing import token_hash
from sanbuting.store.models import Company
from sanbuting.store.web_models import ChannelCredential, Staff

KEY_PREFIX = "sbt_ch_"
"""Channel API keys start with this, so that a bearer token says at once what it is."""
KINDS = ("bank", "agent")
LABEL = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
COUNTER = "counter"
"""The label of a cashier's payments."""


@dataclass(frozen=True, slots=True)
class Payer:
    """Who posts a payment: the company it pays into, the label it posts under, the most it
    may post at once, and the scope its idempotency keys are kept in."""

    company_id: int
    channel: str
    max_amount_fen: int
    scope: str
    who: str
    """For the audit log and messages: `bank channel icbc-gz`, `cashier li.counter`."""
    reports_time: bool
    """A channel reports when the customer paid; a cashier's payment is dated now."""


def add_credential(
    *,
    session: Session,
    company: Company,
    name: str,
    kind: str,
    channels: list[str],
    max_amount_fen: int,
    now: datetime,
) -> tuple[ChannelCredential, str]:
    """A new channel credential and its API key (the only time the key is seen)."""
    name = name.strip().lower()
    if not NAME.match(name):
        raise SanbutingError(
            f"channel name {name!r}: use 3-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if kind not in KINDS:
        raise SanbutingError(f"channel kind {kind!r}: use one of {', '.join(KINDS)}")
    labels = [label.strip() for label in channels if label.strip()]
    bad = [label for label in labels if not LABEL.match(label)]
    if not labels or bad:
        raise SanbutingError(
            "channel labels: give one or more of 2-32 lowercase letters, digits, '_' or '-' "
            f"(e.g. bank,bank-icbc){'; not ' + ', '.join(bad) if bad else ''}"
        )
    if len(",".join(labels)) > 200:
        raise SanbutingError("channel labels: at most 200 characters in all")
    if type(max_amount_fen) is not int or max_amount_fen <= 0:
        raise SanbutingError("the channel's limit must be above 0")
    if session.scalar(select(ChannelCredential.id).where(ChannelCredential.name == name)):
        raise Conflict(f"a channel named {name!r} exists: choose another name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    credential = ChannelCredential(
        company_id=company.id,
        name=name,
        kind=kind,
        key_hash=token_hash(key),
        channels=",".join(labels),
        max_amount_fen=max_amount_fen,
        active=True,
        created_at=as_utc(now),
    )
    session.add(credential)
    session.flush()
    return credential, key


def credential_for_key(*, session: Session, key: str) -> ChannelCredential | None:
    """The active credential whose API key is `key`, or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return session.scalar(
        select(ChannelCredential).where(
            ChannelCredential.key_hash == token_hash(key), ChannelCredential.active.is_(True)
        )
    )


def channel_payer(credential: ChannelCredential, asked: str | None) -> Payer:
    """A channel's payer; `asked` may pick one of its labels, nothing else."""
    labels = credential.channels.split(",")
    if asked is not None and asked not in labels:
        raise Forbidden(
            f"this credential posts under {', '.join(labels)}, not {asked!r}: "
            "leave the channel out or pick one of them"
        )
    return Payer(
        company_id=credential.company_id,
        channel=asked or labels[0],
        max_amount_fen=credential.max_amount_fen,
        scope=f"ch:{credential.id}",
        who=f"{credential.kind} channel {credential.name}",
        reports_time=True,
    )


def cashier_payer(member: Staff, limit_fen: int, asked: str | None) -> Payer:
    """A cashier's payer (label `counter`, the deployment's cashier limit)."""
    if member.role != "cashier":
        raise Forbidden(
            "only a cashier (or a bank or agent channel's key) posts a payment directly; "
            "customers pay through the online checkout"
        )
    if asked is not None and asked != COUNTER:
        raise Forbidden(f"a cashier's payments are {COUNTER!r}, not {asked!r}")
    return Payer(
        company_id=member.company_id,
        channel=COUNTER,
        max_amount_fen=limit_fen,
        scope=f"cashier:{member.id}",
        who=f"cashier {member.username}",
        reports_time=False,
    )


def payer_for(
    source: ChannelCredential | Staff, asked: str | None, cashier_limit_fen: int
) -> Payer:
    """The payer a credential or a member of staff is, under the label `asked` (if any)."""
    if isinstance(source, ChannelCredential):
        return channel_payer(source, asked)
    return cashier_payer(source, cashier_limit_fen, asked)


def check_limit(payer: Payer, amount_fen: int) -> None:
    """Refuse a payment above what `payer` may post at once."""
    if amount_fen > payer.max_amount_fen:
        raise Forbidden(
            f"a payment through {payer.who} is at most {format_yuan(payer.max_amount_fen)} "
            f"yuan, not {format_yuan(amount_fen)}: split it, or post it another way"
        )
