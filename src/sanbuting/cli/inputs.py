"""`sanbuting validate`: check an input folder against the contract and write `rejects.csv`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.domain import mask_phone
from sanbuting.io.contract import TABLES
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import REJECTS_FILE, Reject, write_rejects

SHOWN_REJECTS = 20

EncodingOption = Annotated[
    str,
    typer.Option(
        "--encoding",
        help="The text encoding of the CSV files: utf-8 (the default; a byte-order mark is "
        "fine) or, for the exports of billing systems that write it, gbk or gb18030. A file "
        "that is not text of this encoding is refused, naming its first bad line.",
    ),
]

HELP = (
    "Check an input folder against the contract and write every refused row to rejects.csv. "
    "Prints, per file, the rows read, loaded and rejected, then the first rejects as "
    "file:line: column=value: reason; columns the contract does not have are named in a "
    "warning (stderr) and ignored. Exits 0 only when nothing was rejected, 1 otherwise; "
    "a file that cannot be read at all is a one-line error."
)


@app.command("validate", help=HELP)
def validate(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="The input folder: accounts and bills (required), payments and usage "
            "(optional), each as NAME.csv or NAME.parquet.",
            file_okay=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write rejects.csv to (created if needed; default: the current folder).",
            file_okay=False,
        ),
    ] = Path(),
    encoding: EncodingOption = "utf-8",
) -> None:
    """Read `data`, write `out/rejects.csv`, print a summary; exit 1 when anything was
    rejected (an `InputFileError` propagates to the CLI edge)."""
    inputs = read_inputs(data, encoding=encoding)
    echo_warnings(inputs.warnings)
    out.mkdir(parents=True, exist_ok=True)
    target = out / REJECTS_FILE
    write_rejects(target, inputs.rejects)
    for line in summary_lines(inputs):
        typer.echo(line)
    typer.echo(f"{len(inputs.rejects)} rejects written to {target}")
    if inputs.rejects:
        raise typer.Exit(1)


def echo_warnings(warnings: tuple[str, ...]) -> None:
    """Print each warning of a read (e.g. an ignored column) on stderr, once."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def summary_lines(inputs: Inputs) -> list[str]:
    """Per file: rows read, loaded, rejected (and ignored repeats); then the first rejects."""
    lines: list[str] = []
    for spec in TABLES:
        file = next((name for name in inputs.files if name.rsplit(".", 1)[0] == spec.name), None)
        if file is None:
            lines.append(f"{spec.name}: no file (optional)")
            continue
        read = inputs.rows_read[file]
        loaded = inputs.loaded(spec.name)
        ignored = inputs.duplicate_payments_ignored if spec.name == "payments" else 0
        text = f"{file}: {read} rows read, {loaded} loaded, {read - loaded - ignored} rejected"
        if ignored:
            noun = "payment" if ignored == 1 else "payments"
            text += f", {ignored} repeated {noun} ignored (same payment_id and content)"
        lines.append(text)
    if inputs.rejects:
        shown = inputs.rejects[:SHOWN_REJECTS]
        more = len(inputs.rejects) - len(shown)
        lines.append(
            f"first {len(shown)} of {len(inputs.rejects)} rejects:" if more else "rejects:"
        )
        lines.extend(f"  {format_reject(reject)}" for reject in shown)
    return lines


def format_reject(reject: Reject) -> str:
    """`file:line: column=value: reason`, with a phone number masked (`file:line: reason` for
    a reject of a whole row)."""
    if not reject.column:
        return f"{reject.file}:{reject.line}: {reject.reason}"
    value = mask_phone(reject.value) if reject.column == "phone" else reject.value
    shown = value if value else '""'
    return f"{reject.file}:{reject.line}: {reject.column}={shown}: {reject.reason}"
