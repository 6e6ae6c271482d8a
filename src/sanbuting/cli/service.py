"""`sanbuting daily` and `sanbuting pay`: the service's day and its counter."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID
from sqlalchemy import Engine

from sanbuting.cli.app import app, fail
from sanbuting.cli.bank_files import post_file
from sanbuting.cli.progress import progress_bar
from sanbuting.domain import format_yuan, parse_date, parse_timestamp, parse_yuan
from sanbuting.jobs.bank_reasons import Lang
from sanbuting.jobs.books_forward import Forwarded
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.preview import preview
from sanbuting.payments.service import PaymentIn, PaymentResult, post_payment
from sanbuting.sms.reminders import queue_day
from sanbuting.store.companies import company_by_code
from sanbuting.store.database import database_url, make_engine, sessions
from sanbuting.store.runs import DayDone


def _now() -> datetime:
    return datetime.now(tz=UTC)


@app.command("daily")
def daily_command(
    date: Annotated[
        str | None, typer.Option("--date", help="Run this one day (the next day not yet run).")
    ] = None,
    through: Annotated[
        str | None,
        typer.Option("--through", help="Run every day from the last one run through this."),
    ] = None,
    preview: Annotated[
        str | None,
        typer.Option(
            "--preview",
            help="Write what this day would record (the dunning proposal), recording nothing.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="With --preview: the CSV file to write (default: print it).", dir_okay=False
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option(help="With --preview: the reasons' language, zh or en.")
    ] = "zh",
    engine: Annotated[
        str,
        typer.Option(
            help="fast, reference (from the origin, the standard) or spark (each bucket a "
            "Spark task, going on from the checkpoint as the fast engine does)."
        ),
    ] = "fast",
    workers: Annotated[int | None, typer.Option(help="Threads (default: one per core).")] = None,
    buckets: Annotated[
        int | None,
        typer.Option(min=1, help="Account buckets (default: one per 500,000 accounts)."),
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option(
            help="With --engine spark: a folder every executor reads and writes (default: a "
            "temporary one, enough on one machine).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Run the engine over the store: record each day's actions and protection events and
    queue its orders in the outbox, one transaction per day, then the day's text messages no
    order carries (relief granted and ending, promises and instalments due). A day already
    run is not run again. With --preview D, say what day D would record and why, and record
    nothing."""
    if sum(option is not None for option in (date, through, preview)) != 1:
        raise fail("give exactly one of --date D, --through D and --preview D")
    if preview is not None:
        _preview(parse_date(preview), out, lang, engine)
        return
    day = parse_date(date or through or "")

    def show(done: DayDone) -> None:
        typer.echo(
            f"{done.company} {done.day}: {done.actions} actions, {done.protections} "
            f"protection events, {done.orders} orders queued"
        )

    db = make_engine(database_url())
    progress = progress_bar()
    tasks: dict[str, TaskID] = {}

    def forwarding(company: str, done: int, total: int) -> None:
        if company not in tasks:
            if total < FORWARD_PROGRESS_FROM:
                return
            tasks[company] = progress.add_task(f"{company} open books", total=total)
            progress.start()
        progress.update(tasks[company], completed=done)

    try:
        done = run_daily(
            engine=db,
            through=day,
            single=date is not None,
            now=_now,
            engine_name=engine,
            workers=workers,
            on_day=show,
            buckets=buckets,
            work=work,
            on_forward=_show_forward,
            forwarding=forwarding,
        )
        _day_messages(db, [d for d in done if not d.already])
    finally:
        if progress.live.is_started:
            progress.stop()
        db.dispose()
    for skipped in (d for d in done if d.already):
        typer.echo(f"{skipped.company}: already run through {skipped.day}; nothing to do")


def _day_messages(db: Engine, recorded: list[DayDone]) -> None:
    """Queue each recorded day's text messages that no order carries (`sms.reminders`), a
    transaction per company and day; printed when there are any."""
    for done in recorded:
        with sessions(db).begin() as session:
            company = company_by_code(session, done.company)
            queued = queue_day(session=session, company=company, day=done.day, now=_now())
        if queued.counts:
            typer.echo(queued.line())


FORWARD_PROGRESS_FROM = 2_000
"""Open books to bring forward from which `daily` shows a progress bar (a few seconds)."""


def _show_forward(forwarded: Forwarded) -> None:
    if forwarded.accounts:
        typer.echo(
            f"{forwarded.company}: {forwarded.accounts} accounts' open books brought forward to "
            f"{forwarded.through}, {forwarded.postings} postings added"
        )


@app.command("pay")
def pay_command(
    account: Annotated[str | None, typer.Argument(help="The account number (户号).")] = None,
    yuan: Annotated[str | None, typer.Argument(help="The amount in yuan, e.g. 172.00.")] = None,
    key: Annotated[
        str | None, typer.Option(help="The idempotency key: the same key never posts twice.")
    ] = None,
    channel: Annotated[str, typer.Option(help="counter, app, bank, kiosk, …")] = "counter",
    at: Annotated[
        str | None,
        typer.Option(help="When it was paid, ISO 8601 with offset (default: now)."),
    ] = None,
    company: Annotated[
        str | None, typer.Option(help="The company, if several hold this account number.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A bank's file of payments (the payments table): each row posted once by its "
            "payment_id.",
            dir_okay=False,
        ),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            help="With --file: the result file (default: FILE.results.csv).", dir_okay=False
        ),
    ] = None,
    encoding: Annotated[str, typer.Option(help="With --file: utf-8, gbk or gb18030.")] = "utf-8",
    jobs: Annotated[
        int,
        typer.Option(
            min=0,
            max=64,
            help="With --file on PostgreSQL: processes posting at once (default 0: one a core, "
            "at most 4). SQLite takes one writer at a time: there it is always 1.",
        ),
    ] = 0,
    lang: Annotated[
        str, typer.Option(help="With --file: the reasons' and the summary's language, zh or en.")
    ] = "zh",
) -> None:
    """Post a payment at the counter and print how it was allocated; or, with --file, post a
    bank's file of payments and write a result for every row (posted, repeated, refused)."""
    if file is not None:
        if account is not None or yuan is not None or key is not None:
            raise fail("with --file, give no account, amount or key: the file holds them")
        if lang not in ("zh", "en"):
            raise fail(f"--lang {lang!r}: use zh or en")
        chosen: Lang = "en" if lang == "en" else "zh"
        out = results or file.with_suffix(".results.csv")
        post_file(file, out, company, encoding, _now, jobs, chosen)
        return
    if account is None or yuan is None or key is None:
        raise fail("give ACCOUNT YUAN --key K, or --file FILE")
    payment = PaymentIn(
        account_id=account,
        amount_fen=parse_yuan(yuan),
        key=key,
        paid_at=parse_timestamp(at) if at else _now(),
        channel=channel,
        company=company,
        at_given=at is not None,
    )
    db = make_engine(database_url())
    try:
        with sessions(db).begin() as session:
            result = post_payment(session=session, payment=payment, now=_now())
    finally:
        db.dispose()
    typer.echo(describe(result))


def describe(result: PaymentResult) -> str:
    """The allocation as a counter clerk reads it out."""
    head = (
        f"payment {result.key}: {format_yuan(result.amount_fen)} yuan to "
        f"{result.account_id} ({result.company}) on {result.paid_on}"
    )
    if result.repeated:
        head += " — already posted with this key; the first result:"
    lines = [head]
    for part in result.parts:
        lines.append(
            f"  bill {part.bill_id}: principal {format_yuan(part.principal_fen)}, "
            f"late fee {format_yuan(part.fee_fen)}"
        )
    if result.credit_fen:
        lines.append(f"  to balance / credit: {format_yuan(result.credit_fen)}")
    lines.append(
        f"  arrears {format_yuan(result.arrears_before_fen)} → "
        f"{format_yuan(result.arrears_after_fen)} yuan"
    )
    if result.reconnect_queued:
        lines.append("  reconnection ordered at once (queued in the outbox)")
    return "\n".join(lines)


def _preview(day: dt.date, out: Path | None, lang: str, engine: str) -> None:
    if lang not in ("zh", "en"):
        raise fail(f"--lang {lang!r}: use zh or en")
    db = make_engine(database_url())
    try:
        proposal = preview(
            engine=db, day=day, lang="en" if lang == "en" else "zh", engine_name=engine
        )
    finally:
        db.dispose()
    for code in proposal.recorded:
        typer.echo(
            f"{code}: {day} is recorded already (or before its origin); nothing to propose",
            err=True,
        )
    if out is None:
        typer.echo(proposal.csv(), nl=False)
        return
    proposal.write(out)
    typer.echo(f"wrote {out}: {len(proposal.rows)} proposed actions for {day}")
