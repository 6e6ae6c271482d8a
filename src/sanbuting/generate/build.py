"""`generate`: a synthetic input folder, block by block.

The accounts of each utility are cut into blocks of `BLOCK` accounts; each block draws from its
own random stream (seeded by the seed, the utility and the block number), so the files depend
only on the arguments, never on the machine, and memory stays bounded at any size. Each block's
accounts, bills, payments and usage are written before the next block is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from sanbuting.domain import SHANGHAI, Utility
from sanbuting.errors import SanbutingError
from sanbuting.generate import mix
from sanbuting.generate.billing import Payments, bills_and_payments
from sanbuting.generate.population import AccountBlock, draw_accounts
from sanbuting.generate.prepaid import topups, usage
from sanbuting.generate.writer import Format, Writers, conflicting_files

BLOCK = 100_000
"""Accounts drawn and written at a time (part of the output's definition: keep it fixed)."""

PAYMENT_DIGITS = 10
SECONDS_PER_DAY = 86_400
DEFAULT_SEED = 2020
DEFAULT_START = date(2020, 1, 1)
DEFAULT_END = date(2020, 3, 31)


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate: `accounts` accounts into `out`, for the period `start`..`end`."""

    accounts: int
    out: Path
    seed: int = DEFAULT_SEED
    start: date = DEFAULT_START
    end: date = DEFAULT_END
    format: Format = "csv"


@dataclass(frozen=True)
class GenerateResult:
    """What was written: rows per table and the files."""

    request: GenerateRequest
    rows: dict[str, int]
    files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph: counts per file, seed, period, output folder."""
        r = self.request
        counts = ", ".join(f"{self.rows[path.stem]:,} rows in {path.name}" for path in self.files)
        return f"Generated {counts} (seed {r.seed}, period {r.start} to {r.end}) in {r.out}."


def utility_counts(accounts: int, seed: int) -> dict[Utility, int]:
    """How many accounts each utility gets: one multinomial draw for the seed."""
    rng = np.random.default_rng([seed])
    shares = list(mix.UTILITY_SHARE.values())
    counts = rng.multinomial(accounts, shares)
    return {utility: int(c) for utility, c in zip(mix.UTILITY_SHARE, counts, strict=True)}


def _check(request: GenerateRequest) -> None:
    if request.accounts < 1:
        raise SanbutingError(f"--accounts {request.accounts}: give at least 1 account")
    if request.seed < 0:
        raise SanbutingError(f"--seed {request.seed}: give a seed of 0 or more")
    if request.end < request.start:
        raise SanbutingError(f"--end {request.end} is before --start {request.start}")
    if request.out.exists() and not request.out.is_dir():
        raise SanbutingError(f"{request.out}: exists and is not a folder")
    conflicts = conflicting_files(request.out, request.format)
    if conflicts:
        raise SanbutingError(
            f"{conflicts[0]} is already in {request.out}: the folder would hold both formats; "
            "remove it or choose another folder"
        )


def generate(request: GenerateRequest) -> GenerateResult:
    """Write accounts, bills, payments and usage for `request` (see the module docstring).
    Files of the same name and format in `out` are replaced."""
    _check(request)
    try:
        request.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SanbutingError(f"{request.out}: cannot create the folder ({exc.strerror})") from exc
    counts = utility_counts(request.accounts, request.seed)
    writers = Writers(request.out, request.format)
    try:
        next_payment = 1
        # utilities in the order of their id letter, so every file is sorted by account_id
        for rank, utility in sorted(
            enumerate(mix.UTILITY_SHARE), key=lambda pair: mix.ID_LETTER[pair[1]]
        ):
            total = counts[utility]
            digits = max(mix.ID_DIGITS, len(str(total)))
            for number, first in enumerate(range(0, total, BLOCK)):
                rng = np.random.default_rng([request.seed, rank, number])
                size = min(BLOCK, total - first)
                block = draw_accounts(rng, utility, first + 1, size, digits)
                next_payment = _write_block(writers, rng, block, request, next_payment)
        rows = writers.close()
    except SanbutingError:
        writers.abandon()
        raise
    except OSError as exc:
        writers.abandon()
        raise SanbutingError(f"{request.out}: cannot write the files ({exc})") from exc
    return GenerateResult(request=request, rows=rows, files=writers.paths())


def _write_block(
    writers: Writers,
    rng: np.random.Generator,
    block: AccountBlock,
    request: GenerateRequest,
    next_payment: int,
) -> int:
    """Draw and write one block's rows; return the next payment number."""
    ids = block.ids()
    writers.write("accounts", block.frame(ids))
    bills, paid = bills_and_payments(rng, block, ids, request.start, request.end)
    writers.write("bills", bills)
    topped = topups(rng, block, request.start, request.end)
    payments = _payments_frame(Payments.concat([paid, topped]), ids, next_payment)
    writers.write("payments", payments)
    writers.write("usage", usage(rng, block, ids, request.start, request.end))
    return next_payment + payments.height


def _payments_frame(rows: Payments, ids: pl.Series, first_number: int) -> pl.DataFrame:
    """Payments sorted by account and time, numbered from `first_number` (``PAY0000000001``)."""
    order = np.lexsort((rows.second, rows.day, rows.account))
    local_seconds = rows.day[order] * SECONDS_PER_DAY + rows.second[order]
    numbers = pl.Series(np.arange(first_number, first_number + len(order), dtype=np.int64))
    local = pl.Series(local_seconds * 1_000_000).cast(pl.Datetime("us"))
    return pl.DataFrame(
        {
            "payment_id": pl.select(
                pl.lit("PAY") + numbers.cast(pl.String).str.zfill(PAYMENT_DIGITS)
            ).to_series(),
            "account_id": ids.gather(rows.account[order]),
            "paid_at": local.dt.replace_time_zone(SHANGHAI.key, ambiguous="earliest"),
            "amount_fen": rows.amount_fen[order],
            "channel": pl.Series(mix.CHANNELS).gather(rows.channel[order]),
        }
    )
