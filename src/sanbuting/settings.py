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
    """Demo mode: a sandbox SMS inbox page shows the codes sent (never in production)."""
    secure_cookies: bool = False
    """Mark cookies Secure (behind HTTPS)."""
