"""`sanbuting report`: the regulator summary of a run's output folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app, fail
from sanbuting.reports.regulator import Lang, regulator_lines


@app.command("report")
def report_command(
    out: Annotated[
        Path, typer.Argument(help="A run's output folder (holding summary.json).", file_okay=False)
    ],
    lang: Annotated[str, typer.Option(help="Language: zh or en.")] = "zh",
) -> None:
    """Print the regulator summary of a run: 人次 exempt and deferred per utility, accounts,
    provinces, waived late fees and protected arrears."""
    path = out / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from None
    language: Lang = "en" if lang.lower().startswith("en") else "zh"
    for line in regulator_lines(summary, language):
        typer.echo(line)
