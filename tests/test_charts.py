"""Charts drawn on the server (`reports.charts`, `reports.svg`, `reports.run_frames`): each
chart is an SVG with its labels in simplified Chinese (or English), no URL but the SVG
namespace, no script or style attribute (the console's Content-Security-Policy), the same bytes
for the same frame (in another process and time zone too), and the frames of a run's output
folder counted as the contract counts them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from sanbuting.reports import charts
from sanbuting.reports.run_frames import (
    ALL,
    RUN_CHARTS,
    captioned,
    frames_from_run,
    run_charts,
    write_svgs,
)
from sanbuting.reports.svg import SVG_NAMESPACE, ChartError, clean, defuse, external_urls
from sanbuting.runner import RunRequest, run

SCENARIO = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
DAY = date(2020, 1, 24)
BY_DAY = pl.DataFrame(
    {
        "day": [DAY, DAY, DAY + timedelta(days=1), DAY + timedelta(days=3)],
        "utility": ["power", "telecom", "power", "gas"],
        "accounts": [3, 5, 2, 1],
    }
)
BY_WEEK = pl.DataFrame(
    {
        "week": ["2020-W04", "2020-W05", "2020-W05", "2020-W06"],
        "utility": ["power", "power", "telecom", "telecom"],
        "kind": ["exempt", "exempt", "defer", "defer"],
        "count": [3, 5, 2, 7],
    }
)
PROVINCES = pl.DataFrame({"province": ["湖北省", "广东省", "内蒙古自治区"], "count": [120, 80, 80]})
WHATIF = pl.DataFrame(
    {
        "day": [DAY + timedelta(days=n) for n in range(5)] * 2,
        "scenario": ["before"] * 5 + ["after"] * 5,
        "count": [0, 2, 3, 1, 4, 0, 0, 1, 0, 2],
    }
)
WORKLIST = pl.DataFrame({"view": ["mine", "all"], "count": [3, 12]})
TRADITIONAL = set("電網護戶數據違約萬億氣機緩類週業試當")
"""Traditional forms of characters the charts use: zh-CN output must have none."""


def texts(svg: str) -> list[str]:
    """The words an SVG shows."""
    return [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t]


def assert_inline_safe(svg: str) -> None:
    assert svg.startswith("<svg")
    assert external_urls(svg) == []
    assert re.findall(r"https?://[^\s\"'<>]*", svg) == [SVG_NAMESPACE]
    for forbidden in ("<script", "style=", "<style", "<foreignObject", "@import", "url("):
        assert forbidden not in svg


@pytest.mark.parametrize(
    ("draw", "frame", "words"),
    [
        (
            charts.protected_by_day,
            BY_DAY,
            ["每日受保护户数（当日有保护事件的户）", "受保护户数", "日期", "电网", "电信", "燃气"],
        ),
        (
            charts.people_times_by_week,
            BY_WEEK,
            ["每周免停、缓停人次", "保护人次", "免停", "缓停", "电网", "电信", "2020-W05"],
        ),
        (charts.by_province, PROVINCES, ["各省受保护户数", "湖北省", "内蒙古自治区", "120"]),
        (
            charts.whatif_by_day,
            WHATIF,
            ["现行政策", "上传的政策", "停电/停机/销户次数", "日期"],
        ),
        (charts.worklist_counts, WORKLIST, ["我的待办工单（未办结）", "我的工单", "全部未办结"]),
    ],
)
def test_each_chart_is_an_svg_in_simplified_chinese_with_no_url(
    draw: charts.Chart, frame: pl.DataFrame, words: list[str]
) -> None:
    svg = draw(frame, "zh")
    assert_inline_safe(svg)
    shown = " ".join(texts(svg))
    for word in words:
        assert word in shown or f'aria-label="{word}"' in svg, word
    assert not TRADITIONAL & set(svg)
    assert svg == draw(frame, "zh"), "the same frame gives the same bytes"


def test_english_labels_and_day_axis() -> None:
    svg = charts.protected_by_day(BY_DAY, "en")
    shown = texts(svg)
    assert "protected accounts" in shown
    assert {"Power", "Telecom", "Gas"} <= set(shown)
    assert any(t.startswith("Jan 2") for t in shown)
    zh = texts(charts.protected_by_day(BY_DAY, "zh"))
    assert "1月24日" in zh or "1月25日" in zh
    assert_inline_safe(charts.whatif_by_day(WHATIF, "en", measure="events"))
    assert "protection events" in texts(charts.whatif_by_day(WHATIF, "en", measure="events"))


def test_weeks_may_be_given_as_days_and_provinces_sorted_largest_first() -> None:
    as_days = BY_WEEK.with_columns(
        pl.col("week")
        .replace({"2020-W04": "2020-01-20", "2020-W05": "2020-01-29", "2020-W06": "2020-02-03"})
        .str.to_date()
    )
    assert charts.people_times_by_week(as_days, "zh") == charts.people_times_by_week(BY_WEEK, "zh")
    shown = texts(charts.by_province(PROVINCES, "zh"))
    names = [t for t in shown if t in {"湖北省", "广东省", "内蒙古自治区"}]
    assert names == ["湖北省", "内蒙古自治区", "广东省"]  # 80 and 80: by name
    top = texts(charts.by_province(PROVINCES, "zh", top=1))
    assert "湖北省" in top and "广东省" not in top


def test_an_empty_frame_says_so_and_a_missing_column_is_a_clear_error() -> None:
    svg = charts.protected_by_day(BY_DAY.clear(), "zh")
    assert "暂无数据" in texts(svg)
    assert_inline_safe(svg)
    with pytest.raises(ChartError, match="accounts"):
        charts.protected_by_day(BY_DAY.drop("accounts"), "zh")


def test_an_address_in_a_label_is_shown_never_linked() -> None:
    frame = pl.DataFrame({"province": ["http://example.com/x", "湖北省"], "count": [2, 1]})
    svg = charts.by_province(frame, "zh")
    assert_inline_safe(svg)
    assert "http：//example.com/x" in texts(svg)
    assert defuse("see https://a.b and data:x") == "see https：//a.b and data：x"


def test_clean_refuses_script_and_makes_ids_unique() -> None:
    with pytest.raises(ChartError):
        clean('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    with pytest.raises(ChartError):
        clean('<svg xmlns="http://www.w3.org/2000/svg"><rect onload="x()"/></svg>')
    with pytest.raises(ChartError):
        clean("<html></html>")
    words = clean('<svg xmlns="http://www.w3.org/2000/svg"><text>a onload=b style=c</text></svg>')
    assert "a onload=b style=c" in words  # words, not attributes
    one = clean(
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><clipPath id="clip1"/>'
        '<g clip-path="url(#clip1)"/></svg>',
        "甲",
    )
    prefix = re.findall(r'id="([^"]+)-clip1"', one)
    assert prefix and f"url(#{prefix[0]}-clip1)" in one
    assert one.startswith('<svg role="img" aria-label="甲"')


def test_the_same_bytes_in_another_process_and_time_zone() -> None:
    program = (
        "import sys, polars as pl; from datetime import date; "
        "from sanbuting.reports.charts import protected_by_day; "
        "frame = pl.DataFrame({'day': [date(2020, 1, 24), date(2020, 1, 27)], "
        "'utility': ['power', 'telecom'], 'accounts': [3, 4]}); "
        "sys.stdout.write(protected_by_day(frame, 'zh'))"
    )
    here = charts.protected_by_day(
        pl.DataFrame(
            {
                "day": [date(2020, 1, 24), date(2020, 1, 27)],
                "utility": ["power", "telecom"],
                "accounts": [3, 4],
            }
        ),
        "zh",
    )
    for zone in ("America/Los_Angeles", "Asia/Shanghai"):
        there = subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            check=True,
            env=os.environ | {"TZ": zone},
            timeout=120,
        ).stdout.decode("utf-8")
        assert there == here, zone


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The p2 scenario run by the engine: Y1 exempt on 02-20 and deferred on 03-01, Y2
    deferred on 02-20, both telecom accounts in Wuhan (42)."""
    scenario = SCENARIO / "p2-telecom-exempt-then-defer"
    out = tmp_path_factory.mktemp("p2")
    run(
        RunRequest(
            data=scenario,
            policy_files=[scenario / "policies.yaml"],
            start=date(2020, 1, 1),
            end=date(2020, 3, 31),
            out=out,
            engine="reference",
        )
    )
    return out


def test_the_frames_of_a_run_count_as_the_contract_does(run_out: Path) -> None:
    scenario = SCENARIO / "p2-telecom-exempt-then-defer"
    frames = frames_from_run(run_out, scenario)
    assert frames.protected_by_day.rows() == [
        (date(2020, 2, 20), "telecom", 2),
        (date(2020, 3, 1), "telecom", 1),
    ]
    assert frames.people_times_by_week.rows() == [
        ("2020-W08", "telecom", "defer", 1),
        ("2020-W08", "telecom", "exempt", 1),
        ("2020-W09", "telecom", "defer", 1),
    ]
    assert frames.by_province.rows() == [("湖北省", 2)]
    summary = json.loads((run_out / "summary.json").read_text(encoding="utf-8"))
    assert frames.people_times_by_week["count"].sum() == sum(
        sum(kinds.values()) for kinds in summary["protection_events"].values()
    )
    # without the input folder, the only utility with protected accounts is named
    assert frames_from_run(run_out).protected_by_day["utility"].unique().to_list() == ["telecom"]


def test_without_inputs_several_utilities_are_one(tmp_path: Path) -> None:
    (tmp_path / "protections.csv").write_text(
        "date,account_id,policy_id,kind,prevented_action,deferred_to\n"
        "2020-01-24,A,p,exempt,disconnect,\n"
        "2020-01-24,A,p,exempt,notice,\n"
        "2020-01-24,B,q,defer,suspend,2020-02-23\n"
        "2020-01-25,C,h,hold,suspend,\n",
        encoding="utf-8",
    )
    (tmp_path / "summary.json").write_text(
        json.dumps(
            {
                "by_utility": {
                    "power": {"protected_accounts": 1},
                    "telecom": {"protected_accounts": 1},
                },
                "by_province": {},
            }
        ),
        encoding="utf-8",
    )
    frames = frames_from_run(tmp_path)
    assert frames.protected_by_day.rows() == [(DAY, ALL, 2)]  # the hold is not a policy's
    assert "全部行业" in texts(charts.protected_by_day(frames.protected_by_day, "zh"))


def test_run_charts_are_three_clean_svgs_for_a_page_or_files(run_out: Path, tmp_path: Path) -> None:
    drawn = run_charts(run_out, "zh", SCENARIO / "p2-telecom-exempt-then-defer")
    assert list(drawn) == list(RUN_CHARTS)
    for svg in drawn.values():
        assert_inline_safe(svg)
    assert "湖北省" in texts(drawn["by_province"])
    assert list(captioned(drawn, "zh")) == [
        "每日受保护户数（当日有保护事件的户）",
        "每周免停、缓停人次",
        "各省受保护户数",
    ]
    paths = write_svgs(tmp_path / "charts", drawn)
    assert [p.name for p in paths] == [f"{name}.svg" for name in RUN_CHARTS]
    assert paths[2].read_text(encoding="utf-8") == drawn["by_province"] + "\n"
