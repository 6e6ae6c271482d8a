"""Text-message templates as data (`sms/data/zh-CN.yaml`, `sms/data/en.yaml`), checked whole
when they are loaded, and rendered with amounts in 元, dates in Chinese and the company's
hotline.

**A file** holds its `language` (its name), per utility the words a message needs (`supply`,
`cut`: 供电/停电, 通信服务/停机, 供气/停气) and how to pay (`pay_how`), and one template per
event of `EVENTS`. A template is text with `{placeholders}`: each event names the placeholders
it offers (`Event.offers`, plus `COMMON`) and those it needs (`Event.needs`: a notice must say
the cut-off date and how to pay). Loading refuses the whole set, each problem with its
`file:line`, for a file too large or nested too deep (`MAX_FILE_BYTES`, the policy loader's
bounds), an unknown key, a missing or unknown event, an entry that is not one text, braces that
do not parse, a placeholder with a format, conversion, index or attribute, an unknown or
missing placeholder, and a message longer than `MAX_SEGMENTS` SMS when rendered with the
longest plausible values (`SAMPLE`). Problems are collected, not raised one by one.

**Rendering** (`Templates.render`) fills the event's placeholders from typed values: a name
ending `_yuan` takes integer fen (12345 → `123.45`, the template writes the unit), `_date` a
date (zh-CN `2020年2月15日`, en `15 Feb 2020`), `_time` an aware moment shown in Asia/Shanghai
(`2020年3月10日22:00`, `22:00, 10 Mar 2020`); the company's name, its hotline (`hotline_of`)
and the utility's words are filled in for every event. A value is only ever inserted, never
read as a template.

`shipped()` loads the files in this package once; `load(directory)` loads a deployment's own
(`SANBUTING_SMS_TEMPLATES`), which the service and the dispatcher check when they start.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from yaml.nodes import Node, ScalarNode

from sanbuting.domain import SHANGHAI, Utility, format_yuan
from sanbuting.errors import SanbutingError
from sanbuting.policy import yamlnodes as yn
from sanbuting.sms.encoding import segment_count
from sanbuting.store.models import Company

HERE = Path(__file__).resolve().parent / "data"
LANGUAGES = ("zh-CN", "en")
"""The languages every set of templates holds, one file each (`zh-CN.yaml`, `en.yaml`)."""
TEMPLATES_VARIABLE = "SANBUTING_SMS_TEMPLATES"
MAX_FILE_BYTES = 64 * 1024
"""A template file is a page of text: 64 KB is room for ten times the shipped ones."""
MAX_SEGMENTS = {"zh-CN": 2, "en": 3}
"""How many SMS a message may take with the longest plausible values: two UCS-2 segments (134
characters) in Chinese, three in English (an English text with a Chinese company name is sent
as UCS-2 too)."""
MAX_TEXT = 300
"""The longest text a public-service broadcast may carry (`broadcast`'s `{text}`)."""

COMMON = frozenset({"company_name", "hotline", "pay_how", "supply", "cut"})
"""Placeholders every event offers: the company's name and hotline, the utility's words."""
WORDS = ("supply", "cut", "pay_how")
"""What each file says per utility."""


@dataclass(frozen=True, slots=True)
class Event:
    """What one event's template may use (`offers`, besides `COMMON`) and must use (`needs`)."""

    offers: frozenset[str]
    needs: frozenset[str]


def _event(offers: str, needs: str) -> Event:
    return Event(frozenset(offers.split()), frozenset(needs.split()))


EVENTS: dict[str, Event] = {
    "remind": _event("account amount_yuan due_date", "amount_yuan pay_how hotline"),
    "notice": _event("account amount_yuan cutoff_date", "amount_yuan cutoff_date pay_how hotline"),
    "suspend": _event(
        "account amount_yuan action_date restore_hours", "amount_yuan pay_how hotline"
    ),
    "disconnect": _event(
        "account amount_yuan action_date restore_hours", "amount_yuan pay_how hotline"
    ),
    "terminate": _event("account amount_yuan action_date", "amount_yuan hotline"),
    "reconnect": _event("account promised_time", "promised_time hotline"),
    "low_balance": _event("account balance_yuan threshold_yuan", "balance_yuan pay_how hotline"),
    "relief_granted": _event("account end_date", "end_date hotline"),
    "relief_ending": _event("account end_date amount_yuan", "end_date pay_how hotline"),
    "promise_reminder": _event(
        "account amount_yuan promise_date", "amount_yuan promise_date hotline"
    ),
    "instalment_reminder": _event(
        "account amount_yuan due_date part parts", "amount_yuan due_date hotline"
    ),
    "application_state": _event("number business status", "number status hotline"),
    "ticket_state": _event("number business status", "number status hotline"),
    "sign_in_code": _event("code minutes", "code"),
    "broadcast": _event("text", "text"),
}
"""Every event a message is sent for, with its placeholders."""

UTILITY_HOTLINES = {Utility.POWER: "95598", Utility.TELECOM: "10000", Utility.GAS: "12319"}
"""A company's hotline when it sets none and its group has none below: 95598 (国家电网 and
南方电网 both), 10000 (中国电信), and for gas 12319, the municipal utilities hotline
(城建服务热线) a city's gas complaints reach; a gas company sets its own (`companies.hotline`)."""
GROUP_HOTLINES = {
    "国家电网": "95598",
    "南方电网": "95598",
    "中国电信": "10000",
    "中国移动": "10086",
    "中国联通": "10010",
}
"""Hotlines by corporate group (`companies.group_name`), before the utility's."""

SAMPLE: dict[str, str] = {
    "company_name": "国网湖北省电力有限公司",
    "hotline": "95598",
    "account": "1234",
    "amount_yuan": "123456.78",
    "balance_yuan": "-1234.56",
    "threshold_yuan": "30.00",
    "restore_hours": "48",
    "part": "12",
    "parts": "24",
    "number": "SQ20200203000001",
    "business": "居民生活用电新装",
    "status": "不予受理",
    "code": "123456",
    "minutes": "10",
    "text": "暴雨预警：今夜有大暴雨，请远离积水和电力设施，发现断线请勿靠近。",
}
"""The longest plausible value of each placeholder, for the length check (dates and times are
the longest of their language: 2020年12月31日)."""
SAMPLE_DATE = date(2020, 12, 31)
SAMPLE_TIME = datetime(2020, 12, 31, 22, 30, tzinfo=SHANGHAI)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
Value = str | int | date | datetime


class TemplateError(SanbutingError):
    """A set of templates refused: every problem as `file:line: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the SMS templates were refused; fix these lines:\n" + "\n".join(problems))


@dataclass(frozen=True)
class Language:
    """One file's templates: per event its text, per utility its words."""

    code: str
    source: str
    events: Mapping[str, str]
    words: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Templates:
    """A checked set of templates, one `Language` per code of `LANGUAGES`."""

    languages: Mapping[str, Language]

    def render(
        self,
        event: str,
        *,
        language: str,
        company: Company,
        values: Mapping[str, Value],
    ) -> str:
        """The text of `event` for `company` in `language`, with `values` (every placeholder
        the event offers, typed as the module says; a missing or unknown one is a
        programming error: `ValueError`)."""
        chosen = self.languages[language]
        spec = EVENTS[event]
        given, expected = set(values), set(spec.offers)
        if given != expected:
            raise ValueError(
                f"SMS event {event} takes {sorted(expected)}, was given {sorted(given)}"
            )
        filled = {name: shown(name, value, language) for name, value in values.items()}
        words = chosen.words[company.utility]
        filled |= {
            "company_name": company.name,
            "hotline": hotline_of(company),
            **{word: words[word] for word in WORDS},
        }
        return chosen.events[event].format_map(filled)


def language_of(lang: str) -> str:
    """A template language for a web language code (`zh` → `zh-CN`)."""
    return "en" if lang.lower().startswith("en") else "zh-CN"


def hotline_of(company: Company) -> str:
    """The company's hotline: its own, else its group's, else its utility's."""
    if company.hotline:
        return company.hotline
    if company.group and company.group in GROUP_HOTLINES:
        return GROUP_HOTLINES[company.group]
    return UTILITY_HOTLINES[Utility(company.utility)]


def account_tail(account_id: str) -> str:
    """What a message shows of an account number: its last four characters (尾号1234)."""
    return account_id.strip()[-4:]


def chinese_date(day: date) -> str:
    """2020年2月15日."""
    return f"{day.year}年{day.month}月{day.day}日"


def english_date(day: date) -> str:
    """15 Feb 2020."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def shown(name: str, value: Value, language: str) -> str:
    """One placeholder's value as the message shows it (see the module)."""
    chinese = language == "zh-CN"
    if name.endswith("_yuan"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} takes integer fen, not {value!r}")
        return format_yuan(value)
    if name.endswith("_time"):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{name} takes an aware datetime, not {value!r}")
        local = value.astimezone(SHANGHAI)
        day = local.date()
        clock = f"{local:%H:%M}"
        return f"{chinese_date(day)}{clock}" if chinese else f"{clock}, {english_date(day)}"
    if name.endswith("_date"):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError(f"{name} takes a date, not {value!r}")
        return chinese_date(value) if chinese else english_date(value)
    return str(value)


@cache
def shipped() -> Templates:
    """The templates this package ships, loaded and checked once."""
    return load(HERE)


def configured(folder: str | None = None) -> Templates:
    """The templates in force: those in `folder` (a folder with `zh-CN.yaml` and `en.yaml`),
    else in `SANBUTING_SMS_TEMPLATES` when it is set, else the shipped ones; each folder is
    loaded and checked once."""
    chosen = folder if folder is not None else os.environ.get(TEMPLATES_VARIABLE, "")
    return _load_cached(str(Path(chosen.strip()).resolve())) if chosen.strip() else shipped()


@cache
def _load_cached(folder: str) -> Templates:
    return load(Path(folder))


def load(directory: Path) -> Templates:
    """Every language's file in `directory`, checked (`TemplateError` lists every problem)."""
    problems: list[str] = []
    languages: dict[str, Language] = {}
    for code in LANGUAGES:
        path = directory / f"{code}.yaml"
        found = _load_file(path, code, problems)
        if found is not None:
            languages[code] = found
    if problems:
        raise TemplateError(problems)
    return Templates(languages)


def check(directory: Path) -> list[str]:
    """The problems of the templates in `directory` (none: they load)."""
    try:
        load(directory)
    except TemplateError as exc:
        return exc.problems
    return []


def _load_file(path: Path, code: str, out: list[str]) -> Language | None:
    source = path.name
    problems = yn.Problems(source)
    try:
        language = _read(path, code, problems)
    except yn.TooManyProblems:
        language = None
    out.extend(problems.lines())
    return language if not problems.found else None


def _read(path: Path, code: str, problems: yn.Problems) -> Language | None:
    try:
        size = path.stat().st_size
    except OSError:
        problems.add(1, f"missing: every set of templates has {', '.join(LANGUAGES)}")
        return None
    if size > MAX_FILE_BYTES:
        problems.add(
            1, f"the file has {size:,} bytes; a template file has at most {MAX_FILE_BYTES:,}"
        )
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    root = yn.compose(text, problems)
    if root is None:
        if not problems.found:
            problems.add(1, "the file is empty: it needs language, utilities and events")
        return None
    yn.check_tags(root, problems)
    body = yn.mapping(root, "the file", "{language: zh-CN, utilities: ..., events: ...}", problems)
    if body is None:
        return None
    found = yn.entries(body, "the file", problems)
    yn.only_keys(found, ("language", "utilities", "events"), "the file", problems)
    for key in ("language", "utilities", "events"):
        if key not in found:
            problems.add(body, f"the file has no '{key}'")
    if "language" in found:
        said = yn.text(found["language"].value, "language", problems)
        if said is not None and said != code:
            problems.add(
                found["language"].value,
                f"language is '{said}' in {code}.yaml: write language: {code}",
            )
    words = _words(found["utilities"].value, problems) if "utilities" in found else {}
    events = (
        _events(found["events"].key_node, found["events"].value, code, problems)
        if "events" in found
        else {}
    )
    if words and events and not problems.found:
        _check_lengths(code, events, words, problems)
    texts = {name: text for name, (text, _) in events.items()}
    return Language(code, str(path), texts, words)


def _words(node: Node, problems: yn.Problems) -> dict[str, dict[str, str]]:
    utilities = yn.mapping(node, "utilities", "{power: {supply: 供电, ...}, ...}", problems)
    if utilities is None:
        return {}
    found = yn.entries(utilities, "utilities", problems)
    names = tuple(u.value for u in Utility)
    yn.only_keys(found, names, "utilities", problems)
    words: dict[str, dict[str, str]] = {}
    for name in names:
        if name not in found:
            problems.add(utilities, f"utilities has no '{name}'")
            continue
        entry = yn.mapping(
            found[name].value,
            f"utilities.{name}",
            "{supply: ..., cut: ..., pay_how: ...}",
            problems,
        )
        if entry is None:
            continue
        said = yn.entries(entry, f"utilities.{name}", problems)
        yn.only_keys(said, WORDS, f"utilities.{name}", problems)
        chosen: dict[str, str] = {}
        for word in WORDS:
            if word not in said:
                problems.add(entry, f"utilities.{name} has no '{word}'")
                continue
            value = yn.text(said[word].value, f"utilities.{name}.{word}", problems)
            if value is not None and _plain_text(said[word].value, value, problems):
                chosen[word] = value
        words[name] = chosen
    return words


def _plain_text(node: Node, value: str, problems: yn.Problems) -> bool:
    """A word is shown as written: no braces, not blank."""
    if not value.strip():
        problems.add(node, "an empty text: write the words")
        return False
    if "{" in value or "}" in value:
        problems.add(node, f"'{value}' has braces: words are not templates")
        return False
    return True


def _events(
    key: ScalarNode, node: Node, code: str, problems: yn.Problems
) -> dict[str, tuple[str, Node]]:
    mapped = yn.mapping(node, "events", "{remind: '...', notice: '...'}", problems)
    if mapped is None:
        return {}
    found = yn.entries(mapped, "events", problems)
    templates: dict[str, tuple[str, Node]] = {}
    for name, entry in found.items():
        if name not in EVENTS:
            known = ", ".join(EVENTS)
            problems.add(entry.key_node, f"unknown event '{name}' (known: {known})")
            continue
        text = _template(name, entry.value, problems)
        if text is not None:
            templates[name] = (text, entry.value)
    for name in EVENTS:
        if name not in found:
            problems.add(key, f"events has no template for '{name}' (every event needs one)")
    return templates


def _template(event: str, node: Node, problems: yn.Problems) -> str | None:
    """One event's template, checked (see the module); None when it has a problem."""
    text = yn.text(node, f"the template of {event}", problems)
    if text is None or not isinstance(node, ScalarNode):
        return None
    if not text.strip():
        problems.add(node, f"the template of {event} is empty")
        return None
    before = len(problems.found)
    used = _placeholders(event, node, text, problems)
    if len(problems.found) > before:
        return None
    spec = EVENTS[event]
    known = spec.offers | COMMON
    for name, offset in used:
        if name not in known:
            problems.add(
                _line(node, text, offset),
                f"unknown placeholder {{{name}}} in {event} (it offers {', '.join(sorted(known))})",
            )
    missing = sorted(spec.needs - {name for name, _ in used})
    if missing:
        needed = ", ".join(f"{{{name}}}" for name in missing)
        problems.add(node, f"the template of {event} must say {needed}")
    return text if len(problems.found) == before else None


def _placeholders(
    event: str, node: ScalarNode, text: str, problems: yn.Problems
) -> list[tuple[str, int]]:
    """The placeholders of `text`, each with its offset; a problem for braces that do not
    parse and for any format, conversion, index or attribute."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        problems.add(
            node,
            f"the template of {event} has unbalanced braces ({exc}): write "
            "{name} for a placeholder, {{ or }} for a brace",
        )
        return []
    used: list[tuple[str, int]] = []
    offset = 0
    for literal, field, spec, conversion in parsed:
        offset += len(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        written = "{" + field + (f"!{conversion}" if conversion else "")
        written += (f":{spec}" if spec else "") + "}"
        if not field.isidentifier() or spec or conversion:
            problems.add(
                _line(node, text, offset),
                f"placeholder {written} in {event}: write "
                "a plain name such as {amount_yuan} (no format, index or attribute)",
            )
        else:
            used.append((field, offset))
        offset += len(written)
    return used


def _line(node: ScalarNode, text: str, offset: int) -> int:
    """The line of the character at `offset` of a scalar's text (a literal block's lines are
    the file's; other styles are counted from where the value starts)."""
    first = yn.line_of(node)
    if node.style == "|":
        return first + 1 + text[:offset].count("\n")
    if node.style == ">":
        return first + 1
    return first


def _check_lengths(
    code: str,
    events: dict[str, tuple[str, Node]],
    words: dict[str, dict[str, str]],
    problems: yn.Problems,
) -> None:
    """Each template rendered with the longest values takes at most `MAX_SEGMENTS` SMS."""
    dated = {
        name: shown(name, SAMPLE_TIME if name.endswith("_time") else SAMPLE_DATE, code)
        for spec in EVENTS.values()
        for name in spec.offers
        if name.endswith(("_date", "_time"))
    }
    most = MAX_SEGMENTS[code]
    for event, (template, node) in events.items():
        worst = max(
            segment_count(template.format_map({**SAMPLE, **dated, **utility_words}))
            for utility_words in words.values()
        )
        if worst > most:
            problems.add(
                node,
                f"the template of {event} takes {worst} SMS with the longest values: "
                f"shorten it to {most}",
            )
