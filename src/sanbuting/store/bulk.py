"""Bulk inserts for the store's large writes (an import's rows, the ledger's postings): the
driver's own fast path inside the session's transaction, `COPY … FROM STDIN` on PostgreSQL and
`executemany` on SQLite, with values written as SQLAlchemy writes them (so the ORM reads them
back alike). Small writes go through SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def bulk_insert(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert `rows` (values in the order of `columns`) into `table`."""
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {table.name} ({names}) VALUES ({marks})", _sqlite_rows(rows)
        )
    finally:
        cursor.close()


def _sqlite_rows(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """Rows with their dates and times as SQLAlchemy's SQLite types store them (dates as ISO
    text, times as naive UTC text with microseconds); values repeat, so each is written once."""
    written: dict[Any, str] = {}
    temporal: list[int] | None = None
    for row in rows:
        if temporal is None:
            temporal = [i for i, v in enumerate(row) if isinstance(v, date)]
        if not temporal:
            yield row
            continue
        values = list(row)
        for i in temporal:
            value = values[i]
            if value is not None:
                text = written.get(value)
                if text is None:
                    text = written[value] = _sqlite_text(value)
                values[i] = text
        yield values


def _sqlite_text(value: date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()
