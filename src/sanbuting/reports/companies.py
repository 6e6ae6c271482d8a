"""Which company, and which corporate group, each account of a run over files belongs to.

A run over files knows utilities, not companies. For the roll-up (docs/reports.md) a folder
may add, both optional and neither read by the engine (a run's outputs stay byte-identical):

- `companies.csv`: `company, name, group, utility, region` — one row per company: its code,
  its name (国网湖北省电力有限公司), its group (国家电网), and optionally the accounts it
  serves by default: a utility and `;`-separated GB/T 2260 prefixes ("42", "4201;4202");
- a `company` column in `accounts`: the company code of each account (overrides the rule).

An account's company is its `company` cell when given, else the companies row of its utility
whose region prefix is the longest match (a row without `region` matches the whole utility),
else its utility's default company (named after the utility, ungrouped).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sanbuting.domain import Utility
from sanbuting.errors import SanbutingError
from sanbuting.io.contract import ACCOUNTS
from sanbuting.io.readers import read_table
from sanbuting.regions import is_known
from sanbuting.reports.labels import DEFAULT_COMPANIES, WORDS, Lang

COMPANIES_FILE = "companies.csv"
COMPANY_COLUMN = "company"
COLUMNS = ("company", "name", "group", "utility", "region")
ASSIGNED_SCHEMA = {"account_id": pl.String, "company_code": pl.String}


@dataclass(frozen=True, slots=True)
class CompanyRow:
    """One row of `companies.csv`."""

    code: str
    name: str
    group: str | None
    utility: str | None
    regions: tuple[str, ...]


def read_companies(path: Path) -> list[CompanyRow]:
    """The rows of a companies file; a bad row is an error naming `file:line`."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            rows = [
                {(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SanbutingError(f"{path}: cannot be read as a UTF-8 CSV file: {exc}") from exc
    missing = [name for name in ("company", "name") if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        raise SanbutingError(
            f"{path}:1: the columns are {', '.join(COLUMNS)} (company and name required)"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    found: list[CompanyRow] = []
    for line, row in enumerate(rows, start=2):
        found.append(_company_row(row, f"{path}:{line}", {c.code for c in found}))
    return found


def _company_row(row: dict[str, str], where: str, seen: set[str]) -> CompanyRow:
    code, name = row.get("company", ""), row.get("name", "")
    if not code or not name:
        raise SanbutingError(f"{where}: give both a company code and its name")
    if code in seen:
        raise SanbutingError(f"{where}: company {code!r} is listed twice")
    utility = row.get("utility") or None
    if utility is not None and utility not in {u.value for u in Utility}:
        raise SanbutingError(f"{where}: utility {utility!r}: use power, telecom or gas")
    regions = tuple(p.strip() for p in (row.get("region") or "").split(";") if p.strip())
    bad = [p for p in regions if not is_known(p)]
    if bad:
        raise SanbutingError(f"{where}: region {bad[0]!r} is not a GB/T 2260 code such as 42")
    if regions and utility is None:
        raise SanbutingError(f"{where}: a region rule needs the utility it applies to")
    return CompanyRow(code, name, row.get("group") or None, utility, regions)


def company_column(data: Path, encoding: str | None = None) -> pl.DataFrame | None:
    """`account_id, company_code` from the accounts file's `company` column (None without
    one; empty cells are null)."""
    table = read_table(data, ACCOUNTS, encoding=encoding)
    if table is None or COMPANY_COLUMN not in table.frame.columns:
        return None
    return table.frame.select(
        pl.col("account_id").cast(pl.String),
        pl.col(COMPANY_COLUMN).cast(pl.String).alias("company_code"),
    ).filter(pl.col("account_id").is_not_null())


def assign_companies(
    accounts: pl.DataFrame,
    rows: list[CompanyRow],
    column: pl.DataFrame | None,
    lang: Lang,
) -> pl.DataFrame:
    """`account_id, company_code, company, group` for `accounts` (`account_id, utility,
    region`), by the rules of the module docstring."""
    named = {row.code for row in rows}
    rule: pl.Expr = pl.lit(None, dtype=pl.String)
    ordered = sorted(
        (row for row in rows if row.utility is not None),
        key=lambda r: max((len(p) for p in r.regions), default=0),
    )
    for row in ordered:  # shortest prefix first: a longer one overrides it
        where = pl.col("utility") == row.utility
        if row.regions:
            where &= pl.any_horizontal(pl.col("region").str.starts_with(p) for p in row.regions)
        rule = pl.when(where).then(pl.lit(row.code)).otherwise(rule)
    frame = accounts.select("account_id", "utility", "region").with_columns(rule.alias("by_rule"))
    if column is not None:
        given = column.unique("account_id", keep="first")
        unnamed = sorted(set(given.get_column("company_code").drop_nulls()) - named)
        if unnamed:
            raise SanbutingError(
                f"accounts name company {unnamed[0]!r}, which {COMPANIES_FILE} does not name: "
                "add a row company,name,group for it"
            )
        frame = frame.join(given, on="account_id", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("company_code"))
    frame = frame.with_columns(
        pl.coalesce("company_code", "by_rule", pl.lit("default:") + pl.col("utility")).alias(
            "company_code"
        )
    )
    names = pl.DataFrame(
        {
            "company_code": [r.code for r in rows]
            + [f"default:{u}" for u in DEFAULT_COMPANIES[lang]],
            "company": [r.name for r in rows] + list(DEFAULT_COMPANIES[lang].values()),
            "group": [r.group or WORDS[lang]["ungrouped"] for r in rows]
            + [WORDS[lang]["ungrouped"]] * len(DEFAULT_COMPANIES[lang]),
        },
        schema={"company_code": pl.String, "company": pl.String, "group": pl.String},
    )
    return frame.join(names, on="company_code", how="left").select(
        "account_id", "company_code", "company", "group"
    )
