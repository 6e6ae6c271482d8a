"""SMS templates as data (`sms.templates`): the shipped files load, every outbox order kind
that reaches a customer has a template, zh-CN is simplified Chinese only, a bad file is
refused with `file:line` for every problem, and rendering puts amounts in 元, dates in Chinese
(2020年2月15日), times in Asia/Shanghai and the company's hotline into literal texts."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sanbuting.applications import catalogue
from sanbuting.applications.service import STATUS_TEXT
from sanbuting.cli import app
from sanbuting.domain import Action, Utility
from sanbuting.sms import notices
from sanbuting.sms import templates as sms
from sanbuting.sms.encoding import segment_count
from sanbuting.store.models import Company

TRADITIONAL = set(
    "電網護戶數據違約萬億氣機緩類週業試當費繳單號帳賬餘額發後時間請過證碼鐘內訴還營廳務錄詳態"
    "為於據結將變價復斷線開關條權與問題場點總計幣來這們對應該際實處區縣鄉鎮國產標準聯繫話撥認"
    "暫緊預災驗銷終辦"
)
"""Traditional-only characters (each has another simplified form: 電→电, 戶→户, 費→费, ...)."""

POWER = Company(
    code="hb-power",
    name="国网湖北省电力有限公司",
    utility="power",
    ruleset="cn-power-1996",
    group="国家电网",
)
ONE_OF_EACH = {
    "power": POWER,
    "telecom": Company(
        code="hb-tel", name="中国移动湖北分公司", utility="telecom", ruleset="cn-telecom-2016",
        group="中国移动",
    ),
    "gas": Company(
        code="wh-gas", name="武汉华润燃气有限公司", utility="gas", ruleset="cn-gas-default",
        group="华润燃气", hotline="027-85778577",
    ),
}  # fmt: skip
VALUES: dict[str, sms.Value] = {
    "account": "0042",
    "amount_yuan": 12345,
    "balance_yuan": 1250,
    "threshold_yuan": 3000,
    "due_date": date(2020, 2, 15),
    "cutoff_date": date(2020, 2, 23),
    "action_date": date(2020, 2, 23),
    "end_date": date(2020, 3, 31),
    "promise_date": date(2020, 3, 1),
    "promised_time": datetime(2020, 3, 10, 14, 0, tzinfo=UTC),
    "restore_hours": 12,
    "part": 2,
    "parts": 6,
    "number": "SQ20200203000001",
    "business": "故障报修",
    "status": "办理中",
    "code": "123456",
    "minutes": 10,
    "text": "今晚有大风，请注意用电安全。",
}


def values_for(event: str) -> dict[str, sms.Value]:
    return {name: VALUES[name] for name in sms.EVENTS[event].offers}


def test_the_shipped_templates_load_in_both_languages() -> None:
    loaded = sms.shipped()
    assert set(loaded.languages) == {"zh-CN", "en"}
    for language in loaded.languages.values():
        assert set(language.events) == set(sms.EVENTS)
        assert set(language.words) == {u.value for u in Utility}
    assert sms.check(sms.HERE) == []


def test_every_order_kind_that_reaches_a_customer_has_a_template() -> None:
    assert set(notices.EVENT_OF) == {action.value for action in Action}
    assert set(notices.EVENT_OF.values()) <= set(sms.EVENTS)
    wired = {*notices.EVENT_OF.values(), "application_state", "ticket_state", "sign_in_code"}
    assert wired | {"broadcast", "promise_reminder", "instalment_reminder"} == set(sms.EVENTS)


def test_zh_cn_is_simplified_chinese_only() -> None:
    text = (sms.HERE / "zh-CN.yaml").read_text(encoding="utf-8")
    assert not TRADITIONAL & set(text)
    for utility, company in ONE_OF_EACH.items():
        for event in sms.EVENTS:
            shown = sms.shipped().render(
                event, language="zh-CN", company=company, values=values_for(event)
            )
            assert not TRADITIONAL & set(shown), (utility, event, shown)


def test_rendering_in_chinese_literal() -> None:
    def zh(event: str, company: Company = POWER) -> str:
        return sms.shipped().render(
            event, language="zh-CN", company=company, values=values_for(event)
        )

    assert zh("notice") == (
        "【国网湖北省电力有限公司】停电通知：您尾号0042的户号欠费123.45元，经催交仍未缴清，"
        "最早将于2020年2月23日停电。请尽快缴费（网上国网App、微信、支付宝或营业厅），"
        "缴清即不停电。客服95598"
    )
    assert zh("reconnect") == (  # 14:00 UTC is 22:00 in Shanghai
        "【国网湖北省电力有限公司】您尾号0042的户号已缴清欠费，我们将于2020年3月10日22:00前"
        "恢复供电。客服95598"
    )
    assert zh("suspend", ONE_OF_EACH["telecom"]) == (
        "【中国移动湖北分公司】您尾号0042的户号因欠费123.45元，已于2020年2月23日停机。"
        "缴清欠费后12小时内恢复通信服务（运营商App、网上营业厅或营业厅）。客服10086"
    )
    assert zh("low_balance", ONE_OF_EACH["gas"]) == (
        "【武汉华润燃气有限公司】您尾号0042的户号余额12.50元，已低于30.00元，请及时充值"
        "（网上营业厅、微信、支付宝或营业厅，IC卡表请到自助终端圈存），以免停气。"
        "客服027-85778577"
    )
    assert zh("sign_in_code") == "您的登录验证码是123456，10分钟内有效，请勿告诉他人。"
    assert zh("broadcast") == (
        "【国网湖北省电力有限公司】今晚有大风，请注意用电安全。（公益短信，客服95598）"
    )


def test_rendering_in_english_literal() -> None:
    shown = sms.shipped().render(
        "reconnect", language="en", company=POWER, values=values_for("reconnect")
    )
    assert shown == (
        "[国网湖北省电力有限公司] Account ending 0042 is paid up: power will be back by "
        "22:00, 10 Mar 2020. Hotline 95598"
    )


@pytest.mark.parametrize(
    ("name", "value", "language", "expected"),
    [
        ("amount_yuan", 12345, "zh-CN", "123.45"),
        ("amount_yuan", 5, "zh-CN", "0.05"),
        ("balance_yuan", -250, "zh-CN", "-2.50"),
        ("due_date", date(2020, 2, 15), "zh-CN", "2020年2月15日"),
        ("due_date", date(2020, 12, 1), "en", "1 Dec 2020"),
        ("promised_time", datetime(2020, 1, 31, 16, 5, tzinfo=UTC), "zh-CN", "2020年2月1日00:05"),
        ("promised_time", datetime(2020, 1, 31, 16, 5, tzinfo=UTC), "en", "00:05, 1 Feb 2020"),
        ("part", 3, "zh-CN", "3"),
    ],
)
def test_values_as_shown(name: str, value: sms.Value, language: str, expected: str) -> None:
    assert sms.shown(name, value, language) == expected


def test_values_of_the_wrong_type_or_set_are_refused() -> None:
    with pytest.raises(ValueError, match="integer fen"):
        sms.shown("amount_yuan", "123.45", "zh-CN")
    with pytest.raises(ValueError, match="aware"):
        sms.shown("promised_time", datetime(2020, 1, 1, 12), "zh-CN")
    with pytest.raises(ValueError, match="takes"):
        sms.shipped().render("notice", language="zh-CN", company=POWER, values={"account": "1"})


@pytest.mark.parametrize(
    ("group", "utility", "own", "expected"),
    [
        ("国家电网", "power", None, "95598"),
        ("南方电网", "power", None, "95598"),
        ("中国电信", "telecom", None, "10000"),
        ("中国移动", "telecom", None, "10086"),
        ("中国联通", "telecom", None, "10010"),
        (None, "telecom", None, "10000"),
        ("华润燃气", "gas", None, "12319"),
        ("华润燃气", "gas", "96777", "96777"),
    ],
)
def test_the_hotline_of_a_company(
    group: str | None, utility: str, own: str | None, expected: str
) -> None:
    company = Company(code="c", name="c", utility=utility, ruleset="r", group=group, hotline=own)
    assert sms.hotline_of(company) == expected


def test_business_names_and_statuses_keep_application_messages_short() -> None:
    longest = max((b.zh for b in catalogue.catalogue()), key=len)
    status = max((zh for zh, _ in STATUS_TEXT.values()), key=len)
    for event in ("application_state", "ticket_state"):
        shown = sms.shipped().render(
            event,
            language="zh-CN",
            company=POWER,
            values={"number": "SQ20200203000001", "business": longest, "status": status},
        )
        assert segment_count(shown) <= sms.MAX_SEGMENTS["zh-CN"], shown


# ---- a bad file is refused with file:line ----------------------------------------------------


def copy_with(tmp_path: Path, language: str, old: str, new: str) -> Path:
    """The shipped templates in `tmp_path`, with `old` replaced by `new` in one file."""
    folder = tmp_path / "templates"
    shutil.copytree(sms.HERE, folder)
    path = folder / f"{language}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def template_line(language: str, event: str) -> str:
    """The shipped line of `event`'s template."""
    lines = (sms.HERE / f"{language}.yaml").read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if line.startswith(f"  {event}:"))


def line_of(language: str, needle: str) -> int:
    lines = (sms.HERE / f"{language}.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_an_unknown_placeholder_is_refused_with_file_and_line(tmp_path: Path) -> None:
    folder = copy_with(tmp_path, "zh-CN", "现应缴{amount_yuan}元", "现应缴{amout_yuan}元")
    line = line_of("zh-CN", "  remind:")
    with pytest.raises(sms.TemplateError) as refused:
        sms.load(folder)
    assert refused.value.problems[0].startswith(
        f"zh-CN.yaml:{line}: unknown placeholder {{amout_yuan}} in remind (it offers account, "
    )
    # it also no longer says the amount, which a reminder must
    assert refused.value.problems[1] == (
        f"zh-CN.yaml:{line}: the template of remind must say {{amount_yuan}}"
    )
    assert f"zh-CN.yaml:{line}:" in str(refused.value)


def test_a_placeholder_on_a_later_line_of_a_block_is_found_there(tmp_path: Path) -> None:
    block = (
        "  reconnect: |-\n    【{company_name}】尾号{account}\n"
        "    {supply}将于{promised_tme}恢复，客服{hotline}"
    )
    folder = copy_with(tmp_path, "zh-CN", template_line("zh-CN", "reconnect"), block)
    line = line_of("zh-CN", "  reconnect:")
    problems = sms.check(folder)
    assert any(
        p.startswith(f"zh-CN.yaml:{line + 2}: unknown placeholder {{promised_tme}}")
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  terminate: ", "  terminat: ", "unknown event 'terminat' (known: remind, notice,"),
        ("sign_in_code", "a list", "the template of sign_in_code must be a single value"),
        ("{code}，", "{code:>8}，", "placeholder {code:>8} in sign_in_code: write a plain name"),
        ("{code}，", "{code!r}，", "placeholder {code!r} in sign_in_code: write a plain name"),
        ("{code}，", "{code[0]}，", "placeholder {code[0]} in sign_in_code: write a plain name"),
        ("{code}，", "{code，", "the template of sign_in_code has unbalanced braces"),
        ("{code}，", "验证码，", "the template of sign_in_code must say {code}"),
        ("language: zh-CN", "language: zh-TW", "language is 'zh-TW' in zh-CN.yaml"),
        ("    cut: 停电\n", "", "utilities.power has no 'cut'"),
        ("    cut: 停电", "    cut: 停{x}电", "'停{x}电' has braces: words are not templates"),
        ("language: zh-CN", "language: zh-CN\nextra: 1", "unknown key 'extra' in the file"),
        ("language: zh-CN", "language: !!python/object:os.system zh-CN", "YAML tag"),
        ("events:", "events: [", "not valid YAML"),
    ],
)
def test_malformed_entries_are_refused_with_their_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    if new == "a list":
        old = template_line("zh-CN", "sign_in_code")
        new = old.replace(': "', ': ["', 1) + "]"
    folder = copy_with(tmp_path, "zh-CN", old, new)
    problems = sms.check(folder)
    assert problems, expected
    assert any(expected in problem for problem in problems), problems
    assert all(p.startswith("zh-CN.yaml:") for p in problems), problems
    number = int(problems[0].split(":")[1])
    assert number >= 1


def test_a_missing_event_or_file_is_refused(tmp_path: Path) -> None:
    folder = copy_with(tmp_path, "en", template_line("en", "broadcast") + "\n", "")
    assert sms.check(folder) == [
        f"en.yaml:{line_of('en', 'events:')}: events has no template for 'broadcast' "
        "(every event needs one)"
    ]
    (folder / "zh-CN.yaml").unlink()
    assert sms.check(folder)[0].startswith("zh-CN.yaml:1: missing: every set of templates has")


def test_a_message_too_long_for_an_sms_is_refused(tmp_path: Path) -> None:
    long = "请注意" * 40
    folder = copy_with(tmp_path, "zh-CN", "请勿告诉他人。", long)
    line = line_of("zh-CN", "  sign_in_code:")
    assert sms.check(folder) == [
        f"zh-CN.yaml:{line}: the template of sign_in_code takes 3 SMS with the longest "
        "values: shorten it to 2"
    ]


def test_a_file_too_large_or_too_deep_is_refused(tmp_path: Path) -> None:
    folder = copy_with(tmp_path, "zh-CN", "language: zh-CN", "language: zh-CN\n#" + "x" * 70_000)
    size = (folder / "zh-CN.yaml").stat().st_size
    assert sms.check(folder) == [
        f"zh-CN.yaml:1: the file has {size:,} bytes; a template file has at most 65,536"
    ]
    deep = "language: zh-CN\nextra: " + "[" * 200 + "]" * 200
    folder = copy_with(tmp_path / "deep", "zh-CN", "language: zh-CN", deep)
    line = line_of("zh-CN", "language: zh-CN") + 1
    problems = sms.check(folder)
    assert len(problems) == 1 and problems[0].startswith(f"zh-CN.yaml:{line}: lists and ")
    assert "nest more than 20 deep" in problems[0]


def test_a_deployments_own_folder_is_used_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_with(tmp_path, "zh-CN", "您的登录验证码是", "【测试】验证码")
    monkeypatch.setenv(sms.TEMPLATES_VARIABLE, str(folder))
    shown = sms.configured().render(
        "sign_in_code", language="zh-CN", company=POWER, values={"code": "654321", "minutes": 5}
    )
    assert shown == "【测试】验证码654321，5分钟内有效，请勿告诉他人。"
    bad = copy_with(tmp_path / "bad", "zh-CN", "{code}，", "{cod}，")
    with pytest.raises(sms.TemplateError, match=r"zh-CN\.yaml:\d+: unknown placeholder \{cod\}"):
        sms.configured(str(bad))


def test_the_templates_command(tmp_path: Path) -> None:
    runner = CliRunner()
    fine = runner.invoke(app, ["sms", "templates"])
    assert fine.exit_code == 0 and "are fine" in fine.output
    folder = copy_with(tmp_path, "zh-CN", "现应缴{amount_yuan}元", "现应缴{amout_yuan}元")
    refused = runner.invoke(app, ["sms", "templates", str(folder)])
    line = line_of("zh-CN", "  remind:")
    assert refused.exit_code == 1
    assert f"zh-CN.yaml:{line}: unknown placeholder {{amout_yuan}} in remind" in refused.output
