"""Reading an input folder: `accounts`, `bills`, `payments` and `usage`, each as CSV or Parquet.

`read_inputs(folder)` finds the files and reads them: every CSV cell as text (`infer_schema=
False`), trimmed, null when empty; a Parquet column already of the contract's type as its
typed values, any other Parquet column as the text a CSV would hold (`sanbuting.io.typed`).
It checks them against the contract (`sanbuting.io.contract`, `sanbuting.io.checks`): rows
that break it become rejects, the same ones whichever form the file came in; the rest load
into frames of the contract's dtypes, in input order. A file that cannot be read at all is an
`InputFileError` naming it.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sanbuting.errors import InputFileError
from sanbuting.io.checks import check_table
from sanbuting.io.contract import ACCOUNTS, BILLS, PAYMENTS, TABLES, USAGE, TableSpec
from sanbuting.io.reasons import Accounts, Checked, accounts_of
from sanbuting.io.rejects import Reject, sorted_rejects
from sanbuting.io.typed import LINE, as_text, trimmed, typed_form

EXTENSIONS = ("csv", "parquet")
_SNIFF_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Inputs:
    """One input folder, checked: the loaded frames, the rejects, and what was read.

    `files` maps each file read (e.g. ``"bills.csv"``) to the sha256 hex of its bytes;
    `rows_read` maps it to its number of data rows (blank lines not counted);
    `duplicate_payments_ignored` counts repeated payments with the same id and content,
    dropped as no-ops without a reject.
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

    def loaded(self, table: str) -> int:
        """How many rows of `table` (accounts, bills, payments, usage) were loaded."""
        if self.loaded_rows is not None:
            return self.loaded_rows.get(table, 0)
        frame: pl.DataFrame = getattr(self, table)
        return frame.height


@dataclass(frozen=True, slots=True)
class Table:
    """A file as read: its columns (trimmed text, null when empty, or typed values) and
    `LINE`, without its blank rows; the line of its header and the sha256 of its bytes."""

    file: str
    frame: pl.DataFrame
    header_line: int
    digest: str


def read_inputs(folder: Path) -> Inputs:
    """Read and check the input folder `folder` (see the module docstring)."""
    if not folder.is_dir():
        raise InputFileError(
            f"{folder}: no such input folder (give the folder holding accounts.csv)"
        )
    return check_tables({spec.name: _read_table(folder, spec) for spec in TABLES})


def check_tables(tables: dict[str, Table | None]) -> Inputs:
    """Check tables as read (by `read_inputs`, or one bucket of a partitioned input)."""
    rejects: list[Reject] = []

    def check(spec: TableSpec, accounts: Accounts | None) -> Checked:
        table = tables[spec.name]
        if table is None:
            return Checked(spec.empty(), [], 0, refused=pl.DataFrame())
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
        frame = table.frame.with_columns(
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
    )


def read_table(folder: Path, spec: TableSpec) -> Table | None:
    """One input file as read, unchecked, each row with its `LINE` (None when an optional file
    is absent): to point at the line of a row refused later, e.g. by the store."""
    return _read_table(folder, spec)


def _read_table(folder: Path, spec: TableSpec) -> Table | None:
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
    digest, head = _sha256(path)
    if path.suffix == ".csv":
        text = _read_csv(path, head)
        frame = text.select(trimmed(pl.col(name)).alias(name) for name in text.columns)
        header_line = 1
    else:
        frame = _read_parquet(path, spec)
        header_line = 0
    return Table(path.name, _lined(frame, first_line=header_line + 1), header_line, digest)


def sha256_of(path: Path) -> str:
    """The sha256 hex of a file's bytes."""
    return _sha256(path)[0]


def csv_header(path: Path) -> list[str]:
    """The trimmed column names of a CSV file's header (errors as `read_inputs` gives them)."""
    return _csv_header(path)


def _sha256(path: Path) -> tuple[str, bytes]:
    """The sha256 hex of the file's bytes, and its first bytes (to sniff binary content)."""
    digest = hashlib.sha256()
    head = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if not head:
                    head = chunk[:_SNIFF_BYTES]
                digest.update(chunk)
    except OSError as exc:
        raise InputFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    return digest.hexdigest(), head


def _read_csv(path: Path, head: bytes) -> pl.DataFrame:
    if b"\x00" in head:
        raise InputFileError(f"{path.name}: not CSV text (it holds binary data)")
    header = _csv_header(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, raise_if_empty=True)
    except pl.exceptions.PolarsError as exc:
        reason = _first_line(exc)
        if "utf-8" in reason.lower():
            reason = f"not UTF-8 text ({reason}): save the file as UTF-8"
        raise InputFileError(f"{path.name}: cannot be read as CSV: {reason}") from exc
    if len(frame.columns) != len(header):
        raise InputFileError(f"{path.name}: cannot be read as CSV: the header is malformed")
    return frame.rename(dict(zip(frame.columns, header, strict=True)))


def _csv_header(path: Path) -> list[str]:
    """The header's column names, trimmed; an empty file or a repeated name is an error."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path.name}: not UTF-8 text (byte {exc.start} of the first line): "
            "save the file as UTF-8"
        ) from exc
    except csv.Error as exc:
        raise InputFileError(f"{path.name}: cannot be read as CSV: {exc}") from exc
    if not header:
        raise InputFileError(f"{path.name}: empty file: expected a header line naming the columns")
    # Unnamed columns (trailing commas of a spreadsheet export) are extra columns, ignored.
    names = [name.strip() or f"__unnamed_{i}" for i, name in enumerate(header)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputFileError(f"{path.name}: column {repeated[0]!r} appears twice in the header")
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
        raise InputFileError(f"{path.name}: column {repeated[0]!r} appears twice")
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
    otherwise be gathered again by every step); rows with no value at all (blank lines)
    dropped."""
    lines = pl.int_range(first_line, pl.len() + first_line, dtype=pl.Int64).alias(LINE)
    return without_blank_rows(frame.rechunk().with_columns(lines))


def without_blank_rows(lined: pl.DataFrame) -> pl.DataFrame:
    """Rows with no value at all (blank lines) dropped; `LINE` keeps every row's own line."""
    values = [name for name in lined.columns if name != LINE]
    if not values:
        return lined
    blank = pl.all_horizontal(pl.col(name).is_null() for name in values)
    if not lined.select(blank.any()).item():
        return lined
    return lined.filter(~blank)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
