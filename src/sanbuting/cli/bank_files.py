"""`sanbuting pay --file`: a bank's day of payments posted from a file (`jobs.bank_file`),
with a progress bar and a result file a row per input row."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import typer
from sqlalchemy import Engine

from sanbuting.cli.progress import progress_bar
from sanbuting.jobs.bank_file import post_rows, read_bank_file, write_results
from sanbuting.jobs.bank_reasons import Lang
from sanbuting.store.database import database_url, make_engine


def post_file(
    path: Path,
    results: Path,
    company: str | None,
    encoding: str,
    now: Callable[[], datetime],
    jobs: int = 0,
    lang: Lang = "zh",
) -> None:
    rows, refused = read_bank_file(path, encoding)
    progress = progress_bar()
    task = progress.add_task("payments", total=len(rows))
    engine = make_engine(database_url())
    try:
        with progress:
            posted = post_rows(
                engine=engine,
                rows=rows,
                now=now,
                company=company,
                on_batch=lambda n: progress.advance(task, n),
                jobs=_processes(engine, jobs),
            )
    finally:
        engine.dispose()
    every = refused + posted
    write_results(results, every, lang)
    counts = Counter(result.result for result in every)
    if lang == "zh":
        typer.echo(
            f"{path.name}：入账 {counts['posted']} 笔，重复 {counts['repeated']} 笔（此前已入账），"
            f"拒绝 {counts['refused']} 笔；每一行的结果见 {results}"
        )
    else:
        typer.echo(
            f"{path.name}: {counts['posted']} posted, {counts['repeated']} repeated (posted "
            f"before), {counts['refused']} refused; a result for every row in {results}"
        )
    if counts["refused"]:
        raise typer.Exit(1)


def _processes(engine: Engine, jobs: int) -> int:
    """The processes to post with: one on SQLite (one writer at a time); `jobs`, or one a
    core up to four, on PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return 1
    return jobs or min(4, os.cpu_count() or 1)
