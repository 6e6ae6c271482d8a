"""From the contract's frames to the fast kernel's arrays.

Accounts are sorted by id (an account is its row number); bills, payments and usage become
CSR-style arrays grouped by account (`*_off[i]` to `*_off[i + 1]`), in the orders the rules
use: bills by due date, issue date, id; payments by day, instant, id; usage by day. Policy
scopes are matched with vectorised Polars expressions; waivers become a bit mask per bill.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from sanbuting.domain import AccountState, BillingMode, CustomerClass, Utility
from sanbuting.engine.fast import layout as lay
from sanbuting.engine.fast.accounts import ACCOUNT_COLUMNS
from sanbuting.engine.fast.holds import hold_arrays
from sanbuting.policy.model import (
    CreditPolicy,
    DeferPolicy,
    ExemptPolicy,
    Policy,
    Scope,
    WaiverPolicy,
)
from sanbuting.rules.schema import Ruleset

Ints = npt.NDArray[np.int64]
EPOCH, day_number = lay.EPOCH, lay.day_number
"""Re-exported: the kernel's day numbers (`layout`)."""


@dataclass(frozen=True)
class Arrays:
    """Everything the kernel reads, and the ids to turn its rows back into text."""

    account_ids: pl.Series
    accounts: pl.DataFrame
    """account_id, utility, province, prepaid: for the summary and the steps' names."""
    acc: Ints
    b_off: Ints
    bills: Ints
    bill_ids: pl.Series
    bill_accounts: Ints
    windows: Ints
    p_off: Ints
    pays: Ints
    u_off: Ints
    usage: Ints
    ap_off: Ints
    ap: Ints
    pol: Ints
    rules: Ints
    policy_ids: list[str]
    h_off: Ints
    hd: Ints
    hold_ids: list[str]


def _offsets(index: npt.NDArray[np.int64], count: int) -> Ints:
    off = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(index, minlength=count), out=off[1:])
    return off


def _indexed(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """`frame` with `i`, the row of its account in the sorted `ids` (every account id of an
    input row is known: the input checks saw to it). Rows of one account usually come
    together, so each run of equal ids is looked up once."""
    return frame.with_columns(
        ids.search_sorted(frame.get_column("account_id")).cast(pl.Int64).alias("i")
    )


def _columns(frame: pl.DataFrame, exprs: list[pl.Expr]) -> Ints:
    """The expressions' values as the columns of one C-ordered int64 array."""
    table = np.empty((frame.height, len(exprs)), dtype=np.int64)
    for k, column in enumerate(frame.select(exprs).iter_columns()):
        table[:, k] = column.to_numpy()
    return table


def scope_expr(scope: Scope) -> pl.Expr:
    """A scope as a Polars predicate over the accounts frame (AND of keys, OR within)."""
    terms = [pl.col("account_id").is_not_null()]  # a column, so an empty scope spans all rows
    if scope.utility is not None:
        terms.append(pl.col("utility").is_in([u.value for u in scope.utility]))
    if scope.region is not None:
        terms.append(
            pl.any_horizontal([pl.col("region").str.starts_with(prefix) for prefix in scope.region])
        )
    if scope.customer_class is not None:
        terms.append(pl.col("customer_class").is_in([c.value for c in scope.customer_class]))
    if scope.billing_mode is not None:
        terms.append(pl.col("billing_mode").is_in([m.value for m in scope.billing_mode]))
    if scope.tags is not None:
        tags = list(scope.tags)
        terms.append(
            pl.col("tags").list.eval(pl.element().is_in(tags)).list.any().fill_null(value=False)
        )
    return pl.all_horizontal(terms)


def rules_table(rulesets: dict[Utility, Ruleset]) -> Ints:
    table = np.full((len(lay.UTILITIES), lay.RULE_COLUMNS), lay.NONE, dtype=np.int64)
    for row, utility in enumerate(lay.UTILITIES):
        rules = rulesets[utility]
        post, pre, fee = rules.postpaid, rules.prepaid, rules.late_fee
        table[row, lay.R_REMIND] = post.remind_after_due_days
        table[row, lay.R_ENFORCE_AFTER] = post.enforce_when_overdue_more_than_days
        table[row, lay.R_HAS_NOTICE] = int(post.notice is not None)
        if post.notice is not None:
            table[row, lay.R_LEAD] = post.notice.lead_days
            table[row, lay.R_VALID] = post.notice.valid_days
        table[row, lay.R_CUTOFF] = lay.ACTIONS.index(post.cutoff.action)
        table[row, lay.R_TERMINATE] = post.terminate_after_cutoff_days or lay.NONE
        table[row, lay.R_LOW] = pre.low_balance_below_fen
        table[row, lay.R_AT_OR_BELOW] = int(pre.trigger == "at_or_below")
        table[row, lay.R_PRE_HAS_NOTICE] = int(pre.notice is not None)
        table[row, lay.R_GRACE] = pre.notice.grace_days if pre.notice else lay.NONE
        table[row, lay.R_PRE_CUTOFF] = lay.ACTIONS.index(pre.cutoff.action)
        table[row, lay.R_SELF_ENFORCING] = int(pre.cutoff.self_enforcing)
        table[row, lay.R_PRE_TERMINATE] = pre.terminate_after_cutoff_days or lay.NONE
        table[row, lay.R_MINIMUM] = fee.minimum_fen
        for column, klass, later in (
            (lay.R_RES_SAME, CustomerClass.RESIDENTIAL, False),
            (lay.R_RES_LATER, CustomerClass.RESIDENTIAL, True),
            (lay.R_NON_SAME, CustomerClass.NON_RESIDENTIAL, False),
            (lay.R_NON_LATER, CustomerClass.NON_RESIDENTIAL, True),
        ):
            table[row, column] = fee.daily_rate_permille[klass].ppm(later_year=later)
    return table


def policy_table(policies: list[Policy]) -> Ints:
    table = np.full((max(len(policies), 1), lay.POLICY_COLUMNS), lay.NONE, dtype=np.int64)
    for rank, policy in enumerate(policies):
        row = table[rank]
        row[lay.P_EFFECT] = lay.EFFECTS.index(policy.effect)
        row[lay.P_START], row[lay.P_END] = (
            day_number(policy.window.start),
            day_number(policy.window.end),
        )
        if isinstance(policy, ExemptPolicy):
            row[lay.P_PAUSE], row[lay.P_RECONNECT] = policy.pause_reminders, policy.reconnect
        elif isinstance(policy, DeferPolicy):
            if policy.days is not None:
                row[lay.P_DEFER_DAYS] = policy.days
            else:
                assert policy.until is not None
                row[lay.P_DEFER_UNTIL] = day_number(policy.until)
        elif isinstance(policy, CreditPolicy):
            row[lay.P_CREDIT] = policy.credit_fen
    return table


def _account_policies(accounts: pl.DataFrame, policies: list[Policy]) -> tuple[Ints, Ints]:
    """CSR of the exempt, defer and credit policies in each account's scope, file order;
    column 1 is where the policy's cover ends for the account (an exempt's spread end)."""
    ranks = [r for r, p in enumerate(policies) if not isinstance(p, WaiverPolicy)]
    n = accounts.height
    if not ranks:
        return np.zeros(n + 1, dtype=np.int64), np.zeros((0, 2), dtype=np.int64)
    matrix = accounts.select(
        [scope_expr(policies[r].scope).alias(str(r)) for r in ranks]
    ).to_numpy()
    rows, cols = np.nonzero(matrix)
    chosen = np.asarray(ranks, dtype=np.int64)[cols]
    until = np.array(
        [day_number(policies[r].window.end) for r in range(len(policies))], dtype=np.int64
    )[chosen]
    spread = np.array(
        [p.spread_days if isinstance(p, ExemptPolicy) else 0 for p in policies], dtype=np.int64
    )[chosen]
    ids = accounts.get_column("account_id")
    for k in np.nonzero(spread)[0]:  # crc32(account_id) mod N: only exempts that spread
        until[k] += zlib.crc32(str(ids[int(rows[k])]).encode("utf-8")) % int(spread[k])
    return _offsets(rows.astype(np.int64), n), np.stack([chosen, until], axis=1)


def _waiver_masks(
    bills: pl.DataFrame, accounts: pl.DataFrame, policies: list[Policy]
) -> tuple[pl.Series, Ints]:
    waivers = [p for p in policies if isinstance(p, WaiverPolicy)]
    if len(waivers) > lay.MAX_POLICIES:
        raise ValueError("too many waiver policies for the fast engine")
    windows = np.array(
        [[day_number(w.window.start), day_number(w.window.end)] for w in waivers] or [[0, 0]],
        dtype=np.int64,
    )
    mask = pl.lit(0, dtype=pl.Int64)
    scopes = accounts.select(
        "account_id", *[scope_expr(w.scope).alias(f"w{k}") for k, w in enumerate(waivers)]
    )
    joined = bills.join(scopes, on="account_id", how="left")
    for k, waiver in enumerate(waivers):
        if waiver.issued_in is not None:
            by_bill = pl.col("issued_on").dt.strftime("%Y-%m").is_in(list(waiver.issued_in))
        elif waiver.period_in is not None:
            by_bill = pl.col("period").is_in(list(waiver.period_in))
        else:
            by_bill = pl.lit(value=True)
        mask = mask + pl.when(pl.col(f"w{k}") & by_bill).then(1 << k).otherwise(0)
    return joined.with_columns(mask.alias("mask")).get_column("mask"), windows


def prepare(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame],
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
) -> Arrays:
    """The kernel's arrays for one set of accounts."""
    accounts_in, bills_in, payments_in, usage_in = frames
    accounts = accounts_in.sort("account_id")
    n = accounts.height
    codes = (
        accounts.select(
            pl.col("utility")
            .replace_strict([u.value for u in lay.UTILITIES], list(range(3)), return_dtype=pl.Int64)
            .alias("u"),
            (pl.col("customer_class") == CustomerClass.NON_RESIDENTIAL.value).cast(pl.Int64),
            (pl.col("billing_mode") == BillingMode.PREPAID.value).cast(pl.Int64).alias("pre"),
            pl.col("state").replace_strict(
                [s.value for s in lay.STATES], list(range(4)), return_dtype=pl.Int64
            ),
            pl.col("balance_fen"),
            pl.col("credit_limit_fen"),
            (
                (pl.col("utility") == Utility.POWER.value)
                & (pl.col("billing_mode") == BillingMode.PREPAID.value)
            )
            .cast(pl.Int64)
            .alias("g"),
        )
        .to_numpy()
        .astype(np.int64)
    )
    assert codes.shape[1] == ACCOUNT_COLUMNS and AccountState.ACTIVE is lay.STATES[0]
    ids = accounts.get_column("account_id")
    bills = _indexed(bills_in, ids).sort("i", "due_on", "issued_on", "bill_id")
    masks, windows = _waiver_masks(bills, accounts, policies)
    bill_arr = _columns(
        bills.with_columns(masks.alias("mask")),
        [
            pl.col("issued_on").cast(pl.Int64),
            pl.col("due_on").cast(pl.Int64),
            pl.col("amount_fen"),
            pl.col("mask"),
            # 跨年度: the first day of a later calendar year than the due date
            pl.date(pl.col("due_on").dt.year() + 1, 1, 1).cast(pl.Int64),
        ],
    )
    pays = _indexed(payments_in, ids).sort("i", "paid_on", "paid_at", "payment_id")
    used = _indexed(usage_in, ids)
    used_key = (used.get_column("i").to_numpy().astype(np.int64) << 32) + (
        used.get_column("date").cast(pl.Int64).to_numpy() + 2**31
    )
    if used.height > 1 and not bool(np.all(used_key[1:] >= used_key[:-1])):
        used = used[np.argsort(used_key, kind="stable")]  # inputs usually come sorted
    ap_off, ap = _account_policies(accounts, policies)
    b_off = _offsets(bills.get_column("i").to_numpy(), n)
    held = hold_arrays(accounts, b_off, bill_arr)
    return Arrays(
        account_ids=accounts.get_column("account_id"),
        accounts=accounts.select(
            "account_id",
            "utility",
            pl.col("region").str.slice(0, 2).alias("province"),
            (pl.col("billing_mode") == BillingMode.PREPAID.value).alias("prepaid"),
        ),
        acc=np.ascontiguousarray(codes).reshape(n, ACCOUNT_COLUMNS),
        b_off=b_off,
        bills=np.ascontiguousarray(np.hstack([bill_arr, held.pause])),
        bill_ids=bills.get_column("bill_id"),
        bill_accounts=bills.get_column("i").to_numpy().astype(np.int64),
        windows=windows,
        p_off=_offsets(pays.get_column("i").to_numpy(), n),
        pays=_columns(pays, [pl.col("paid_on").cast(pl.Int64), pl.col("amount_fen")]),
        u_off=_offsets(used.get_column("i").to_numpy(), n),
        usage=_columns(used, [pl.col("date").cast(pl.Int64), pl.col("amount_fen")]),
        ap_off=ap_off,
        ap=np.ascontiguousarray(ap),
        pol=policy_table(policies),
        rules=rules_table(rulesets),
        policy_ids=[p.id for p in policies],
        h_off=held.h_off,
        hd=np.ascontiguousarray(held.hd),
        hold_ids=held.hold_ids,
    )
