"""Relief-policy sets in the store: activating a file adds a version (its text, hash, who and
when); the active set is the latest version. A file that does not load is refused whole and
the active set stays as it was. Activation books every account's ledger again with the new
set in the same transaction (a waiver announced late corrects fees already charged, by
reversal), so the ledger always agrees with the active policies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.ledger.service import rebook_all
from sanbuting.policy import Policy, parse_policies
from sanbuting.store.models import PolicyVersion


@dataclass(frozen=True)
class Activated:
    version: int
    policies: int
    sha256: str
    postings: int = 0
    """Ledger postings the new set changed (corrections by reversal, and their new entries)."""


def activate(*, session: Session, path: Path, by: str, at: datetime) -> Activated:
    """Check `path` and make it the active policy set (a `PolicyError` leaves the store as it
    was). The caller owns the transaction."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    loaded = parse_policies(text, str(path))
    latest = session.scalar(select(func.max(PolicyVersion.version))) or 0
    digest = hashlib.sha256(raw).hexdigest()  # the file's bytes, as a run's summary hashes them
    session.add(
        PolicyVersion(
            version=latest + 1,
            file_name=path.name,
            text=text,
            sha256=digest,
            policies=len(loaded),
            activated_by=by,
            activated_at=as_utc(at),
        )
    )
    session.flush()
    postings = rebook_all(session=session, policies=loaded, now=at)
    return Activated(latest + 1, len(loaded), digest, postings)


def active(*, session: Session) -> tuple[PolicyVersion | None, list[Policy]]:
    """The active version and its policies (none before any activation)."""
    version = session.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    if version is None:
        return None, []
    return version, parse_policies(version.text, version.file_name)
