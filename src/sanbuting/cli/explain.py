"""`sanbuting explain`: one account's story, day by day, as a customer-service agent would tell
it (zh-CN by default, English with `--lang en`)."""

from __future__ import annotations

from typing import Annotated

import typer

from sanbuting.cli.app import app, fail
from sanbuting.cli.run import (
    DataOption,
    EndOption,
    PoliciesOption,
    RulesetOption,
    StartOption,
    ruleset_overrides,
)
from sanbuting.domain import parse_date
from sanbuting.errors import PolicyError, SanbutingError
from sanbuting.explain import ExplainRequest, Lang, explain

LANGS: tuple[Lang, ...] = ("zh", "en")


@app.command("explain")
def explain_command(
    data: DataOption,
    policies: PoliciesOption,
    account: Annotated[str, typer.Option("--account", help="The account id (户号) to explain.")],
    start: StartOption,
    end: EndOption,
    lang: Annotated[
        str, typer.Option("--lang", help="Language: zh (简体中文, the default) or en.")
    ] = "zh",
    ruleset: RulesetOption = None,
) -> None:
    """Tell one account's story from --start through --end: its bills, payments, balance,
    each step taken or prevented and which policy prevented it, and its late fees. Rejected
    input rows are left out with a warning."""
    language = next((choice for choice in LANGS if choice == lang.lower()), None)
    try:
        if language is None:
            raise SanbutingError(f"--lang {lang!r}: use zh or en")
        request = ExplainRequest(
            data=data,
            policy_files=policies,
            account_id=account,
            start=parse_date(start),
            end=parse_date(end),
            lang=language,
            rulesets=ruleset_overrides(ruleset),
        )
        explanation = explain(request)
    except PolicyError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    except SanbutingError as exc:
        first, *_ = str(exc).splitlines() or ["unknown error"]
        raise fail(first) from None
    if explanation.rejects:
        typer.echo(
            f"warning: {explanation.rejects} input rows rejected and left out "
            f"(see `sanbuting validate --data {data}`)",
            err=True,
        )
    typer.echo(explanation.text, nl=False)
