"""Reading an input folder: `accounts`, `bills`, `payments` and `usage`, each as CSV or Parquet.

`read_inputs(folder)` finds the files and reads them: every CSV cell as text (`infer_schema=
False`), trimmed, null when empty; a Parquet column already of the contract's type as its
typed values, any other Parquet column as the text a CSV would hold (`sanbuting.io.typed`).
A CSV file is UTF-8 unless an `encoding` says otherwise (`sanbuting.io.encodings`); blank
lines are skipped, rows of only separators rejected, columns the contract does not have
ignored with a warning (`sanbuting.io.shape`). It checks the rows against the contract
(`sanbuting.io.contract`, `sanbuting.io.checks`): rows that break it become rejects, the same
ones whichever form the file came in; the rest load into frames of the contract's dtypes, in
input order. A file that cannot be read at all is an `InputFileError` naming it.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from sanbuting.errors import InputFileError
from sanbuting.io.checks import check_table
from sanbuting.io.contract import ACCOUNTS, BILLS, HOLDS, PAYMENTS, TABLES, USAGE, TableSpec
from sanbuting.io.encodings import chosen_encoding, prepare
from sanbuting.io.holds import check_holds
from sanbuting.io.reasons import Accounts, Checked, accounts_of
from sanbuting.io.rejects import Reject, sorted_rejects
from sanbuting.io.shape import UNNAMED, rows_with_values, unknown_columns, without_blank_lines
from sanbuting.io.texts import shown
from sanbuting.io.typed import LINE, as_text, trimmed, typed_form

EXTENSIONS = ("csv", "parquet")


@dataclass(frozen=True)
class Inputs:
    """One input folder, checked: the loaded frames, the rejects, and what was read.

    `files` maps each file read (e.g. ``"bills.csv"``) to the sha256 hex of its bytes;
    `rows_read` maps it to its number of data rows (blank lines not counted);
    `duplicate_payments_ignored` counts repeated payments with the same id and content,
    dropped as no-ops without a reject; `warnings` name what was read but ignored (a column
    the contract does not have), one line each, to be shown to whoever gave the files.
    """

    accounts: pl.DataFrame
    bills: pl.DataFrame
    payments: pl.DataFrame
    usage: pl.DataFrame
    rejects: list[Reject]
    files: dict[str, str]
    rows_read: dict[str, int]
    duplicate_payments_ignored: int = 0
    loaded_rows: dict[str, int] | None = None
    """Rows loaded per table when the frames are not held (an input checked bucket by
    bucket); otherwise the frames' heights."""
    warnings: tuple[str, ...] = ()
    holds: pl.DataFrame = field(default_factory=HOLDS.empty)
    """Account relief (docs/account-relief.md): empty without a `holds` file."""

    def loaded(self, table: str) -> int:
        """How many rows of `table` (accounts, bills, payments, usage) were loaded."""
        if self.loaded_rows is not None:
            return self.loaded_rows.get(table, 0)
        frame: pl.DataFrame = getattr(self, table)
        return frame.height


@dataclass(frozen=True, slots=True)
class Table:
    """A file as read: its columns (trimmed text, null when empty, or typed values) and
    `LINE`, without the blank lines of a CSV file; the line of its header and the sha256 of
    its bytes."""

    file: str
    frame: pl.DataFrame
    header_line: int
    digest: str


def read_inputs(folder: Path, *, encoding: str | None = None) -> Inputs:
    """Read and check the input folder `folder` (see the module docstring); its CSV files are
    text of `encoding` (default: UTF-8)."""
    if not folder.is_dir():
        raise InputFileError(
            f"{folder}: no such input folder (give the folder holding accounts.csv)"
        )
    codec = chosen_encoding(encoding)
    with tempfile.TemporaryDirectory(prefix="sanbuting-inputs-") as scratch:
        tables = {spec.name: _read_table(folder, spec, codec, Path(scratch)) for spec in TABLES}
    return check_tables(tables)


def check_tables(tables: dict[str, Table | None]) -> Inputs:
    """Check tables as read (by `read_inputs`, or one bucket of a partitioned input)."""
    rejects: list[Reject] = []
    warnings: list[str] = []

    def check(spec: TableSpec, accounts: Accounts | None) -> Checked:
        table = tables.get(spec.name)
        if table is None:
            return Checked(spec.empty(), [], 0, refused=pl.DataFrame())
        warnings.extend(unknown_columns(table.frame.columns, spec, table.file))
        missing = [name for name in spec.required_columns if name not in table.frame.columns]
        if missing:
            rows = table.frame.height
            rejects.extend(
                Reject(
                    file=table.file,
                    line=table.header_line,
                    column=name,
                    value="",
                    reason=f"required column missing; none of the {rows} rows of this file "
                    "can be loaded",
                )
                for name in missing
            )
            return Checked(spec.empty(), [], 0, refused=table.frame)
        with_values, empty = rows_with_values(table.frame, table.file)
        rejects.extend(empty)
        frame = with_values.with_columns(
            pl.lit(None, dtype=pl.String).alias(column.name)
            for column in spec.columns
            if column.name not in table.frame.columns
        )
        result = check_table(frame, spec, file=table.file, accounts=accounts)
        rejects.extend(result.rejects)
        return result

    accounts = check(ACCOUNTS, None)
    accounts_table = tables[ACCOUNTS.name]
    assert accounts_table is not None  # a required file: _read_table raised otherwise
    known = accounts_of(accounts.refused, accounts.frame, accounts_table.file)
    bills = check(BILLS, known)
    payments = check(PAYMENTS, known)
    usage = check(USAGE, known)
    holds_table = tables.get(HOLDS.name)
    if holds_table is not None:
        kept, refused = check_holds(holds_table.frame, holds_table.file, known)
        rejects.extend(refused)
        tables[HOLDS.name] = replace(holds_table, frame=kept)
    holds = check(HOLDS, known)
    read = [table for table in tables.values() if table is not None]
    return Inputs(
        accounts=accounts.frame,
        bills=bills.frame,
        payments=payments.frame,
        usage=usage.frame,
        rejects=sorted_rejects(rejects),
        files={table.file: table.digest for table in read},
        rows_read={table.file: table.frame.height for table in read},
        duplicate_payments_ignored=payments.ignored,
        warnings=tuple(warnings),
        holds=holds.frame,
    )


def read_table(folder: Path, spec: TableSpec, *, encoding: str | None = None) -> Table | None:
    """One input file as read, unchecked, each row with its `LINE` (None when an optional file
    is absent): to point at the line of a row refused later, e.g. by the store."""
    with tempfile.TemporaryDirectory(prefix="sanbuting-inputs-") as scratch:
        return _read_table(folder, spec, chosen_encoding(encoding), Path(scratch))


def _read_table(folder: Path, spec: TableSpec, encoding: str, scratch: Path) -> Table | None:
    """The table's file as read, or None for an absent optional file."""
    found = [folder / f"{spec.name}.{ext}" for ext in EXTENSIONS]
    present = [path for path in found if path.is_file()]
    if len(present) > 1:
        raise InputFileError(
            f"{present[0].name} and {present[1].name} are both in {folder}: keep only one"
        )
    if not present:
        if spec.required_file:
            raise InputFileError(
                f"{spec.name}.csv is missing from {folder} (or give {spec.name}.parquet)"
            )
        return None
    path = present[0]
    prepared = prepare(path, encoding, scratch)
    if path.suffix == ".csv":
        text = _read_csv(prepared.path, path.name)
        frame = text.select(trimmed(pl.col(name)).alias(name) for name in text.columns)
        lined = without_blank_lines(_lined(frame, first_line=2), prepared.path)
        return Table(path.name, lined, 1, prepared.digest)
    frame = _read_parquet(path, spec)
    return Table(path.name, _lined(frame, first_line=1), 0, prepared.digest)


def csv_header(path: Path, file: str | None = None) -> list[str]:
    """The trimmed column names of the header of the UTF-8 CSV file `path` (errors as
    `read_inputs` gives them, naming `file`, by default the file's own name)."""
    return _csv_header(path, file or path.name)


def _read_csv(path: Path, file: str) -> pl.DataFrame:
    """The UTF-8 CSV file `path` (the input `file`, or its UTF-8 copy), every cell as text."""
    header = _csv_header(path, file)
    try:
        frame = pl.read_csv(path, infer_schema=False, raise_if_empty=True)
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(f"{file}: cannot be read as CSV: {_first_line(exc)}") from exc
    if len(frame.columns) != len(header):
        raise InputFileError(f"{file}: cannot be read as CSV: the header is malformed")
    return frame.rename(dict(zip(frame.columns, header, strict=True)))


def _csv_header(path: Path, file: str) -> list[str]:
    """The header's column names, trimmed; an empty file or a repeated name is an error."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:  # `encodings.prepare` checked the file: not expected
        raise InputFileError(f"{file}:1: not UTF-8 text: save it as UTF-8") from exc
    except csv.Error as exc:
        raise InputFileError(f"{file}: cannot be read as CSV: {exc}") from exc
    if not header:
        raise InputFileError(f"{file}: empty file: expected a header line naming the columns")
    # Unnamed columns (trailing commas of a spreadsheet export) are extra columns, ignored.
    names = [name.strip() or f"{UNNAMED}{i}" for i, name in enumerate(header)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputFileError(
            f"{file}: column {shown(repeated[0])!r} appears twice in the header: keep one"
        )
    return names


def _read_parquet(path: Path, spec: TableSpec) -> pl.DataFrame:
    """The file's columns, each as typed values when `typed_form` admits it, else as text."""
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputFileError(f"{path.name}: cannot be read as Parquet: {_first_line(exc)}") from exc
    return parquet_columns(frame, spec, path.name)


def parquet_columns(frame: pl.DataFrame, spec: TableSpec, file: str) -> pl.DataFrame:
    """A Parquet file's columns as the checks take them: typed where `typed_form` admits it,
    else trimmed text (`LINE`, when the frame carries it, is kept as it is)."""
    path = Path(file)
    names = [name.strip() for name in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputFileError(f"{path.name}: column {shown(repeated[0])!r} appears twice: keep one")
    contract = {column.name: column for column in spec.columns}
    columns = [
        pl.col(values.name).alias(name)
        if name == LINE or typed_form(contract.get(name), values)
        else trimmed(as_text(pl.col(values.name), values.dtype)).alias(name)
        for name, values in zip(names, frame.iter_columns(), strict=True)
    ]
    try:
        return frame.select(columns)
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(f"{path.name}: cannot be read as text: {_first_line(exc)}") from exc


def _lined(frame: pl.DataFrame, *, first_line: int) -> pl.DataFrame:
    """`frame` with the line of each row, in one chunk (a Parquet file's row groups would
    otherwise be gathered again by every step)."""
    lines = pl.int_range(first_line, pl.len() + first_line, dtype=pl.Int64).alias(LINE)
    return frame.rechunk().with_columns(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
