"""Buckets: accounts hashed into N groups that run one after another, so an engine's working
memory is bounded by a bucket, not by the whole run. Accounts are independent and every
bucket's rows are merged and sorted the same way, so the output does not depend on N.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import polars as pl

from sanbuting.engine.frames import RunFrames, concat

Frames = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]
"""accounts, bills, payments, usage: the contract's frames."""

BUCKET_ACCOUNTS = 500_000
"""Accounts per bucket when the count is automatic."""
HASH_SEED = 2020


def automatic_buckets(accounts: int) -> int:
    return max(1, math.ceil(accounts / BUCKET_ACCOUNTS))


def bucket_of(count: int, key: pl.Expr | None = None) -> pl.Expr:
    """The bucket of each row, by a hash of its account id (`key`, default `account_id`)."""
    account = pl.col("account_id") if key is None else key
    return (account.hash(seed=HASH_SEED) % count).alias("_bucket")


def split(frames: Frames, count: int) -> list[Frames]:
    """The frames cut into `count` buckets by account (empty buckets dropped)."""
    return [(a, b, p, u) for a, b, p, u in split_tables(frames, count)]


def split_tables(tables: Sequence[pl.DataFrame], count: int) -> list[list[pl.DataFrame]]:
    """Tables keyed by `account_id` cut into `count` buckets, the same accounts in the same
    bucket of every table; a bucket is kept when the first table (the accounts) has rows in
    it, and a table with none there gets an empty frame of its columns."""
    if count <= 1:
        return [list(tables)]

    def keyed(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
        parts = frame.with_columns(bucket_of(count)).partition_by(
            "_bucket", as_dict=True, include_key=False
        )
        return {int(key[0]): part for key, part in parts.items()}

    parts = [keyed(table) for table in tables]
    return [
        [part.get(k, table.clear()) for part, table in zip(parts, tables, strict=True)]
        for k in sorted(parts[0])
    ]


def run_in_buckets(
    frames: Frames,
    count: int,
    run_one: Callable[[Frames], RunFrames],
    on_progress: Callable[[int], None] | None = None,
) -> RunFrames:
    """Run each bucket with `run_one` and merge the results."""
    results = []
    for bucket in split(frames, count):
        results.append(run_one(bucket))
        if on_progress is not None:
            on_progress(bucket[0].height)
    return results[0] if len(results) == 1 else concat(results)
