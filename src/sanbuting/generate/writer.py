"""Writing the generated tables block by block: CSV (one header, then each block appended) or
Parquet (one row group per block, through pyarrow's streaming writer), with exactly the
contract's columns in the contract's order. Nothing here depends on the clock or the machine,
so the same frames give the same bytes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO, Any, Literal

import polars as pl
import pyarrow.parquet as pq

from sanbuting.errors import SanbutingError
from sanbuting.io.contract import LOCAL_TIME

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")

OUTPUT_SCHEMAS: dict[str, pl.Schema] = {
    "accounts": pl.Schema(
        {
            "account_id": pl.String(),
            "utility": pl.String(),
            "customer_class": pl.String(),
            "region": pl.String(),
            "billing_mode": pl.String(),
            "tags": pl.String(),
            "state": pl.String(),
            "balance_fen": pl.Int64(),
            "credit_limit_fen": pl.Int64(),
            "phone": pl.String(),
        }
    ),
    "bills": pl.Schema(
        {
            "bill_id": pl.String(),
            "account_id": pl.String(),
            "period": pl.String(),
            "issued_on": pl.Date(),
            "due_on": pl.Date(),
            "amount_fen": pl.Int64(),
        }
    ),
    "payments": pl.Schema(
        {
            "payment_id": pl.String(),
            "account_id": pl.String(),
            "paid_at": LOCAL_TIME,
            "amount_fen": pl.Int64(),
            "channel": pl.String(),
        }
    ),
    "usage": pl.Schema({"account_id": pl.String(), "date": pl.Date(), "amount_fen": pl.Int64()}),
}
"""What each file holds, in the contract's column order (`tags` as `;`-joined text, `paid_at`
as an Asia/Shanghai timestamp, written to CSV as ISO 8601 with its +08:00 offset)."""

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"


def conflicting_files(folder: Path, fmt: Format) -> list[Path]:
    """Input files of the other format already in `folder`: the reader would refuse a folder
    holding both ``accounts.csv`` and ``accounts.parquet``."""
    others = [ext for ext in FORMATS if ext != fmt]
    return [
        folder / f"{name}.{ext}"
        for name in OUTPUT_SCHEMAS
        for ext in others
        if (folder / f"{name}.{ext}").exists()
    ]


class TableWriter:
    """One output file, written a block at a time; `close` writes the header of a table that
    received no rows."""

    def __init__(self, folder: Path, name: str, fmt: Format) -> None:
        self.path = folder / f"{name}.{fmt}"
        self.schema = OUTPUT_SCHEMAS[name]
        self.format = fmt
        self.rows = 0
        self._csv: IO[bytes] | None = None
        self._parquet: Any = None

    def write(self, frame: pl.DataFrame) -> None:
        frame = frame.select(self.schema.names()).cast(self.schema)
        self.rows += frame.height
        if self.format == "csv":
            self._write_csv(frame)
        else:
            self._write_parquet(frame)

    def _write_csv(self, frame: pl.DataFrame) -> None:
        first = self._csv is None
        if self._csv is None:
            self._csv = self._open()
        text = frame.with_columns(
            pl.col(name).dt.to_string(TIMESTAMP_FORMAT)
            for name, dtype in self.schema.items()
            if isinstance(dtype, pl.Datetime)
        )
        text.write_csv(self._csv, include_header=first, line_terminator="\n")

    def _write_parquet(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._parquet is None:
            try:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            except OSError as exc:
                raise SanbutingError(f"{self.path}: cannot be written ({exc})") from exc
        if table.num_rows:
            self._parquet.write_table(table)

    def _open(self) -> IO[bytes]:
        try:
            return self.path.open("wb")
        except OSError as exc:
            raise SanbutingError(f"{self.path}: cannot be written ({exc.strerror})") from exc

    def close(self) -> None:
        if self._csv is None and self._parquet is None:
            self.write(pl.DataFrame(schema=self.schema))
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def abandon(self) -> None:
        """Close the file after a failure, writing nothing more."""
        with contextlib.suppress(OSError):
            if self._csv is not None:
                self._csv.close()
            if self._parquet is not None:
                self._parquet.close()
        self._csv = self._parquet = None


class Writers:
    """The four input tables of one folder."""

    def __init__(self, folder: Path, fmt: Format) -> None:
        self.tables = {name: TableWriter(folder, name, fmt) for name in OUTPUT_SCHEMAS}

    def write(self, name: str, frame: pl.DataFrame) -> None:
        self.tables[name].write(frame)

    def close(self) -> dict[str, int]:
        """Close every file; return the rows written per table."""
        for writer in self.tables.values():
            writer.close()
        return {name: writer.rows for name, writer in self.tables.items()}

    def abandon(self) -> None:
        """Close whatever is open after a failure, ignoring further errors."""
        for writer in self.tables.values():
            writer.abandon()

    def paths(self) -> list[Path]:
        return [writer.path for writer in self.tables.values()]
