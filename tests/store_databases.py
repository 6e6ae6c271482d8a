"""The databases the store's tests run on: SQLite in a temporary file, and PostgreSQL in a
schema of its own on `SANBUTING_TEST_DATABASE_URL` (set by `.ci/run` and `make test`), so that
parallel tests never meet. Without that variable the PostgreSQL cases are skipped."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sanbuting.jobs.importing import ImportOutcome, import_and_book

BACKENDS = ("sqlite", "postgresql")


def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of `backend`, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get("SANBUTING_TEST_DATABASE_URL")
    if not base:
        pytest.skip("SANBUTING_TEST_DATABASE_URL is not set (make test sets it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def write_folder(folder: Path, **tables: str) -> Path:
    """An input folder from literal CSV tables (`accounts="..."`, indentation and blank lines
    dropped)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        body = [line.strip() for line in textwrap.dedent(table).splitlines() if line.strip()]
        (folder / f"{name}.csv").write_text("\n".join(body) + "\n", encoding="utf-8")
    return folder


def import_into(
    url: str, folder: Path, tmp_path: Path, start: date = date(2020, 1, 1)
) -> ImportOutcome:
    """`db import` of `folder` into the store at `url` (as by "test"), every row accepted."""
    outcome = import_and_book(
        data=folder,
        start=start,
        company=None,
        by="test",
        allow_rejects=False,
        rejects_file=tmp_path / "rejects.csv",
        url=url,
    )
    assert not outcome.refused and not outcome.imported.rejects, outcome
    return outcome
