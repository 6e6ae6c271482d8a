"""The Typer application every command module registers on, and the one-line error edge."""

from __future__ import annotations

import sys

import typer

from sanbuting import __version__
from sanbuting.errors import PolicyError, SanbutingError

app = typer.Typer(
    name="sanbuting",
    help="三不停 sanbuting: arrears collection and relief policies for power, telecom and gas.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"sanbuting {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=version_callback
    ),
) -> None:
    """三不停 sanbuting: arrears collection and relief policies for power, telecom and gas."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as one line on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def main() -> None:
    """Console entry point: usage errors are Typer's; a SanbutingError is one line on stderr."""
    try:
        app()
    except PolicyError as exc:
        for problem in exc.problems:  # a refused policy set: every problem, one per line
            typer.echo(problem, err=True)
        sys.exit(1)
    except SanbutingError as exc:
        first, *_ = str(exc).splitlines() or ["unknown error"]
        typer.echo(f"error: {first}", err=True)
        sys.exit(1)
