"""The outbox dispatcher: sends the side effects (notices, cut-off and reconnection orders,
SMS) that decisions queued in the `outbox` table, with retries, to a sink that deduplicates by
each order's key; see `dispatcher` for the claim, transaction and crash rules."""

from sanbuting.dispatch.dispatcher import (
    DispatchReport,
    OnSent,
    Recheck,
    dispatch_once,
    error_text,
    retry_delay,
    run_dispatcher,
)
from sanbuting.dispatch.sinks import ConsoleSink, FileSink, Sink, record

__all__ = [
    "ConsoleSink",
    "DispatchReport",
    "FileSink",
    "OnSent",
    "Recheck",
    "Sink",
    "dispatch_once",
    "error_text",
    "record",
    "retry_delay",
    "run_dispatcher",
]
