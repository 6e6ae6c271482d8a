"""The online business catalogue (网上办理): every business type a customer may apply for,
with its own form fields, the documents the customer declares, whether it needs one of the
customer's accounts, and the promised completion time with the commitment it comes from.

The catalogue is data (`applications/data/catalogue.yaml`), loaded and checked once. This
module also checks a filled-in form against its business (`clean_fields`, `clean_documents`)
and turns a promise into a moment (`promised_by`: working days are China's, with its statutory
holidays and adjusted working days, `applications.workdays`; an arrival promise by area class
takes the account's city / county / rural class, `applications.clock.area_class`). Problems
carry a key and values so that pages can show them in either language (`PROBLEM_TEXT`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from sanbuting.applications.workdays import nth_working_day_after
from sanbuting.domain import SHANGHAI, Utility, local_date
from sanbuting.errors import SanbutingError

Kind = Literal["text", "textarea", "number", "date", "choice", "phone"]
Category = Literal["business", "ticket"]
AreaClass = Literal["city", "county", "rural"]
AREA_CLASSES: tuple[AreaClass, ...] = ("city", "county", "rural")
Milestone = Literal["arrival", "completion"]
KINDS: tuple[Kind, ...] = ("text", "textarea", "number", "date", "choice", "phone")
CODE = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")
NUMBER = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 2000}
RESERVED = frozenset({"account", "company", "documents", "csrf_token"})
"""Names the forms use for themselves: no business field may take them."""

PROBLEM_TEXT: dict[str, tuple[str, str]] = {
    "required": ("必填", "is required"),
    "unknown": ("不是此业务的填写项", "is not a field of this business"),
    "too_long": ("不能超过 {max} 个字", "must be at most {max} characters"),
    "pattern": ("格式不对，例如 {example}", "is not in the right form, e.g. {example}"),
    "number": ("请填写数字（最多两位小数）", "must be a number (at most two decimals)"),
    "below": ("不能小于 {min}", "must be at least {min}"),
    "above": ("不能大于 {max}", "must be at most {max}"),
    "date": ("请填写日期，格式 2020-02-03", "must be a date written 2020-02-03"),
    "too_early": ("不能早于 {first}", "must not be before {first}"),
    "too_late": ("不能晚于 {last}", "must not be after {last}"),
    "choice": ("请从所列选项中选择", "must be one of the listed choices"),
    "phone": ("请填写手机号或带区号的固定电话", "must be a mobile number or a fixed line"),
    "document_missing": ("须具备此材料", "is required"),
    "document_unknown": ("不是此业务所需材料", "is not a document of this business"),
}
"""Per problem key: (中文, English), with `{placeholders}` filled from the problem's values."""


@dataclass(frozen=True)
class Choice:
    value: str
    zh: str
    en: str


@dataclass(frozen=True)
class FormField:
    name: str
    zh: str
    en: str
    kind: Kind
    required: bool = True
    max_length: int | None = None
    pattern: str | None = None
    example: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_days: int | None = None
    max_days: int | None = None
    """Date bounds, in days from the day of submission (negative: in the past)."""
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Document:
    code: str
    zh: str
    en: str
    required: bool = True


@dataclass(frozen=True)
class ByArea:
    """Minutes promised by the account's area class (城区 / 县城 / 农村)."""

    city: int
    county: int
    rural: int

    def for_area(self, area: AreaClass) -> int:
        return {"city": self.city, "county": self.county, "rural": self.rural}[area]


@dataclass(frozen=True)
class Promise:
    """Within `hours` of submission, within `minutes` of it by the account's area class, or
    by the end (23:59:59) of the `working_days`-th working day after the day of submission
    (China's working days: `applications.workdays`); exactly one of the three. `milestone`
    says what is promised: the arrival of staff on site (the clock stops when the ticket moves
    to in progress) or the completion (it stops when the ticket is completed)."""

    hours: int | None
    working_days: int | None
    source: str
    minutes: ByArea | None = None
    milestone: Milestone = "completion"


@dataclass(frozen=True)
class Business:
    code: str
    zh: str
    en: str
    utilities: tuple[Utility, ...]
    category: Category
    needs_account: bool
    promise: Promise
    fields: tuple[FormField, ...]
    documents: tuple[Document, ...] = field(default=())

    def field_named(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Problem:
    """One bad field or document: what (`name`), which problem (`key` of `PROBLEM_TEXT`)."""

    name: str
    key: str
    values: dict[str, str] = field(default_factory=dict)

    def text(self, lang: Literal["zh", "en"] = "en") -> str:
        zh, en = PROBLEM_TEXT[self.key]
        return (zh if lang == "zh" else en).format(**self.values)


class UnknownBusiness(SanbutingError):
    """A business code that is not in the catalogue."""


class InvalidApplication(SanbutingError):
    """A form that does not fit its business: every problem, one per field or document."""

    def __init__(self, business: Business, problems: list[Problem]) -> None:
        self.business = business
        self.problems = problems
        labels = {f.name: f.en for f in business.fields}
        labels.update({d.code: f"document {d.en!r}" for d in business.documents})
        parts = [f"{labels.get(p.name, p.name)} ({p.name}) {p.text('en')}" for p in problems]
        super().__init__(f"{business.code}: " + "; ".join(parts))


@cache
def catalogue() -> tuple[Business, ...]:
    """Every business type, in catalogue order."""
    text = (resources.files("sanbuting.applications") / "data" / "catalogue.yaml").read_text(
        encoding="utf-8"
    )
    return load(text)


def business(code: str) -> Business:
    """The business `code` (an `UnknownBusiness` if there is none)."""
    found = next((b for b in catalogue() if b.code == code), None)
    if found is None:
        raise UnknownBusiness(f"there is no business {code!r}: see the catalogue at /business")
    return found


def for_utility(utility: Utility | str) -> list[Business]:
    return [b for b in catalogue() if Utility(utility) in b.utilities]


def load(text: str) -> tuple[Business, ...]:
    """Build the catalogue from its YAML text; a shape error names the business and key."""
    raw = yaml.safe_load(text)
    shared_fields: dict[str, Any] = raw.get("fields") or {}
    shared_docs: dict[str, Any] = raw.get("documents") or {}
    built: list[Business] = []
    for item in raw["businesses"]:
        code = str(item.get("code", ""))
        if not CODE.match(code) or any(b.code == code for b in built):
            raise SanbutingError(f"catalogue: business code {code!r} is malformed or repeated")
        try:
            built.append(_business(item, shared_fields, shared_docs))
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise SanbutingError(f"catalogue: business {code}: {exc!r}") from exc
    return tuple(built)


def _business(item: dict[str, Any], fields: dict[str, Any], docs: dict[str, Any]) -> Business:
    category = item["category"]
    if category not in ("business", "ticket"):
        raise ValueError(f"category {category!r}")
    promise = item["promise"]
    hours, days, minutes = promise.get("hours"), promise.get("working_days"), promise.get("minutes")
    given = [value for value in (hours, days, minutes) if value is not None]
    if len(given) != 1 or not str(promise.get("source", "")).strip():
        raise ValueError("a promise has hours, working_days or minutes (one of them) and a source")
    if minutes is not None and set(minutes) != set(AREA_CLASSES):
        raise ValueError(f"minutes are given for each of {', '.join(AREA_CLASSES)}, no other")
    by_area = None if minutes is None else ByArea(*(int(minutes[a]) for a in AREA_CLASSES))
    milestone = promise.get("milestone", "completion")
    if milestone not in ("arrival", "completion"):
        raise ValueError(f"milestone {milestone!r}: arrival or completion")
    built_fields = tuple(_field(entry, fields) for entry in item.get("fields") or [])
    if not built_fields or len({f.name for f in built_fields}) != len(built_fields):
        raise ValueError("fields are missing or repeated")
    documents = []
    for entry in item.get("documents") or []:
        code = str(entry).removesuffix("?")
        documents.append(
            Document(code, docs[code]["zh"], docs[code]["en"], not entry.endswith("?"))
        )
    return Business(
        code=item["code"],
        zh=str(item["zh"]),
        en=str(item["en"]),
        utilities=tuple(Utility(u) for u in item["utilities"]),
        category=category,
        needs_account=bool(item["needs_account"]),
        promise=Promise(hours, days, str(promise["source"]), by_area, milestone),
        fields=built_fields,
        documents=tuple(documents),
    )


def _field(entry: str | dict[str, Any], shared: dict[str, Any]) -> FormField:
    if isinstance(entry, str):
        name = entry.removesuffix("?")
        spec = {**shared[name], "name": name, "required": not entry.endswith("?")}
    else:
        spec = entry
    name, kind = str(spec["name"]), spec["kind"]
    if not NAME.match(name) or name in RESERVED or kind not in KINDS:
        raise ValueError(f"field {name!r}: bad name or kind {kind!r}")
    choices = tuple(
        Choice(str(c["value"]), str(c["zh"]), str(c["en"])) for c in spec.get("choices", [])
    )
    if (kind == "choice") != bool(choices):
        raise ValueError(f"field {name!r}: choices go with kind choice, and only with it")
    if spec.get("pattern"):
        re.compile(spec["pattern"])

    def bound(key: str) -> Decimal | None:
        return None if spec.get(key) is None else Decimal(str(spec[key]))

    return FormField(
        name=name,
        zh=str(spec["zh"]),
        en=str(spec["en"]),
        kind=kind,
        required=bool(spec.get("required", True)),
        max_length=spec.get("max_length") or DEFAULT_MAX_LENGTH.get(kind),
        pattern=spec.get("pattern"),
        example=str(spec.get("example", "")),
        minimum=bound("min"),
        maximum=bound("max"),
        min_days=spec.get("min_days"),
        max_days=spec.get("max_days"),
        choices=choices,
    )


def clean_fields(business: Business, fields: dict[str, str], today: date) -> dict[str, str]:
    """The form's values, trimmed and checked against `business` (an `InvalidApplication`
    lists every problem); empty optional fields are left out."""
    problems = [Problem(name, "unknown") for name in fields if business.field_named(name) is None]
    cleaned: dict[str, str] = {}
    for spec in business.fields:
        value = (fields.get(spec.name) or "").strip()
        if not value:
            if spec.required:
                problems.append(Problem(spec.name, "required"))
            continue
        problem = _check(spec, value, today)
        if problem is None:
            cleaned[spec.name] = value
        else:
            problems.append(problem)
    if problems:
        raise InvalidApplication(business, problems)
    return cleaned


def _check(spec: FormField, value: str, today: date) -> Problem | None:
    name = spec.name
    if spec.max_length is not None and len(value) > spec.max_length:
        return Problem(name, "too_long", {"max": str(spec.max_length)})
    if spec.pattern and not re.match(spec.pattern, value):
        return Problem(name, "pattern", {"example": spec.example})
    if spec.kind == "phone" and not PHONE.match(value.replace(" ", "")):
        return Problem(name, "phone")
    if spec.kind == "choice" and value not in {c.value for c in spec.choices}:
        return Problem(name, "choice")
    if spec.kind == "number":
        if not NUMBER.match(value):
            return Problem(name, "number")
        number = Decimal(value)
        if spec.minimum is not None and number < spec.minimum:
            return Problem(name, "below", {"min": str(spec.minimum)})
        if spec.maximum is not None and number > spec.maximum:
            return Problem(name, "above", {"max": str(spec.maximum)})
    if spec.kind == "date":
        try:
            day = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            return Problem(name, "date")
        if spec.min_days is not None and day < today + timedelta(days=spec.min_days):
            return Problem(name, "too_early", {"first": str(today + timedelta(spec.min_days))})
        if spec.max_days is not None and day > today + timedelta(days=spec.max_days):
            return Problem(name, "too_late", {"last": str(today + timedelta(spec.max_days))})
    return None


def clean_documents(business: Business, declared: list[str]) -> list[str]:
    """The documents the customer declared, in catalogue order; every required one must be
    there and no other is accepted."""
    known = {d.code for d in business.documents}
    chosen = set(declared)
    problems = [Problem(code, "document_unknown") for code in sorted(chosen - known)]
    problems += [
        Problem(d.code, "document_missing")
        for d in business.documents
        if d.required and d.code not in chosen
    ]
    if problems:
        raise InvalidApplication(business, problems)
    return [d.code for d in business.documents if d.code in chosen]


def promised_by(promise: Promise, now: datetime, area: AreaClass = "city") -> datetime:
    """When an application submitted at `now` is promised (aware, Asia/Shanghai); `area` is
    the account's area class, for a promise in minutes by area."""
    if promise.minutes is not None:
        return now.astimezone(SHANGHAI) + timedelta(minutes=promise.minutes.for_area(area))
    if promise.hours is not None:
        return now.astimezone(SHANGHAI) + timedelta(hours=promise.hours)
    assert promise.working_days is not None
    day = nth_working_day_after(local_date(now), promise.working_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


AREA_TEXT: dict[AreaClass, tuple[str, str]] = {
    "city": ("城区", "city"),
    "county": ("县城", "county"),
    "rural": ("农村", "rural"),
}
"""Each area class in words: (中文, English)."""


def describe_promise(promise: Promise, lang: Literal["zh", "en"]) -> str:
    """`4 小时内` / `within 4 hours`, `5 个工作日内` / `within 5 working days`; by area:
    `城区 45 分钟、县城 90 分钟、农村 120 分钟内到达现场` / `on site within 45 minutes (city),
    ...`."""
    if promise.minutes is not None:
        by = promise.minutes
        if lang == "zh":
            return f"城区 {by.city} 分钟、县城 {by.county} 分钟、农村 {by.rural} 分钟内到达现场"
        return (
            f"on site within {by.city} minutes (city), {by.county} minutes (county), "
            f"{by.rural} minutes (rural)"
        )
    arrive_zh, arrive_en = ("到达现场", "on site ") if promise.milestone == "arrival" else ("", "")
    if promise.hours is not None:
        hours = promise.hours
        return f"{hours} 小时内{arrive_zh}" if lang == "zh" else f"{arrive_en}within {hours} hours"
    days = promise.working_days
    return f"{days} 个工作日内" if lang == "zh" else f"within {days} working days"
