"""The progress bar every long command shows: the task, a bar, done of all, time left; on the
error stream, gone when done, so that a command's output stays its own."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn


def progress_bar() -> Progress:
    """A transient progress bar on stderr (start it, or use it as a context manager)."""
    return Progress(
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    )
