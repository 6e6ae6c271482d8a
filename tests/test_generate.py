"""`sanbuting generate`: deterministic, accepted by the reader with no rejects, and shaped like
the population the brief describes (regions, utilities, modes, tags, payers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.errors import SanbutingError
from sanbuting.generate import GenerateRequest, generate
from sanbuting.generate.population import PROVINCE_PERMILLE, district_weights
from sanbuting.generate.writer import OUTPUT_SCHEMAS
from sanbuting.io.contract import TABLES
from sanbuting.io.readers import Inputs, read_inputs

NAMES = ("accounts", "bills", "payments", "usage")
START = date(2020, 1, 1)
END = date(2020, 3, 31)


def _generate(folder: Path, accounts: int, seed: int, **options: object) -> Path:
    generate(GenerateRequest(accounts=accounts, out=folder, seed=seed, **options))  # type: ignore[arg-type]
    return folder


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 accounts, default period: big enough for the shares to show."""
    return _generate(tmp_path_factory.mktemp("sample"), 3000, 2)


@pytest.fixture(scope="module")
def sample(sample_folder: Path) -> Inputs:
    return read_inputs(sample_folder)


def _bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


# --- determinism and the contract ---------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, file_format: str) -> None:
    first = _generate(tmp_path / "a", 500, 5, format=file_format)
    second = _generate(tmp_path / "b", 500, 5, format=file_format)
    assert sorted(p.name for p in first.iterdir()) == [f"{n}.{file_format}" for n in sorted(NAMES)]
    assert _bytes(first) == _bytes(second)


def test_same_bytes_in_another_process(tmp_path: Path) -> None:
    """Nothing depends on the process (string hashing, set order): a fresh interpreter with
    another hash seed writes the same bytes."""
    here = _generate(tmp_path / "here", 300, 9)
    there = tmp_path / "there"
    code = (
        "import sys; from pathlib import Path; "
        "from sanbuting.generate import GenerateRequest, generate; "
        "generate(GenerateRequest(accounts=300, out=Path(sys.argv[1]), seed=9))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(there)], check=True, env=env)
    assert _bytes(here) == _bytes(there)


def test_another_seed_gives_other_files(tmp_path: Path) -> None:
    first = _bytes(_generate(tmp_path / "a", 500, 5))
    other = _bytes(_generate(tmp_path / "b", 500, 6))
    assert all(first[name] != other[name] for name in first)


@pytest.mark.parametrize(
    ("accounts", "seed", "period"),
    [
        (500, 1, {}),
        (3000, 7, {}),
        (1, 0, {}),
        (400, 3, {"start": date(2020, 6, 10), "end": date(2020, 7, 5)}),
        (300, 4, {"start": date(2019, 12, 31), "end": date(2019, 12, 31)}),
    ],
)
def test_reader_accepts_everything(
    tmp_path: Path, accounts: int, seed: int, period: dict[str, date]
) -> None:
    inputs = read_inputs(_generate(tmp_path, accounts, seed, **period))
    assert inputs.rejects == []
    assert inputs.accounts.height == accounts
    assert inputs.duplicate_payments_ignored == 0
    for name in NAMES:
        assert inputs.rows_read[f"{name}.csv"] == getattr(inputs, name).height


def test_columns_are_the_contracts(tmp_path: Path) -> None:
    folder = _generate(tmp_path, 50, 1)
    # every table but `holds`: account relief is set by the collections desk, not exported
    # from a billing system, and the generator writes none
    for spec in (s for s in TABLES if s.name != "holds"):
        expected = [column.name for column in spec.columns]
        assert list(OUTPUT_SCHEMAS[spec.name]) == expected
        header = (folder / f"{spec.name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == expected


def test_parquet_and_csv_load_the_same_frames(tmp_path: Path) -> None:
    from_csv = read_inputs(_generate(tmp_path / "csv", 500, 4))
    from_parquet = read_inputs(_generate(tmp_path / "parquet", 500, 4, format="parquet"))
    assert from_parquet.rejects == []
    assert set(from_parquet.files) == {f"{name}.parquet" for name in NAMES}
    for name in NAMES:
        assert getattr(from_csv, name).equals(getattr(from_parquet, name)), name


def test_refuses_a_folder_holding_the_other_format(tmp_path: Path) -> None:
    _generate(tmp_path, 20, 1)
    with pytest.raises(SanbutingError, match="both formats"):
        _generate(tmp_path, 20, 1, format="parquet")


def test_refuses_a_period_ending_before_it_starts(tmp_path: Path) -> None:
    with pytest.raises(SanbutingError, match="before --start"):
        _generate(tmp_path, 20, 1, start=date(2020, 3, 1), end=date(2020, 2, 1))


# --- the shape of the population ----------------------------------------------------------


def _share(frame: pl.DataFrame, condition: pl.Expr) -> float:
    return frame.select(condition.cast(pl.Float64).mean()).item()  # type: ignore[no-any-return]


def test_every_province_has_a_weight() -> None:
    codes, weights = district_weights()
    assert set(PROVINCE_PERMILLE) == {code[:2] for code in codes}
    assert (weights > 0).all()
    assert weights.sum() == pytest.approx(1.0)


def test_regions_favour_hubei_and_guangdong(sample: Inputs) -> None:
    region = pl.col("region")
    accounts = sample.accounts
    assert _share(accounts, region.str.starts_with("42")) >= 0.08
    assert _share(accounts, region.str.starts_with("44")) >= 0.12
    assert _share(accounts, region.str.starts_with("4403")) >= 0.01
    assert accounts.get_column("region").str.slice(0, 2).n_unique() >= 28


def test_utilities_classes_and_modes(sample: Inputs) -> None:
    accounts = sample.accounts
    utility = pl.col("utility")
    for name, share in {"power": 0.45, "telecom": 0.35, "gas": 0.20}.items():
        assert _share(accounts, utility == name) == pytest.approx(share, abs=0.04)
    assert _share(accounts, pl.col("customer_class") == "residential") == pytest.approx(
        0.9, abs=0.03
    )
    prepaid = pl.col("billing_mode") == "prepaid"
    for name, share in {"power": 0.30, "telecom": 0.40, "gas": 0.50}.items():
        of_utility = accounts.filter(utility == name)
        assert _share(of_utility, prepaid) == pytest.approx(share, abs=0.06)
    ids = accounts.get_column("account_id")
    assert ids.str.contains(r"^[PTG][0-9]{8}$").all()
    assert ids.is_sorted()
    letters = accounts.select(pl.col("account_id").str.slice(0, 1), "utility").unique()
    assert dict(letters.iter_rows()) == {"P": "power", "T": "telecom", "G": "gas"}


def test_tags_states_balances_and_phones(sample: Inputs) -> None:
    accounts = sample.accounts
    tags = pl.col("tags")
    hospitals = accounts.filter(tags.list.contains("hospital"))
    assert 0.002 <= hospitals.height / accounts.height <= 0.01
    assert _share(hospitals, pl.col("customer_class") == "non_residential") > 0.5
    assert 0.004 <= _share(accounts, tags.list.contains("epidemic_key")) <= 0.02
    frontline = accounts.filter(tags.list.contains("frontline_medical"))
    assert frontline.height > 0
    assert (frontline.get_column("utility") == "telecom").all()

    cut_off = accounts.filter(pl.col("state") != "active")
    assert 0.002 <= cut_off.height / accounts.height <= 0.04
    expected = {"power": "disconnected", "telecom": "suspended", "gas": "disconnected"}
    assert all(expected[u] == s for u, s in cut_off.select("utility", "state").iter_rows())

    prepaid = accounts.filter(pl.col("billing_mode") == "prepaid")
    assert _share(prepaid, pl.col("balance_fen") > 0) > 0.9
    assert _share(prepaid, pl.col("balance_fen") <= 0) > 0.01
    postpaid = accounts.filter(pl.col("billing_mode") == "postpaid")
    assert (postpaid.get_column("balance_fen") == 0).all()
    limits = set(accounts.filter(pl.col("credit_limit_fen") > 0).get_column("utility"))
    assert limits == {"telecom"}
    assert set(prepaid.get_column("credit_limit_fen")) == {0, 5000, 10000}

    phones = accounts.get_column("phone").drop_nulls()
    assert 0.5 <= phones.len() / accounts.height <= 0.9
    assert phones.str.contains(r"^1[3-9][0-9]{9}$").all()


def test_bills_are_monthly_for_postpaid_accounts(sample: Inputs) -> None:
    bills = sample.bills.join(sample.accounts, on="account_id")
    assert (bills.get_column("billing_mode") == "postpaid").all()
    assert bills.get_column("bill_id").is_unique().all()
    assert (bills.get_column("amount_fen") > 0).all()
    assert bills.get_column("issued_on").max() <= END  # type: ignore[operator]
    assert set(bills.get_column("period")) == {"2019-11", "2019-12", "2020-01", "2020-02"}
    issued = pl.col("issued_on")
    checks = bills.select(
        ((pl.col("due_on") - issued).dt.total_days().is_between(15, 20)).all().alias("due"),
        (issued.dt.day() <= 10).all().alias("day"),
        (issued.dt.offset_by("-1mo").dt.strftime("%Y-%m") == pl.col("period")).all().alias("p"),
        (pl.col("due_on") < START).any().alias("overdue_on_start"),
    )
    assert all(checks.row(0))
    cut_off = bills.filter(pl.col("state") != "active")
    assert cut_off.height > 0
    assert (cut_off.get_column("period") < "2020-01").all()  # nothing used once cut off
    power = bills.filter(pl.col("utility") == "power")
    residential = power.filter(pl.col("customer_class") == "residential")
    business = power.filter(pl.col("customer_class") == "non_residential")
    assert residential.get_column("amount_fen").median() < 40_000  # type: ignore[operator]
    assert business.get_column("amount_fen").median() > 50_000  # type: ignore[operator]


def test_usage_every_day_for_prepaid_accounts_only(sample: Inputs) -> None:
    days = (END - START).days + 1
    prepaid = sample.accounts.filter(pl.col("billing_mode") == "prepaid")
    per_account = sample.usage.group_by("account_id").agg(
        pl.len().alias("days"), pl.col("date").min().alias("first"), pl.col("date").max()
    )
    assert per_account.height == prepaid.height
    assert (per_account.get_column("days") == days).all()
    assert (per_account.get_column("first") == START).all()
    assert (per_account.get_column("date") == END).all()
    amounts = sample.usage.get_column("amount_fen")
    assert (amounts >= 0).all()
    assert (amounts == 0).any()
    assert amounts.n_unique() > 100


def test_payments_show_each_payer_kind(sample: Inputs, sample_folder: Path) -> None:
    payments = sample.payments
    assert payments.get_column("payment_id").is_unique().all()
    assert (payments.get_column("amount_fen") > 0).all()
    assert payments.get_column("paid_on").max() <= END  # type: ignore[operator]
    assert set(payments.get_column("channel")) <= {
        "app",
        "counter",
        "bank",
        "kiosk",
        "wechat",
        "alipay",
    }
    raw = pl.read_csv(sample_folder / "payments.csv", infer_schema=False).get_column("paid_at")
    assert raw.str.contains(
        r"^20(19|20)-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+08:00$"
    ).all()

    postpaid = sample.accounts.filter(pl.col("billing_mode") == "postpaid").select("account_id")
    bills = sample.bills.select("account_id", "issued_on", "due_on", "amount_fen")
    # a payment of exactly one bill's amount between its issue and due dates is on time
    on_time = (
        payments.join(bills, on=["account_id", "amount_fen"], how="left")
        .with_columns(pl.col("paid_on").is_between("issued_on", "due_on").fill_null(False))
        .group_by("payment_id", "account_id")
        .agg(pl.col("paid_on").any().alias("on_time"))
        .group_by("account_id")
        .agg(pl.col("on_time").all())
    )
    kinds = postpaid.join(on_time, on="account_id", how="left")
    never = _share(kinds, pl.col("on_time").is_null())
    punctual = _share(kinds, pl.col("on_time").fill_null(False))
    assert never == pytest.approx(0.08, abs=0.03)
    assert punctual == pytest.approx(0.70, abs=0.05)
    assert 1 - never - punctual == pytest.approx(0.22, abs=0.05)  # late and partial payers

    late = payments.join(bills, on="account_id").filter(
        pl.col("paid_on") > pl.col("due_on") + timedelta(days=4)
    )
    assert late.height > 0
    prepaid_payments = payments.join(
        sample.accounts.filter(pl.col("billing_mode") == "prepaid"), on="account_id", how="semi"
    )
    assert prepaid_payments.get_column("paid_on").min() >= START  # type: ignore[operator]
    assert (prepaid_payments.get_column("amount_fen") % 1000 == 0).all()


# --- the command line ---------------------------------------------------------------------


def test_cli_generates_and_validate_accepts(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "data"
    result = runner.invoke(app, ["generate", "--accounts", "120", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "seed 3" in result.output
    assert "120 rows in accounts.csv" in result.output
    assert "2020-01-01 to 2020-03-31" in result.output
    checked = runner.invoke(app, ["validate", "--data", str(out), "--out", str(tmp_path)])
    assert checked.exit_code == 0, checked.output

    parquet = tmp_path / "parquet"
    result = runner.invoke(
        app,
        [
            "generate",
            "--accounts",
            "30",
            "--out",
            str(parquet),
            "--format",
            "parquet",
            "--start",
            "2020-02-01",
            "--end",
            "2020-02-29",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (parquet / "accounts.parquet").is_file()
    assert "2020-02-01 to 2020-02-29" in result.output


def test_cli_refuses_bad_arguments(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["generate", "--accounts", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0
    result = runner.invoke(
        app, ["generate", "--accounts", "5", "--out", str(tmp_path), "--format", "xlsx"]
    )
    assert result.exit_code != 0
    result = runner.invoke(
        app, ["generate", "--accounts", "5", "--out", str(tmp_path), "--start", "2020-02-30"]
    )
    assert isinstance(result.exception, SanbutingError)
    assert not re.search(r"accounts\.", " ".join(p.name for p in tmp_path.iterdir()))
