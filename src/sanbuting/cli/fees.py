"""`sanbuting fee`: one bill's late fee with its day-range breakdown."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.domain import BillingMode, CustomerClass, parse_date, parse_period, parse_yuan
from sanbuting.fees import compute_late_fee, rates_for
from sanbuting.fees.explain import FeeQuestion, Lang, as_json, describe
from sanbuting.policy import load_policies
from sanbuting.policy.model import AccountFacts, WaiverPolicy
from sanbuting.policy.select import waivers_for_bill
from sanbuting.regions import require_district
from sanbuting.rules import load_ruleset


def _matching_waivers(
    policy_files: list[Path], facts: AccountFacts, issued_on: date, period: str
) -> list[WaiverPolicy]:
    return waivers_for_bill(load_policies(policy_files), facts, issued_on=issued_on, period=period)


@app.command("fee")
def fee_command(
    ruleset: Annotated[
        str,
        typer.Option(
            help="Ruleset name (cn-power-1996, cn-telecom-2016, "
            "cn-gas-default) or the path of a ruleset .yaml file."
        ),
    ],
    customer_class: Annotated[CustomerClass, typer.Option("--class", help="Customer class.")],
    amount: Annotated[str, typer.Option(help="The bill's amount in yuan, e.g. 2000 or 12.30.")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    paid: Annotated[str, typer.Option(help="Day the bill was paid in full, YYYY-MM-DD.")],
    issued: Annotated[
        str | None,
        typer.Option(help="Issue date (default: the due date); waivers by issue month read it."),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="Billing period YYYY-MM (default: the issue month); waivers by period read it."
        ),
    ] = None,
    policies: Annotated[
        list[Path] | None, typer.Option(help="Relief policy file(s) whose late-fee waivers apply.")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="The account's 6-digit GB/T 2260 region, for policy scopes.")
    ] = None,
    tags: Annotated[str, typer.Option(help="The account's tags, ';'-separated.")] = "",
    billing_mode: Annotated[
        BillingMode, typer.Option(help="Billing mode, for policy scopes.")
    ] = BillingMode.POSTPAID,
    as_json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    lang: Annotated[str, typer.Option(help="Language of the explanation: zh or en.")] = "zh",
) -> None:
    """Print one bill's late fee (違約金) with its day-by-day breakdown: the rate per day range,
    waived ranges, the rounding and the minimum."""
    rules = load_ruleset(ruleset)
    amount_fen = parse_yuan(amount)
    due_on, paid_on = parse_date(due), parse_date(paid)
    issued_on = parse_date(issued) if issued else due_on
    bill_period = parse_period(period) if period else f"{issued_on:%Y-%m}"
    waivers: list[WaiverPolicy] = []
    if policies:
        if region is None:
            raise typer.BadParameter("--region is needed to match policies", param_hint="--region")
        facts = AccountFacts(
            utility=rules.utility,
            region=require_district(region).code,
            customer_class=customer_class,
            billing_mode=billing_mode,
            tags=frozenset(t.strip() for t in tags.split(";") if t.strip()),
        )
        waivers = _matching_waivers(policies, facts, issued_on, bill_period)
    fee = compute_late_fee(
        amount_fen=amount_fen,
        due_on=due_on,
        through=paid_on,
        rates=rates_for(rules, customer_class),
        principal_payments=[(paid_on, amount_fen)],
        waivers=[w.window for w in waivers],
    )
    question = FeeQuestion(rules.name, customer_class, amount_fen, due_on, paid_on)
    if as_json_output:
        typer.echo(json.dumps(as_json(question, fee, waivers), ensure_ascii=False, sort_keys=True))
        return
    language: Lang = "en" if lang.lower().startswith("en") else "zh"
    for line in describe(question, fee, waivers, language):
        typer.echo(line)
