"""Reading a large input bucket by bucket, so that memory holds one bucket, not the input.

`partition_inputs` streams every input file once (Polars `sink_parquet` with `PartitionBy`)
into co-partitioned Parquet: a row goes to the bucket of a hash of its trimmed `account_id`
and keeps its own line number, so an account's bills, payments and usage are always in its
bucket. `Partitioned.check(k)` then checks bucket `k` exactly as `read_inputs` checks a whole
folder, with the original file names and lines in every reject.

A CSV file in another encoding than UTF-8 is transcoded once into `work` first
(`sanbuting.io.encodings`), and the copy is what the partition pass reads.

Checks that look across accounts (a `bill_id` or `payment_id` used by two accounts, which
may sit in two buckets) cannot be made one bucket at a time; when the input has such ids, or
a file the partition pass cannot read, `partition_inputs` returns None and the caller reads
the whole folder instead: the answer is the same either way, only the memory differs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sanbuting.engine.buckets import bucket_of
from sanbuting.errors import InputFileError
from sanbuting.io.contract import BILLS, HOLDS, PAYMENTS, TABLES, TableSpec
from sanbuting.io.encodings import chosen_encoding, prepare
from sanbuting.io.readers import (
    EXTENSIONS,
    Inputs,
    Table,
    check_tables,
    csv_header,
    parquet_columns,
)
from sanbuting.io.shape import without_blank_lines
from sanbuting.io.typed import LINE, trimmed

HASH_SEED = 2020


@dataclass(frozen=True)
class Source:
    """One input file: where it is, its form, the line of its header, its sha256, and the
    file to read (itself, or its UTF-8 copy)."""

    spec: TableSpec
    path: Path
    csv: bool
    digest: str
    read_path: Path

    @property
    def header_line(self) -> int:
        return 1 if self.csv else 0


@dataclass(frozen=True)
class Partitioned:
    """An input folder cut into `buckets` co-partitioned buckets under `work`."""

    sources: dict[str, Source]
    work: Path
    buckets: int

    @property
    def files(self) -> dict[str, str]:
        return {source.path.name: source.digest for source in self.sources.values()}

    def check(self, bucket: int) -> Inputs:
        """Bucket `bucket` read and checked: its loaded frames and its rejects."""
        tables: dict[str, Table | None] = {spec.name: None for spec in TABLES}
        for name, source in self.sources.items():
            parts = sorted((self.work / name / f"_bucket={bucket}").glob("*.parquet"))
            raw = pl.read_parquet(parts or [self.work / "_empty" / f"{name}.parquet"])
            if source.csv:
                trimmed_text = raw.select(
                    [trimmed(pl.col(c)).alias(c) for c in raw.columns if c != LINE] + [LINE]
                )
                frame = without_blank_lines(trimmed_text.rechunk(), source.read_path)
            else:
                frame = parquet_columns(raw, source.spec, source.path.name).rechunk()
            tables[name] = Table(source.path.name, frame, source.header_line, source.digest)
        return check_tables(tables)


def _sources(folder: Path, encoding: str, scratch: Path) -> dict[str, Source] | None:
    sources = {}
    for spec in TABLES:
        present = [
            folder / f"{spec.name}.{ext}"
            for ext in EXTENSIONS
            if (folder / f"{spec.name}.{ext}").is_file()
        ]
        if len(present) > 1 or (not present and spec.required_file):
            return None  # the whole-folder reader says what is wrong
        if present:
            path = present[0]
            try:
                prepared = prepare(path, encoding, scratch)
            except InputFileError:
                return None  # the whole-folder reader says what is wrong
            csv = path.suffix == ".csv"
            sources[spec.name] = Source(spec, path, csv, prepared.digest, prepared.path)
    return sources


def _scan(source: Source) -> pl.LazyFrame:
    """The file as a lazy frame with its header's trimmed names."""
    if source.csv:
        names = csv_header(source.read_path, source.path.name)
        scan = pl.scan_csv(source.read_path, infer_schema=False)
        if len(scan.collect_schema().names()) != len(names):
            raise InputFileError(f"{source.path.name}: the header is malformed")
        return scan.rename(dict(zip(scan.collect_schema().names(), names, strict=True)))
    scan = pl.scan_parquet(source.path)
    return scan.rename({c: c.strip() for c in scan.collect_schema().names()})


ACCOUNT_KEY = pl.col("account_id").cast(pl.String).str.strip_chars()
"""A raw row's account id as the checks will see it (text, trimmed)."""


def _ids_shared_across_accounts(partitioned: Partitioned) -> bool:
    """Whether some `bill_id` or `payment_id` is used by rows of more than one bucket (by
    64-bit hashes of the ids: a collision only sends the input to the whole-folder reader)."""
    for spec, key in ((BILLS, "bill_id"), (PAYMENTS, "payment_id"), (HOLDS, "hold_id")):
        if spec.name not in partitioned.sources:
            continue
        rows = pl.scan_parquet(
            partitioned.work / spec.name / "**" / "*.parquet", hive_partitioning=True
        )
        trimmed_id = pl.col(key).cast(pl.String).str.strip_chars()
        spread = (
            rows.filter(trimmed_id.is_not_null() & (trimmed_id != ""))
            .select(trimmed_id.hash(seed=HASH_SEED).alias("id"), pl.col("_bucket"))
            .group_by("id")
            .agg(pl.col("_bucket").n_unique().alias("buckets"))
            .filter(pl.col("buckets") > 1)
            .limit(1)
            .collect()
        )
        if spread.height:
            return True
    return False


def partition_inputs(
    folder: Path, work: Path, buckets: int, *, encoding: str | None = None
) -> Partitioned | None:
    """Stream the input folder into `buckets` buckets under `work` (replaced), or None when it
    must be read whole (see the module docstring). Its CSV files are text of `encoding`
    (default: UTF-8)."""
    shutil.rmtree(work, ignore_errors=True)
    sources = _sources(folder, chosen_encoding(encoding), work / "_utf8")
    if sources is None:
        return None
    try:
        for name, source in sources.items():
            scan = _scan(source)
            columns = scan.collect_schema().names()
            if any(c not in columns for c in source.spec.required_columns):
                return None
            lined = scan.with_row_index(LINE, offset=source.header_line + 1).with_columns(
                pl.col(LINE).cast(pl.Int64)
            )
            lined.with_columns(bucket_of(buckets, ACCOUNT_KEY)).sink_parquet(
                pl.PartitionBy(work / name, key="_bucket", include_key=False), mkdir=True
            )
            (work / "_empty").mkdir(parents=True, exist_ok=True)
            lined.head(0).collect().write_parquet(work / "_empty" / f"{name}.parquet")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, InputFileError):
        return None
    partitioned = Partitioned(sources, work, buckets)
    return None if _ids_shared_across_accounts(partitioned) else partitioned
