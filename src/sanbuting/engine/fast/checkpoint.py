"""Checkpoints of the fast engine: every account's state at the end of a day, as two tables,
and a run resumed from them with only the rows dated after that day.

A checkpoint holds, per account, its facts (what `prepare` reads: utility, class, region,
mode, tags, state and balance as imported, credit limit) and its ladder memory (`kernel.L_*`:
state, cut-off and notice days, episode, relief memory, protected days, money, arming); and,
per bill issued by its day and still open (principal left, or a finalized fee not fully
paid), its facts and running money (`layout.B_*`): the open items. A settled bill (principal
0, fee finalized and paid) can change nothing any more and is left out; a bill issued later
is a later row.

`resume` prepares the kernel's arrays from the checkpoint's accounts, its open bills and the
bills, payments and usage dated after its day, puts each account's memory and each bill's
money back, re-bases the memory's cursors (account row, its policies, its payments and usage)
on the new arrays, and returns a `FastRun` whose next day is the day after the checkpoint: its
advances give the rows and states a run from the origin gives (`tests/test_checkpoints.py`).
A checkpoint is valid only with the policy set it was made with (`fingerprint`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.buckets import split_tables
from sanbuting.engine.fast import FastRun, Frames
from sanbuting.engine.fast import layout as lay
from sanbuting.engine.fast.kernel import (
    L_ACCOUNT,
    L_AP_HI,
    L_AP_LO,
    L_HOLD_HI,
    L_HOLD_LO,
    L_PAY,
    L_SIZE,
    L_USE,
)
from sanbuting.engine.fast.prepare import EPOCH, day_number
from sanbuting.engine.frames import RunFrames
from sanbuting.engine.relief_column import COLUMN
from sanbuting.policy.model import Policy
from sanbuting.rules.schema import Ruleset

MEM = [f"m{k}" for k in range(L_SIZE)]
BS = [f"b{k}" for k in range(lay.BILL_COLUMNS)]
ACCOUNT_FACTS = (
    "account_id",
    "utility",
    "customer_class",
    "region",
    "billing_mode",
    "tags",
    "state",
    "balance_fen",
    "credit_limit_fen",
)
BILL_FACTS = ("bill_id", "account_id", "period", "issued_on", "due_on", "amount_fen")


@dataclass(frozen=True)
class Checkpoint:
    """The engine's state at the end of `day` (see the module docstring)."""

    day: date
    fingerprint: str
    accounts: pl.DataFrame
    """ACCOUNT_FACTS and the memory columns `m0`…, one row per account, sorted by id."""
    bills: pl.DataFrame
    """BILL_FACTS and the money columns `b0`…, one row per open bill."""


def fingerprint(policies: Sequence[Policy], rulesets: dict[Utility, Ruleset]) -> str:
    """What a checkpoint's memory depends on besides the rows: the policies (their ranks are
    in the relief memory) and the rules."""
    text = (
        f"memory {L_SIZE}, bills {lay.BILL_COLUMNS}; "
        + repr(list(policies))
        + repr({u.value: r.model_dump(mode="json") for u, r in sorted(rulesets.items())})
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checkpoint_of(
    run: FastRun, accounts: pl.DataFrame, bills: pl.DataFrame, policies: Sequence[Policy]
) -> Checkpoint:
    """The state of `run` after its last advance; `accounts` and `bills` are the frames it was
    made from (their facts are kept)."""
    arrays = run.arrays
    day = EPOCH + timedelta(days=run.next_day - 1)
    facts = accounts.select(ACCOUNT_FACTS).sort("account_id")
    mems = pl.DataFrame(run.mems, schema=MEM, orient="row")
    table = pl.concat([facts, mems], how="horizontal")
    money = pl.DataFrame(run.bs, schema=BS, orient="row").with_columns(
        arrays.bill_ids.alias("bill_id")
    )
    b = pl.col
    settled = (
        (b(f"b{lay.B_OPENED}") == 1)
        & (b(f"b{lay.B_PRINCIPAL}") == 0)
        & (b(f"b{lay.B_CHARGED}") != lay.NONE)
        & (b(f"b{lay.B_FEE_PAID}") == b(f"b{lay.B_CHARGED}"))
    )
    open_bills = (
        bills.select(BILL_FACTS)
        .join(money, on="bill_id", how="inner")
        .filter(~settled, pl.col("issued_on") <= day)  # a later bill is a later row
    )
    return Checkpoint(day, fingerprint(policies, run.rulesets), table, open_bills)


def resume(
    checkpoint: Checkpoint,
    later: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    threads: int = 2,
) -> FastRun:
    """A run continuing from `checkpoint`; `later` holds the rows dated after its day (bills
    issued, payments paid, usage used then), of its accounts only, and as its accounts frame
    the accounts with their own relief (`holds`, compiled: `engine.relief_column`), if any.
    Refused if the policies or rules are not those of the checkpoint."""
    if fingerprint(policies, rulesets) != checkpoint.fingerprint:
        raise ValueError("the checkpoint was made with other policies or rules")
    held, new_bills, payments, usage = later
    after = day_number(checkpoint.day)
    earliest = new_bills.get_column("issued_on").min() if new_bills.height else None
    if isinstance(earliest, date) and day_number(earliest) <= after:
        raise ValueError("a bill issued on or before the checkpoint's day is not a later row")
    accounts = checkpoint.accounts.select(ACCOUNT_FACTS)
    if COLUMN in held.columns:  # the accounts' own relief, compiled on every payment they have
        relief = held.select("account_id", COLUMN)
        accounts = accounts.join(relief, on="account_id", how="left", maintain_order="left")
    kept = checkpoint.bills.select(BILL_FACTS)
    bills = pl.concat([kept, new_bills.select(BILL_FACTS)], how="vertical_relaxed")
    frames: Frames = (accounts, bills, payments, usage)
    run = FastRun(frames, policies, rulesets, checkpoint.day + timedelta(days=1), threads)
    arrays = run.arrays
    mems = checkpoint.accounts.select(MEM).to_numpy().astype(np.int64)
    n = mems.shape[0]
    mems[:, L_ACCOUNT] = np.arange(n)
    mems[:, L_AP_LO], mems[:, L_AP_HI] = arrays.ap_off[:-1], arrays.ap_off[1:]
    mems[:, L_HOLD_LO], mems[:, L_HOLD_HI] = arrays.h_off[:-1], arrays.h_off[1:]
    mems[:, L_PAY], mems[:, L_USE] = arrays.p_off[:-1], arrays.u_off[:-1]
    run.mems[:] = mems
    money = pl.DataFrame({"bill_id": arrays.bill_ids}).join(
        checkpoint.bills.select("bill_id", *BS), on="bill_id", how="left", maintain_order="left"
    )
    known = money.get_column(BS[0]).is_not_null().to_numpy()
    values = money.select(BS).fill_null(0).to_numpy().astype(np.int64)
    fresh = ~known  # a bill issued after the checkpoint starts as the kernel starts one
    values[fresh] = 0
    values[fresh, lay.B_PRINCIPAL] = arrays.bills[fresh, 2]
    values[fresh, lay.B_CHARGED] = lay.NONE
    run.bs[:] = values
    run.started = True
    return run


@dataclass(frozen=True)
class Advanced:
    """What an advance decided (the rows of its days, no snapshot) and the checkpoint of its
    last day."""

    tables: RunFrames
    checkpoint: Checkpoint | None
    """None when not asked for (the dunning proposal keeps none)."""


def advance_from(
    saved: Checkpoint | None,
    frames: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    origin: date,
    through: date,
    threads: int = 2,
    *,
    keep: bool = True,
) -> Advanced:
    """Decide the days after `saved` (from `origin` when None) through `through`: `frames`
    holds the rows after the checkpoint's day (every row, from the origin); with `keep`, the
    checkpoint of `through` too."""
    if saved is None:
        run = FastRun(frames, policies, rulesets, origin, threads)
        accounts, bills = frames[0], frames[1].select(BILL_FACTS)
    else:
        run = resume(saved, frames, policies, rulesets, threads)
        accounts = saved.accounts
        bills = pl.concat(
            [saved.bills.select(BILL_FACTS), frames[1].select(BILL_FACTS)],
            how="vertical_relaxed",
        )
    tables = run.advance(through, snapshot=False)
    return Advanced(tables, checkpoint_of(run, accounts, bills, policies) if keep else None)


def accounts_in(saved: Checkpoint | None, frames: Frames) -> int:
    """The accounts an advance decides: the checkpoint's, or the frames' from the origin."""
    return (saved.accounts if saved is not None else frames[0]).height


def split_advance(
    saved: Checkpoint | None, frames: Frames, count: int
) -> list[tuple[Checkpoint | None, Frames]]:
    """What an advance reads (a checkpoint, or None, and the rows after it) cut into `count`
    buckets by account (`engine.buckets`)."""
    if saved is None:
        return [(None, (a, b, p, u)) for a, b, p, u in split_tables(frames, count)]
    tables = [saved.accounts, saved.bills, *frames]
    return [
        (Checkpoint(saved.day, saved.fingerprint, mine, open_bills), (a, b, p, u))
        for mine, open_bills, a, b, p, u in split_tables(tables, count)
    ]


def merged(parts: Sequence[Checkpoint | None]) -> Checkpoint | None:
    """One checkpoint of the disjoint sets of accounts of `parts` (buckets of one day); None
    when they were not kept."""
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    first = kept[0]
    if len(kept) == 1:
        return first
    return Checkpoint(
        first.day,
        first.fingerprint,
        pl.concat([p.accounts for p in kept], how="vertical_relaxed").sort("account_id"),
        pl.concat([p.bills for p in kept], how="vertical_relaxed").sort("account_id", "bill_id"),
    )
