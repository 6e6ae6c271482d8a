"""The `sanbuting` command line: one module per group of commands, all on one Typer app."""

from __future__ import annotations

from sanbuting.cli import (  # noqa: F401  (registers)
    channels,
    dispatch,
    explain,
    fees,
    generate,
    inputs,
    orders,
    policies,
    policy_sets,
    report,
    run,
    serve,
    service,
    sms,
    sms_texts,
    staff,
    store,
)
from sanbuting.cli.app import app, main

__all__ = ["app", "main"]
