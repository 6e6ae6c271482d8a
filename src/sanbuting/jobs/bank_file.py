"""A bank's (or collection agent's) day of payments, posted from a file, exactly once by key.

The file is the contract's `payments` table (`payment_id, account_id, paid_at, amount_fen,
channel`), CSV in UTF-8 (or GBK with `--encoding`): each row's `payment_id` is its
idempotency key. Rows are checked first (the contract's rules: ids, an instant with its UTC
offset, a whole number of fen above 0, a short channel); a bad row is refused with its line
and reason and the others go on. Good rows are posted in batches, one transaction a batch:
the rows the open items can book all together (`payments.bulk`), the others one by one, a
savepoint each (`payments.service.post_payment`; each company's policies read and its row
held once a batch), so a refused row never undoes its neighbours and a crash loses at most
the batch being written, which a rerun of the same file posts (the keys posted before answer
`repeated`). Every row gets a result: `posted`, `repeated` or `refused` with the reason
(a code and a sentence in the bank's language, `jobs.bank_reasons`), written to a result file
for the bank.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from sanbuting.domain import parse_timestamp
from sanbuting.errors import InputFileError, SanbutingError
from sanbuting.io.encodings import chosen_encoding
from sanbuting.io.ids import fault_text, id_fault
from sanbuting.jobs.bank_parts import post_in_parts
from sanbuting.jobs.bank_reasons import Lang, Reason
from sanbuting.payments.bulk import post_all, rounds
from sanbuting.payments.service import MAX_FEN, PaymentIn, PaymentRefused, PaymentResult
from sanbuting.store.database import sessions

HEADER = ("payment_id", "account_id", "paid_at", "amount_fen", "channel")
RESULT_COLUMNS = (
    "line",
    "payment_id",
    "account_id",
    "amount_fen",
    "result",
    "reason_code",
    "reason",
    "arrears_after_fen",
)
MAX_ROWS = 2_000_000
"""The most rows one file may hold (a large bank's day is a few hundred thousand)."""
BATCH = 500


@dataclass(frozen=True, slots=True)
class BankRow:
    line: int
    payment_id: str
    account_id: str
    paid_at: datetime
    amount_fen: int
    channel: str | None


@dataclass(frozen=True, slots=True)
class RowResult:
    line: int
    payment_id: str
    account_id: str
    amount_fen: str
    result: str
    """posted, repeated or refused."""
    reason: Reason | None = None
    arrears_after_fen: str = ""


def read_bank_file(
    path: Path, encoding: str | None = None
) -> tuple[list[BankRow], list[RowResult]]:
    """The good rows of the file, and a `refused` result for every bad one."""
    try:
        text = path.read_bytes().decode(chosen_encoding(encoding))
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path.name}: not {chosen_encoding(encoding)} text (byte {exc.start}): save it as "
            "UTF-8 or pass --encoding gbk"
        ) from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = [cell.strip() for cell in next(reader, [])]
    missing = [name for name in HEADER[:4] if name not in header]
    if missing:
        raise InputFileError(
            f"{path.name}:1: the header lacks {', '.join(missing)}: it must name "
            f"{', '.join(HEADER)}"
        )
    good: list[BankRow] = []
    refused: list[RowResult] = []
    for line, cells in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise InputFileError(f"{path.name}: more than {MAX_ROWS:,} rows: split the file")
        if not any(cell.strip() for cell in cells):
            if cells:  # a row of only separators is refused, not skipped
                empty = Reason.of("empty_row", "the row holds no value")
                refused.append(RowResult(line, "", "", "", "refused", empty))
            continue
        values = {
            name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)
        }
        row, reason = _checked(line, values)
        if row is None:
            refused.append(
                RowResult(
                    line,
                    values.get("payment_id", "")[:64],
                    values.get("account_id", "")[:64],
                    values.get("amount_fen", "")[:20],
                    "refused",
                    reason,
                )
            )
        else:
            good.append(row)
    return good, refused


def _checked(line: int, values: dict[str, str]) -> tuple[BankRow | None, Reason | None]:
    for name in ("payment_id", "account_id"):
        fault = id_fault(values.get(name, ""))
        if fault is not None:
            english = f"{name}: {fault_text(fault)}"
            return None, Reason.of(fault[0], english, field=name, **fault[1])
    stamp = values.get("paid_at", "")
    try:
        paid_at = parse_timestamp(stamp)
    except SanbutingError as exc:
        code = "no_offset" if _parses(stamp) else "not_timestamp"
        return None, Reason.of(code, f"paid_at: {exc}", value=repr(stamp[:40]))
    amount = values.get("amount_fen", "")
    if not amount.isascii() or not amount.isdigit() or not 0 < int(amount) <= MAX_FEN:
        english = f"amount_fen: a whole number of fen from 1 to {MAX_FEN}, not {amount[:20]!r}"
        return None, Reason.of("amount", english, most=str(MAX_FEN), value=repr(amount[:20]))
    channel = values.get("channel") or None
    if channel is not None and (len(channel) > 32 or not channel.isprintable()):
        return None, Reason.of("channel", "channel: at most 32 printable characters")
    return BankRow(
        line, values["payment_id"], values["account_id"], paid_at, int(amount), channel
    ), None


def _parses(stamp: str) -> bool:
    """Whether `stamp` is an ISO 8601 instant (with or without its UTC offset)."""
    try:
        datetime.fromisoformat(stamp.strip())
    except ValueError:
        return False
    return True


def post_rows(
    *,
    engine: Engine,
    rows: list[BankRow],
    now: Callable[[], datetime],
    company: str | None = None,
    key_scope: str | None = None,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
    set_based: bool = True,
    jobs: int = 1,
) -> list[RowResult]:
    """Post the rows (see the module docstring); `key_scope` names the keys of a channel
    (`ch:3`), else the rows' own `payment_id` are the keys. `set_based`: the rows the open
    items can book are posted together (`payments.bulk`), the others one by one, the rows
    taken in `waves`; False: all one by one in file order (the standard the set-based way is
    held equal to). The results are in line order. `jobs` above 1: the rows
    are split by account and key into that many parts, each posted by a process of its own
    (`jobs.bank_parts`), where the system can fork; each row's result is the same."""
    if jobs > 1 and len(rows) > batch:
        return post_in_parts(
            engine=engine,
            parts=split(rows, jobs),
            post=lambda part, progress: post_rows(
                engine=engine, rows=part, now=now, company=company, key_scope=key_scope,
                batch=batch, on_batch=progress, set_based=set_based,
            ),
            on_batch=on_batch,
        )  # fmt: skip
    results: list[RowResult] = []
    for chunk in _chunks(waves(rows) if set_based else rows, batch):
        with sessions(engine).begin() as session:
            payments = [
                PaymentIn(
                    row.account_id,
                    row.amount_fen,
                    f"{key_scope}:{row.payment_id}" if key_scope else row.payment_id,
                    row.paid_at,
                    row.channel,
                    company,
                )
                for row in chunk
            ]
            outcomes = post_all(session=session, payments=payments, now=now(), set_based=set_based)
            results.extend(
                _result_of(row, outcome) for row, outcome in zip(chunk, outcomes, strict=True)
            )
        if on_batch is not None:
            on_batch(len(chunk))
    return sorted(results, key=lambda r: r.line)


def waves(rows: list[BankRow]) -> list[BankRow]:
    """The rows in the order to post them set-based: every account's first row (in file
    order), then every account's second, and so on, so that a batch meets each account once
    and posts its rows together (`payments.bulk`), and each account's rows keep their order:
    `payments.bulk.rounds` over the whole file (file order when a key repeats in it)."""
    found = rounds([(row.payment_id, row.account_id) for row in rows])
    return [rows[n] for members in found for n in members]


def _result_of(row: BankRow, outcome: PaymentResult | SanbutingError) -> RowResult:
    if isinstance(outcome, PaymentRefused):
        return _result(row, "refused", Reason.of(outcome.code, str(outcome), **outcome.params))
    if isinstance(outcome, SanbutingError):
        return _result(row, "refused", Reason.of("refused", str(outcome)))
    kind = "repeated" if outcome.repeated else "posted"
    return _result(row, kind, None, str(outcome.arrears_after_fen))


def _result(row: BankRow, outcome: str, reason: Reason | None, arrears: str = "") -> RowResult:
    return RowResult(
        row.line, row.payment_id, row.account_id, str(row.amount_fen), outcome, reason, arrears
    )


def split(rows: list[BankRow], parts: int) -> list[list[BankRow]]:
    """The rows in at most `parts` parts of about the same size, each in file order, such
    that the rows of one account, and the rows of one key, are all in one part: posted in
    parts at once, each account's payments keep their order and each key's first row in the
    file is the one that posts."""
    group: dict[str, str] = {}

    def root(name: str) -> str:
        while group.setdefault(name, name) != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    for row in rows:
        group[root(f"k:{row.payment_id}")] = root(f"a:{row.account_id}")
    members: dict[str, list[int]] = {}
    for n, row in enumerate(rows):
        members.setdefault(root(f"a:{row.account_id}"), []).append(n)
    chosen: list[list[int]] = [[] for _ in range(max(1, parts))]
    for together in sorted(members.values(), key=len, reverse=True):
        min(chosen, key=len).extend(together)
    return [[rows[n] for n in sorted(part)] for part in chosen if part]


def _chunks(rows: list[BankRow], size: int) -> Iterator[list[BankRow]]:
    for offset in range(0, len(rows), size):
        yield rows[offset : offset + size]


def write_results(path: Path, results: list[RowResult], lang: Lang = "zh") -> None:
    """The result file: a row per input row, in line order, each refusal's reason as its
    code and a sentence in `lang`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RESULT_COLUMNS)
        for r in sorted(results, key=lambda r: r.line):
            code, text = ("", "") if r.reason is None else (r.reason.code, r.reason.text(lang))
            after = r.arrears_after_fen
            writer.writerow(
                (r.line, r.payment_id, r.account_id, r.amount_fen, r.result, code, text, after)
            )
