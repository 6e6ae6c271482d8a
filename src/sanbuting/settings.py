"""The service's settings (portal, console, API, sign-in, payments), from `SANBUTING_*`
environment variables. Below the web layer: the services read them too."""

from __future__ import annotations

import secrets
from typing import Literal

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

    # SMS: how `sanbuting sms send` sends the queue (`sms.sender`, docs/sms.md).
    sms_sink: Literal["file", "smpp"] = "file"
    """`file`: append each message to `sms_file` (tests and the demo); `smpp`: submit it to
    the SMSC below over SMPP 3.4."""
    sms_file: str = "sms-sent.jsonl"
    """The JSON-lines file the `file` sink appends to."""
    smpp_host: str = "127.0.0.1"
    smpp_port: int = Field(default=2775, ge=1, le=65535)
    smpp_system_id: str = Field(default="sanbuting", max_length=15)
    smpp_password: str = Field(default="", max_length=8)
    """The bind password (SMPP allows at most 8 characters)."""
    smpp_system_type: str = Field(default="", max_length=12)
    smpp_source_addr: str = Field(default="95598", max_length=20)
    """The sender's number shown on handsets (a service number such as 95598 or 10086)."""
    smpp_window: int = Field(default=10, ge=1, le=1000)
    """submit_sm requests outstanding at once (unanswered)."""
    smpp_rate: float = Field(default=100.0, gt=0, le=100_000)
    """The most submit_sm a second (each segment of a long text is one); halved on each
    ESME_RTHROTTLED and recovered slowly."""

    # SMS: what is sent (`sms.templates`, `sms.rules`, docs/sms.md).
    sms_daily_cap: int = Field(default=10, ge=1, le=1000)
    """Messages one number may get from a company in a day; past it non-essential messages
    are refused (essential notices, emergencies and sign-in codes still go)."""
    sms_templates: str = ""
    """A folder with the deployment's own `zh-CN.yaml` and `en.yaml` templates (empty: the
    shipped ones); checked when the service and the dispatcher start."""
