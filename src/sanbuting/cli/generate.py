"""`sanbuting generate`: write a synthetic input folder (deterministic for a seed)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.domain import parse_date
from sanbuting.generate import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_START,
    GenerateRequest,
    generate,
)

HELP = (
    "Write a realistic synthetic input folder: accounts, bills, payments and usage, with a "
    "population-like region mix (Hubei and Guangdong oversampled), power, telecom and gas, "
    "tagged accounts, overdue bills and payers of every kind. The same arguments always give "
    "byte-identical files; `sanbuting validate` accepts them with no rejects."
)


class FileFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


@app.command("generate", help=HELP)
def generate_command(
    accounts: Annotated[int, typer.Option("--accounts", help="Number of accounts.", min=1)],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output folder (created if needed; files of the same name are replaced).",
            file_okay=False,
        ),
    ],
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: same seed, same files.", min=0)
    ] = DEFAULT_SEED,
    start: Annotated[
        str, typer.Option("--start", help="First day of the period, YYYY-MM-DD.")
    ] = DEFAULT_START.isoformat(),
    end: Annotated[
        str, typer.Option("--end", help="Last day of the period (inclusive), YYYY-MM-DD.")
    ] = DEFAULT_END.isoformat(),
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="File format of the tables.")
    ] = FileFormat.CSV,
) -> None:
    """Generate the folder and print a one-paragraph summary."""
    request = GenerateRequest(
        accounts=accounts,
        out=out,
        seed=seed,
        start=parse_date(start),
        end=parse_date(end),
        format="parquet" if file_format is FileFormat.PARQUET else "csv",
    )
    result = generate(request)
    typer.echo(result.summary())
