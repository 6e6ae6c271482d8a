"""The bodies of the online business API: the catalogue (business types with their form fields,
documents and promised times), a filled-in form, and an application with its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sanbuting.web.api.schemas import (
    AccountNumber,
    BusinessCode,
    CompanyCode,
    Count,
    DocumentCode,
    FieldName,
    FieldValue,
    Name,
    Status,
    Strict,
)
from sanbuting.web.types import LongText


class ChoiceOut(BaseModel):
    value: Name
    zh: Name
    en: Name


class FormFieldOut(BaseModel):
    name: FieldName
    zh: Name
    en: Name
    kind: Literal["text", "textarea", "number", "date", "choice", "phone"]
    required: bool
    max_length: Count | None
    pattern: LongText | None
    example: Name
    minimum: Name | None
    maximum: Name | None
    min_days: Annotated[int, Field(ge=-100_000, le=100_000)] | None
    max_days: Annotated[int, Field(ge=-100_000, le=100_000)] | None
    choices: list[ChoiceOut] = Field(max_length=1000)


class DocumentOut(BaseModel):
    code: DocumentCode
    zh: LongText
    en: LongText
    required: bool


class PromiseOut(BaseModel):
    hours: Count | None
    working_days: Count | None
    source: LongText
    zh: Name
    en: Name


class BusinessOut(BaseModel):
    code: BusinessCode
    zh: Name
    en: Name
    utilities: list[Annotated[str, Field(max_length=16)]] = Field(max_length=10)
    category: Literal["business", "ticket"]
    needs_account: bool
    promise: PromiseOut
    fields: list[FormFieldOut] = Field(max_length=200)
    documents: list[DocumentOut] = Field(max_length=200)


class BusinessList(BaseModel):
    items: list[BusinessOut] = Field(max_length=1000)


class ApplicationIn(Strict):
    """A form: the business, the account it is for (or the company, for a business that needs
    no account, e.g. a new connection), its fields and the documents the customer holds."""

    business: BusinessCode
    account_id: AccountNumber | None = None
    company: CompanyCode | None = None
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=50)
    documents: list[DocumentCode] = Field(default_factory=list, max_length=50)


class EventOut(BaseModel):
    status: Status
    note: LongText
    by: Name
    at: datetime


class ApplicationOut(BaseModel):
    number: Annotated[str, Field(max_length=32)]
    business: BusinessCode
    category: Literal["business", "ticket"]
    company: Name
    account_id: AccountNumber | None
    status: Status
    priority: Annotated[int, Field(ge=1, le=9)]
    created_at: datetime
    promised_by: datetime
    fields: dict[Name, LongText] = Field(max_length=200)
    documents: list[Name] = Field(max_length=200)


class ApplicationDetail(ApplicationOut):
    history: list[EventOut] = Field(max_length=10_000)
    next_statuses: list[Status] = Field(max_length=10)


class TransitionIn(Strict):
    status: Status
    note: Annotated[str, Field(max_length=2000)] = ""
