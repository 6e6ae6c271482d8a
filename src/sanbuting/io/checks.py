"""Checking one input table: one quick pass over every row, the exact reasons for the few rows
it finds suspect.

`check_table` takes a table as read: each contract column as trimmed text or as typed values
(see `sanbuting.io.typed`), plus `LINE`. The quick pass parses every column to its loaded
dtype and gives each row one flag: a value fails its check, a date comes before the one it
may not precede, the row names an account it may not, or it repeats an earlier row's key.
These are columnar tests on the loaded values, with no reason text and no window over the
table; a repeated key is found without hashing when the rows come sorted by it. Only the
flagged rows, with the other rows sharing their keys, are then written out as text and
checked by `sanbuting.io.reasons`, which gives every problem its reject exactly as it would
for the whole table; the rows it refuses are dropped from the parsed table. A clean table is
never turned into text at all.
"""

from __future__ import annotations

import polars as pl

from sanbuting.io.contract import TableSpec
from sanbuting.io.reasons import REJECTED, STATUS, Accounts, Checked, check_text, loaded_columns
from sanbuting.io.typed import LINE, as_text, is_text, parse, parsed, passes, trimmed

_SUSPECT = "__suspect"
_SAME = "__same"
_UP = "__up"


def check_table(
    frame: pl.DataFrame, spec: TableSpec, *, file: str, accounts: Accounts | None
) -> Checked:
    """Check `frame` (every column of `spec`, as text or typed values, plus `LINE`) and return
    the loaded rows in input order with the rejects of the others."""
    schema = frame.schema
    # A reference to an account that is not a valid id names no loaded account: the test of
    # the reference below finds it, so its id checks are not run again on every row.
    reference = spec.account_ref if accounts is not None else None
    suspect = [
        ~passes(column, schema[column.name], values=column.name != reference)
        for column in spec.columns
    ]
    suspect.extend(
        (pl.col(parsed(later)) < pl.col(parsed(earlier))).fill_null(False)
        for later, earlier in spec.not_before
    )
    if spec.account_ref is not None and accounts is not None:
        suspect.append(_account_refused(spec.account_ref, accounts, spec.only_mode))
    checked = (
        frame.lazy()
        .with_columns(parse(column, schema[column.name]) for column in spec.columns)
        .with_columns(pl.any_horizontal(suspect).alias(_SUSPECT))
        .collect()
    )
    chosen = checked.get_column(_SUSPECT)
    for key in _keys(spec):
        together = repeated(checked, key)
        if together is not None:
            chosen = chosen | together
    loaded = checked.select(loaded_columns(spec)).cast(spec.schema)
    if not chosen.any():
        empty = pl.DataFrame(
            schema={**{column.name: pl.String() for column in spec.columns}, LINE: pl.Int64}
        )
        return Checked(loaded, [], 0, refused=empty)

    verdict = check_text(_as_text(frame.filter(chosen), spec), spec, file=file, accounts=accounts)
    dropped = verdict.refused.get_column(LINE)
    if not dropped.is_empty():
        loaded = loaded.filter(~checked.get_column(LINE).is_in(dropped.implode()))
    return Checked(loaded, verdict.rejects, verdict.ignored, verdict.refused)


def _as_text(rows: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """`rows` with their typed columns written out as text, as a file of text would hold them."""
    schema = rows.schema
    return rows.select(
        *(
            pl.col(name) if is_text(schema[name]) else trimmed(as_text(pl.col(name), schema[name]))
            for name in (column.name for column in spec.columns)
        ),
        LINE,
    )


def _account_refused(name: str, accounts: Accounts, only_mode: str | None) -> pl.Expr:
    """Per row, whether the account named in column `name` is unknown, was rejected, or
    (with `only_mode`) is of the other billing mode."""
    status = pl.col(STATUS)
    usable = accounts.status.filter(status == only_mode if only_mode else status != REJECTED)
    account = pl.col(name)
    return account.is_not_null() & ~account.is_in(usable.get_column("account_id").implode())


def _keys(spec: TableSpec) -> list[tuple[str, ...]]:
    """The keys a row may not repeat: the unique key, and the idempotency key (whose repeats
    are no-ops or rejects, settled by `sanbuting.io.reasons`)."""
    keys = [spec.unique_key] if spec.unique_key else []
    if spec.idempotency_key is not None:
        keys.append((spec.idempotency_key,))
    return keys


# --- repeated keys --------------------------------------------------------------------------


def repeated(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.Series | None:
    """Per row of `frame`, whether another row has the same `key` (a key with an empty part
    never counts); None when no row does, the usual case. Rows sorted by their key (in its
    column order or the reverse) are compared with their neighbours; others are hashed."""
    if frame.height < 2:
        return None
    columns = frame.select(key)
    if not any(columns.null_count().row(0)):
        for order in dict.fromkeys((key, key[::-1])):
            again = _repeats_if_sorted(columns, order)
            if again is not None:
                # The first row of a run of equal keys comes just before its first repeat.
                return (again | again.shift(-1, fill_value=False)) if again.any() else None
    whole = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    if columns.select(whole.hash()).to_series().n_unique() == frame.height:
        return None  # every key different
    present = pl.all_horizontal(pl.col(name).is_not_null() for name in key)
    again = columns.select(present & ~whole.is_first_distinct()).to_series()
    if not again.any():
        return None
    repeats = columns.filter(again).unique()
    return columns.select(
        pl.struct(key).is_in(repeats.select(pl.struct(key)).to_series().implode())
    ).to_series()


def _repeats_if_sorted(columns: pl.DataFrame, order: tuple[str, ...]) -> pl.Series | None:
    """When the rows (without nulls) are sorted by the columns `order`, so that equal keys are
    next to each other: per row, whether it repeats the row before. None when not sorted."""
    if not columns.get_column(order[0]).is_sorted():
        return None
    # Sorted by `order` when, in every row equal to the row before in the first columns, the
    # next column does not go down.
    same = pl.col(order[0]) == pl.col(order[0]).shift()
    plan = columns.lazy().select(
        *order, same.fill_null(False).alias(_SAME), pl.lit(True).alias(_UP)
    )
    for name in order[1:]:
        now, before = pl.col(name), pl.col(name).shift()
        plan = plan.with_columns(
            (pl.col(_UP) & (~pl.col(_SAME) | (now >= before).fill_null(True))).alias(_UP),
            (pl.col(_SAME) & (now == before).fill_null(False)).alias(_SAME),
        )
    found = plan.select(_SAME, pl.col(_UP).all().alias(_UP)).collect()
    return found.get_column(_SAME) if found.item(0, _UP) else None
