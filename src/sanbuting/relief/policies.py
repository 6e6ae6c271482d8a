"""The active relief-policy set, parsed once per version: pages and payments read it often, and
it changes only when a policy administrator activates a new set (`store.policies.activate`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.policy import Policy, parse_policies
from sanbuting.store.models import PolicyVersion

_PARSED: dict[str, tuple[Policy, ...]] = {}
"""Parsed policy sets by the sha256 of their file (a handful of versions ever)."""


def active_policies(*, session: Session) -> list[Policy]:
    """The active policy set, in file order (empty before any activation)."""
    latest = session.execute(
        select(PolicyVersion.id, PolicyVersion.sha256)
        .order_by(PolicyVersion.version.desc())
        .limit(1)
    ).first()
    if latest is None:
        return []
    parsed = _PARSED.get(latest.sha256)
    if parsed is None:
        version = session.get(PolicyVersion, latest.id)
        assert version is not None
        parsed = tuple(parse_policies(version.text, version.file_name))
        _PARSED[latest.sha256] = parsed
    return list(parsed)
