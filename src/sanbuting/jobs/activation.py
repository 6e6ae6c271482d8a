"""Activating relief-policy sets (a job above the store: it books the ledger again and audits).

The sets are kept in the store (`store.policy_versions`), one company's its own.

Each company activates its own versioned set; a deployment-wide set (a government's or
regulator's announcement) covers every company, and only the role that holds it changes it.
A company's policies are the deployment-wide set followed by its own (`store.policy_versions`).
Activating a file adds a version (its text, hash, scope, who and when); a file that does not
load, or that reuses a policy id in force in the other scope, is refused whole and nothing
changes. Activation books the ledger again, in the same transaction, of every company it
changes (a waiver announced late corrects fees already charged, by reversal), and writes an
entry in the audit log of each of them.

Activations are serialised: each locks every company's row (`FOR UPDATE` on PostgreSQL; SQLite
holds its single write lock), so two at once never take the same version number and an
activation that was tried (`whatif`) on sets since replaced is refused, not applied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.errors import Conflict, PolicyError
from sanbuting.ledger.service import rebook_company
from sanbuting.policy import Policy, parse_policies
from sanbuting.policy.limits import max_policy_bytes, too_large
from sanbuting.staff.service import audit
from sanbuting.store.companies import companies
from sanbuting.store.models import Company, PolicyVersion
from sanbuting.store.policy_versions import in_force, latest_version, parsed
from sanbuting.store.web_models import Staff

DEPLOYMENT = "deployment"
"""How the deployment-wide scope is named to people (`--deployment`, the console)."""


@dataclass(frozen=True)
class Activated:
    version: int
    policies: int
    sha256: str
    postings: int = 0
    """Ledger postings the new set changed (corrections by reversal, and their new entries)."""
    companies: tuple[str, ...] = ()
    """The companies whose policies it changed."""


def scope_name(company: Company | None) -> str:
    return DEPLOYMENT if company is None else company.code


def affected(session: Session, company: Company | None) -> list[Company]:
    """The companies a set of this scope covers."""
    return companies(session) if company is None else [company]


def state_of(session: Session, company: Company | None) -> str:
    """The sets in force in a scope, as a fingerprint: a what-if made on another fingerprint
    is stale (`PolicyTrial.based_on`)."""
    deployment = latest_version(session, None)
    parts = [f"d{deployment.id if deployment else 0}"]
    for member in affected(session, company):
        own = latest_version(session, member.id)
        parts.append(f"c{member.id}:{own.id if own else 0}")
    return ",".join(parts)[:200]


def lock_all(session: Session) -> None:
    """Serialise activations (see the module docstring)."""
    session.execute(select(Company.id).order_by(Company.id).with_for_update()).all()


def check_ids(session: Session, company: Company | None, loaded: list[Policy], source: str) -> None:
    """Refuse a set whose policy ids are in force in the other scope of a company it covers
    (the company's set and the deployment's together must not name one id twice)."""
    problems: list[str] = []
    mine = {p.id for p in loaded}
    if company is not None:
        deployment = latest_version(session, None)
        others = {p.id for p in parsed(deployment)} if deployment else set()
        for policy_id in sorted(mine & others):
            problems.append(
                f"{source}: policy id {policy_id!r} is in force in the deployment-wide set: "
                "give yours another id"
            )
    else:
        for member in companies(session):
            own = latest_version(session, member.id)
            for policy_id in sorted(mine & ({p.id for p in parsed(own)} if own else set())):
                problems.append(
                    f"{source}: policy id {policy_id!r} is in force in {member.code}'s own set: "
                    "give this one another id"
                )
    if problems:
        raise PolicyError(problems)


def activate_text(
    *,
    session: Session,
    text: str,
    file_name: str,
    company: Company | None,
    by: str,
    at: datetime,
    staff: Staff | None = None,
    expected_state: str | None = None,
    sha256: str | None = None,
) -> Activated:
    """Check `text` and make it the set in force of `company` (None: the deployment). With
    `expected_state`, refused if the sets in force changed since (a stale what-if). `sha256`
    is the file's own hash, as a run's summary names it (default: of `text` in UTF-8). The
    caller owns the transaction."""
    loaded = parse_policies(text, file_name)
    lock_all(session)
    if expected_state is not None and state_of(session, company) != expected_state:
        raise Conflict(
            "the policies in force changed since this what-if was made: run the what-if again"
        )
    check_ids(session, company, loaded, file_name)
    before = {
        c.id: in_force(session=session, company_id=c.id).policies
        for c in affected(session, company)
    }
    latest = session.scalar(select(func.max(PolicyVersion.version))) or 0
    digest = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    version = PolicyVersion(
        version=latest + 1,
        company_id=company.id if company is not None else None,
        file_name=file_name,
        text=text,
        sha256=digest,
        policies=len(loaded),
        activated_by=by,
        activated_at=as_utc(at),
    )
    session.add(version)
    session.flush()
    postings, changed = 0, []
    for member in affected(session, company):
        now_in_force = in_force(session=session, company_id=member.id).policies
        if company is None and now_in_force == before[member.id]:
            continue  # the announcement changes nothing for this company
        changed.append(member.code)
        postings += rebook_company(
            session=session, company=member, policies=list(now_in_force), now=at
        )
        _audit_activation(session, member, staff, by, at, version, company)
    return Activated(latest + 1, len(loaded), digest, postings, tuple(changed))


def _audit_activation(
    session: Session,
    member: Company,
    staff: Staff | None,
    by: str,
    at: datetime,
    version: PolicyVersion,
    scope: Company | None,
) -> None:
    audit(
        session=session,
        staff=staff,
        actor=by,
        company_id=member.id,
        action="activate_policies",
        target=version.file_name,
        detail={
            "version": version.version,
            "scope": scope_name(scope),
            "sha256": version.sha256,
            "policies": version.policies,
        },
        now=at,
    )


def activate(
    *, session: Session, path: Path, by: str, at: datetime, company: Company | None
) -> Activated:
    """Activate the file at `path` (UTF-8) for `company` (None: the deployment); its version
    keeps the hash of the file's bytes, as `sanbuting run` names it in a summary."""
    raw = read_policy_file(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError([f"{path}: not UTF-8 text; save the policy file as UTF-8"]) from None
    return activate_text(
        session=session,
        text=text,
        file_name=path.name,
        company=company,
        by=by,
        at=at,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def read_policy_file(path: Path) -> bytes:
    """The bytes of a policy file, refused whole (never read further) past the cap."""
    limit = max_policy_bytes()
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise PolicyError([f"{path}: cannot read the file ({exc.strerror or exc})"]) from None
    if len(raw) > limit:
        raise PolicyError([f"{path}:1: {too_large(None, limit)}"])
    return raw
