"""The relief policies in force for a company, parsed once per version.

A company's policies are the latest deployment-wide set (a government's or regulator's
announcement, which covers every company) followed by the company's own latest set, in file
order (so an exempt of the announcement is named before one of the company's own). Pages and
payments read them often; they change only when a set is activated (`jobs.activation`);
the versions of a scope and the deployment-wide set are read here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from sanbuting.policy import Policy, parse_policies
from sanbuting.policy.limits import HIGHEST_MAX_BYTES
from sanbuting.store.models import Company, PolicyVersion

_PARSED: dict[str, tuple[Policy, ...]] = {}
"""Parsed policy sets by the sha256 of their file (a handful of versions ever)."""


@dataclass(frozen=True)
class InForce:
    """What is in force for one company: the deployment-wide version, the company's own, and
    the policies of both (deployment first)."""

    deployment: PolicyVersion | None
    own: PolicyVersion | None
    policies: tuple[Policy, ...]

    @property
    def versions(self) -> tuple[PolicyVersion, ...]:
        return tuple(v for v in (self.deployment, self.own) if v is not None)


def latest_version(session: Session, company_id: int | None) -> PolicyVersion | None:
    """The latest set of the deployment (`company_id` None) or of one company."""
    owner = (
        PolicyVersion.company_id.is_(None)
        if company_id is None
        else PolicyVersion.company_id == company_id
    )
    return session.scalar(
        select(PolicyVersion)
        .options(defer(PolicyVersion.text))  # read only when a version is first parsed
        .where(owner)
        .order_by(PolicyVersion.version.desc())
        .limit(1)
    )


def parsed(version: PolicyVersion) -> tuple[Policy, ...]:
    """The policies of a stored version (parsed once per file hash)."""
    found = _PARSED.get(version.sha256)
    if found is None:
        # accepted when activated: a cap lowered since must not stop it loading
        found = tuple(parse_policies(version.text, version.file_name, max_bytes=HIGHEST_MAX_BYTES))
        _PARSED[version.sha256] = found
    return found


def in_force(*, session: Session, company_id: int) -> InForce:
    """The sets in force for the company `company_id` (see the module docstring)."""
    deployment = latest_version(session, None)
    own = latest_version(session, company_id)
    policies = tuple(p for v in (deployment, own) if v is not None for p in parsed(v))
    return InForce(deployment, own, policies)


def policies_for(*, session: Session, company_id: int) -> list[Policy]:
    """The policies in force for the company `company_id`, in file order: what `in_force`
    gives, read by one light query of the two latest versions' hashes (pages and payments
    ask on every request; a version's policies are parsed once per file hash)."""
    versions = PolicyVersion  # its columns: an ORM query, so that a new version is flushed
    deployment = select(func.max(versions.version)).where(versions.company_id.is_(None))
    own = select(func.max(versions.version)).where(versions.company_id == company_id)
    latest = session.execute(
        select(versions.company_id, versions.sha256).where(
            versions.version.in_(deployment.union_all(own))
        )
    ).all()
    hashes = sorted(latest, key=lambda row: row.company_id is not None)  # deployment first
    policies: list[Policy] = []
    for _, sha256 in hashes:
        found = _PARSED.get(sha256)
        if found is None:
            return list(in_force(session=session, company_id=company_id).policies)
        policies.extend(found)
    return policies


def versions_for(session: Session, company: Company | None) -> list[PolicyVersion]:
    """The versions of a scope, newest first (a company sees the deployment's too)."""
    query = select(PolicyVersion).order_by(PolicyVersion.version.desc())
    if company is not None:
        query = query.where(
            (PolicyVersion.company_id == company.id) | PolicyVersion.company_id.is_(None)
        )
    else:
        query = query.where(PolicyVersion.company_id.is_(None))
    return list(session.scalars(query))


def deployment_policies(session: Session) -> list[Policy]:
    """The deployment-wide set's policies (what every company's policies begin with)."""
    version = latest_version(session, None)
    return list(parsed(version)) if version is not None else []
