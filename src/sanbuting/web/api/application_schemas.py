"""The bodies of the online business API: the catalogue (business types with their form fields,
documents and promised times), a filled-in form, an application with its history (phone and
ID numbers masked), and for staff its assignee, handing it to an agent and revealing its
contact phone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sanbuting.applications import catalogue
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
    Username,
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


class StaffApplicationOut(ApplicationOut):
    assignee: Username | None = Field(description="Who works it (set when it is accepted).")


class StaffApplicationDetail(ApplicationDetail):
    assignee: Username | None = Field(description="Who works it (set when it is accepted).")


class AssigneeIn(Strict):
    """The agent of the company to hand the application to."""

    username: Username


class RevealedPhone(BaseModel):
    """An application's contact phone, whole (the reveal is in the audit log)."""

    number: Annotated[str, Field(max_length=32)]
    phone: Annotated[str, Field(max_length=64)]
    source: Literal["form", "account"] = Field(
        description="From the form's phone field, or (none in the form) the account's phone."
    )
    field: FieldName | None = Field(description="The form's field, when from the form.")


def business_out(spec: catalogue.Business) -> BusinessOut:
    """A business of the catalogue as the API shows it."""
    promise = spec.promise
    fields = [
        {
            **{k: getattr(f, k) for k in ("name", "zh", "en", "kind", "required", "max_length")},
            **{k: getattr(f, k) for k in ("pattern", "example", "min_days", "max_days")},
            "minimum": None if f.minimum is None else str(f.minimum),
            "maximum": None if f.maximum is None else str(f.maximum),
            "choices": [{"value": c.value, "zh": c.zh, "en": c.en} for c in f.choices],
        }
        for f in spec.fields
    ]
    return BusinessOut.model_validate(
        {
            "code": spec.code,
            "zh": spec.zh,
            "en": spec.en,
            "utilities": [str(u) for u in spec.utilities],
            "category": spec.category,
            "needs_account": spec.needs_account,
            "promise": {
                "hours": promise.hours,
                "working_days": promise.working_days,
                "source": promise.source,
                "zh": catalogue.describe_promise(promise, "zh"),
                "en": catalogue.describe_promise(promise, "en"),
            },
            "fields": fields,
            "documents": [
                {"code": d.code, "zh": d.zh, "en": d.en, "required": d.required}
                for d in spec.documents
            ],
        }
    )
