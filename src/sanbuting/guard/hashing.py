"""Secrets and their hashes: session and API tokens (kept only as SHA-256 hashes), sign-in
codes (a keyed hash bound to the phone), staff passwords (argon2id), and a constant-time
comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash

PASSWORDS = PasswordHash.recommended()
"""argon2id with the library's recommended parameters."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session token or an API key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_code() -> str:
    """A 6-digit sign-in code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(code: str, phone: str, secret: str) -> str:
    """A keyed hash of a code (bound to the phone it was sent to)."""
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def password_matches(password: str, hashed: str) -> bool:
    return PASSWORDS.verify(password, hashed)
