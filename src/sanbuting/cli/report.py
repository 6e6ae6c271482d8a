"""`sanbuting report`: the regulator summary of a run's output folder and, given the run's
inputs and policies, its roll-up per group, company, province, utility, week and payment
channel, as text, an Excel workbook and one self-contained HTML page (docs/reports.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app, fail
from sanbuting.cli.inputs import EncodingOption
from sanbuting.cli.run import RulesetOption, ruleset_overrides
from sanbuting.domain import parse_date
from sanbuting.io.encodings import encoding_named
from sanbuting.policy import load_policies
from sanbuting.reports.labels import Lang
from sanbuting.reports.regulator import regulator_lines
from sanbuting.reports.rollup import BY_CHOICES, By, RollupRequest, read_summary, rollup
from sanbuting.reports.rollup_view import text_lines
from sanbuting.reports.workbook import write_workbook


@app.command("report")
def report_command(
    out: Annotated[
        Path, typer.Argument(help="A run's output folder (holding summary.json).", file_okay=False)
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="The run's input folder: needed for the roll-up tables (checked by hash "
            "against summary.json). A companies.csv there names companies and groups.",
            file_okay=False,
        ),
    ] = None,
    policies: Annotated[
        list[Path] | None,
        typer.Option(
            "--policies",
            help="The run's relief policy files (with --data; the protected accounts are run "
            "again to split their account-days by day).",
            dir_okay=False,
        ),
    ] = None,
    ruleset: RulesetOption = None,
    encoding: EncodingOption = "utf-8",
    companies: Annotated[
        Path | None,
        typer.Option(
            "--companies",
            help="A companies file (company,name,group,utility,region); default: "
            "companies.csv in --data when there is one.",
            dir_okay=False,
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="A table to show: group, company, province, utility, week or channel; "
            "repeat for several (default: all).",
        ),
    ] = None,
    from_day: Annotated[
        str | None, typer.Option("--from", help="First day counted (default: the run's start).")
    ] = None,
    to_day: Annotated[
        str | None, typer.Option("--to", help="Last day counted (default: the run's end).")
    ] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option("--xlsx", help="Write the tables to this Excel workbook.", dir_okay=False),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write one self-contained HTML page (charts and tables).", dir_okay=False
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language: zh or en.")] = "zh",
) -> None:
    """Print the regulator summary of a run: 人次 exempt and deferred per utility, accounts,
    provinces, waived late fees and protected arrears; with --data and --policies, the roll-up
    per group, company, province (all 31, by name), utility, week and payment channel."""
    language: Lang = "en" if lang.lower().startswith("en") else "zh"
    chosen = _chosen(by)
    tables_asked = by or from_day or to_day or xlsx or html
    if data is None:
        if tables_asked:
            raise fail("the roll-up tables read the run's inputs: give --data DIR --policies FILE")
        summary = read_summary(out)
        for line in regulator_lines(summary, language):
            typer.echo(line)
        return
    if not policies:
        raise fail("the roll-up runs the protected accounts again: give the run's --policies")
    request = RollupRequest(
        out=out,
        data=data,
        policy_files=tuple(policies),
        rulesets=ruleset_overrides(ruleset),
        encoding=encoding_named(encoding),
        companies=companies,
    )
    result = rollup(
        request,
        by=chosen,
        from_day=parse_date(from_day) if from_day else None,
        to_day=parse_date(to_day) if to_day else None,
        lang=language,
    )
    titles = {p.id: p.title for p in load_policies(list(policies)) if p.title}
    for line in regulator_lines(read_summary(out), language, titles=titles):
        typer.echo(line)
    typer.echo("")
    for line in text_lines(result):
        typer.echo(line)
    if xlsx is not None:
        write_workbook(result, xlsx)
        typer.echo(f"{'已写入' if language == 'zh' else 'wrote'} {xlsx}")
    if html is not None:
        from sanbuting.reports.rollup_page import rollup_html  # noqa: PLC0415 (altair: 1 s)

        html.write_text(rollup_html(result), encoding="utf-8")
        typer.echo(f"{'已写入' if language == 'zh' else 'wrote'} {html}")


def _chosen(by: list[str] | None) -> tuple[By, ...]:
    if not by:
        return BY_CHOICES
    chosen: list[By] = []
    for item in by:
        found = next((choice for choice in BY_CHOICES if choice == item.strip().lower()), None)
        if found is None:
            raise fail(f"--by {item!r}: use one of {', '.join(BY_CHOICES)}")
        if found not in chosen:
            chosen.append(found)
    return tuple(chosen)
