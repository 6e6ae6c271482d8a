"""Signing the sandbox provider's notifications: HMAC-SHA256 over the fields, in key order,
as `key=value` pairs joined by `&` (empty values and the signature itself left out), keyed with
the deployment's secret. The merchant refuses a notification whose signature does not match."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_FIELD = "sign"


def canonical(fields: Mapping[str, str]) -> str:
    """The text that is signed."""
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != SIGN_FIELD and fields[k])


def signature(fields: Mapping[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(fields).encode(), hashlib.sha256).hexdigest()


def signed(fields: Mapping[str, str], secret: str) -> dict[str, str]:
    """`fields` with their signature added."""
    return {**fields, SIGN_FIELD: signature(fields, secret)}


def verified(fields: Mapping[str, str], secret: str) -> bool:
    """True when `fields` carry the signature the secret gives them."""
    given = fields.get(SIGN_FIELD, "")
    return hmac.compare_digest(given.encode(), signature(fields, secret).encode())
