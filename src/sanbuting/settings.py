"""The service's settings (portal, console, API, sign-in, payments), from `SANBUTING_*`
environment variables. Below the web layer: the services read them too."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sanbuting.store.database import DEFAULT_URL


class Settings(BaseSettings):
    """How the portal, console and API run. Unset, the secret is random per process (sessions
    then end with the process); set `SANBUTING_SECRET_KEY` in production."""

    model_config = SettingsConfigDict(env_prefix="SANBUTING_", extra="ignore")

    database_url: str = DEFAULT_URL
    secret_key: str = Field(default_factory=lambda: secrets.token_hex(32))
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    code_ttl_minutes: int = Field(default=10, ge=1, le=60)
    code_attempts: int = Field(default=5, ge=1, le=20)
    codes_per_hour: int = Field(default=5, ge=1, le=100)
    sign_ins_per_minute: int = Field(default=20, ge=1, le=10_000)
    database_connections: int = Field(default=40, ge=1, le=500)
    """Requests let into a worker process at once (`web.admission`), and the database
    connections it may hold for writing (and as many for reading on SQLite): at most the
    threads that run requests (AnyIO's 40)."""
    demo: bool = False
    """Demo mode: the sandbox payment provider (`/sandbox-pay`) and the SMS inbox (`/demo`)
    are served, and every console page says so in red. Never in production."""
    secure_cookies: bool = False
    """Mark cookies Secure and send HSTS (behind HTTPS)."""
    trusted_proxies: str = ""
    """Addresses of reverse proxies whose `X-Forwarded-For` is believed, `,`-separated (none
    by default: the peer's own address counts)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """The largest request body taken (a policy upload has the policy cap of its own)."""
    policy_max_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """The largest relief-policy file taken (`SANBUTING_POLICY_MAX_BYTES`, as the CLI reads it)."""

    # Sign-in codes: per number, per address, per number prefix (号段), and a site budget.
    codes_per_ip_hour: int = Field(default=20, ge=1, le=100_000)
    codes_per_prefix_hour: int = Field(default=50, ge=1, le=100_000)
    """Codes an hour to numbers sharing their first 7 digits (one HLR block of 10,000)."""
    codes_per_minute: int = Field(default=60, ge=1, le=100_000)
    """The site's budget of codes sent a minute; a customer holding a valid code still signs
    in when it is spent."""

    # Staff sign-in back-off (kept in the database).
    sign_in_free_failures: int = Field(default=5, ge=1, le=100)
    """Failed sign-ins under one key before each further one makes it wait."""
    sign_in_max_wait_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)

    # Payments.
    provider_secret: str = Field(default_factory=lambda: secrets.token_hex(32))
    """The payment provider's signing key for its notifications (its own secret, never the
    sign-in key)."""
    online_limit_fen: int = Field(default=5_000_000, ge=1, le=10**11)
    """The largest online (checkout) payment: 50,000 yuan."""
    cashier_limit_fen: int = Field(default=10_000_000, ge=1, le=10**11)
    """The largest payment a cashier posts at the counter: 100,000 yuan."""
    notification_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    """A provider's notification must date its trade within this many hours of the order."""

    # Online business.
    open_applications_per_customer: int = Field(default=10, ge=1, le=10_000)
    applications_per_customer_day: int = Field(default=20, ge=1, le=10_000)
