"""The bodies of the companies' figures (`web.api.companies`): counts and sums per company,
week and province, never an account, a name or a phone."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from sanbuting.web.api.schemas import Amount, Count, Name

Utility = Annotated[str, Field(max_length=16, description="power, telecom or gas")]


class CompanyFiguresOut(BaseModel):
    """One company's figures over the days its daily run recorded."""

    company: Name = Field(description="The company's code.")
    name: Name
    group: Name | None = Field(description="The corporate group (集团); null: not named yet.")
    utility: Utility
    accounts: Count
    days_run: Count
    first_day: date | None
    last_day: date | None
    exempt_events: Count = Field(description="人次 免停 (policy exempt events)")
    defer_events: Count = Field(description="人次 缓停 (policy defer events)")
    protected_accounts: Count = Field(description="户: accounts with a policy protection event")
    protected_arrears_fen: Amount = Field(
        description="Arrears of the protected accounts on the day of their first event."
    )
    waived_fen: Amount = Field(description="Late fees waived by relief policies.")
    reconnections: Count = Field(description="Recorded reconnections (复电/复机).")
    policy_reconnections: Count = Field(description="Of which a policy caused at its start.")


class FigureTotalsOut(BaseModel):
    """The companies' figures added up (an account is in one company: 户 add up too)."""

    accounts: Count
    exempt_events: Count
    defer_events: Count
    protected_accounts: Count
    protected_arrears_fen: Amount
    waived_fen: Amount
    reconnections: Count
    policy_reconnections: Count


class CompaniesFiguresOut(BaseModel):
    """Every company the caller may read, compared: the deployment regulator's every company,
    a company's regulator or supervisor's own."""

    companies: list[CompanyFiguresOut] = Field(max_length=10_000)
    total: FigureTotalsOut


class WeekFigureOut(BaseModel):
    week: Annotated[str, Field(pattern=r"^[0-9]{4}-W[0-9]{2}$", description="ISO week")]
    week_start: date = Field(description="Its Monday.")
    exempt_events: Count
    defer_events: Count
    protected_accounts: Count = Field(description="户 with an event in that week")


class ProvinceFigureOut(BaseModel):
    province: Annotated[str, Field(pattern=r"^[0-9]{2}$", description="GB/T 2260 code")]
    name: Name
    events: Count = Field(description="人次")
    protected_accounts: Count = Field(description="户")


class ChannelFigureOut(BaseModel):
    channel: Annotated[str, Field(max_length=64)]
    online: bool = Field(description="Paid without a counter, bank branch, kiosk or agent.")
    payments: Count
    paid_fen: Count


class BusinessFigureOut(BaseModel):
    business: Annotated[str, Field(max_length=64, description="The catalogue's business code.")]
    applications: Count = Field(description="Filed online by customers.")
    done: Count = Field(description="Of those, completed.")


class CompanyDetailOut(BaseModel):
    """One company's figures, its 人次 and 户 by week and by province, its payments by channel
    and the business customers filed online."""

    figures: CompanyFiguresOut
    by_week: list[WeekFigureOut] = Field(max_length=600)
    by_province: list[ProvinceFigureOut] = Field(max_length=100)
    payments_by_channel: list[ChannelFigureOut] = Field(max_length=100)
    business_online: list[BusinessFigureOut] = Field(max_length=200)
