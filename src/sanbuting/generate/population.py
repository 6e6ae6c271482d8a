"""Where the synthetic accounts are and what they are: region weights by province and city,
and one block of accounts of one utility drawn vectorised (class, mode, tags, state, balance,
credit limit, phone, and the hidden behaviour the bills and payments follow).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
from numpy.typing import NDArray

from sanbuting.domain import AccountState, BillingMode, CustomerClass, Utility
from sanbuting.generate import mix
from sanbuting.regions import districts

PROVINCE_PERMILLE: dict[str, int] = {
    # Approximate: each province's share of China's population in the 2020 census (第七次
    # 全国人口普查), per mille, rounded. Only the proportions matter.
    "11": 16, "12": 10, "13": 53, "14": 25, "15": 17, "21": 30, "22": 17, "23": 23,
    "31": 18, "32": 60, "33": 46, "34": 43, "35": 30, "36": 32, "37": 72, "41": 71,
    "42": 41, "43": 47, "44": 89, "45": 36, "46": 7, "50": 23, "51": 59, "52": 27,
    "53": 34, "54": 3, "61": 28, "62": 18, "63": 4, "64": 5, "65": 18,
}  # fmt: skip

OVERSAMPLE: dict[str, float] = {"42": 3.0, "44": 2.0}
"""Provinces drawn more often than their population share: Hubei (the 2020 epicentre) and
Guangdong (its own and Shenzhen's measures), so the relief policies have many accounts to act
on. With these factors Hubei holds about 10.5% of accounts and Guangdong about 15%."""

CITY_SHARE_OF_PROVINCE: dict[str, float] = {
    # Approximate 2020 census shares of a city in its province; the province's other districts
    # share the rest evenly. Shenzhen 17.6 of 126.0 million, Guangzhou 18.7, Wuhan 12.3 of 57.8.
    "4401": 0.15,
    "4403": 0.14,
    "4201": 0.21,
}


@cache
def district_weights() -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """Every district code of the shipped table and the probability of drawing it (computed
    in code order, so the same on every run)."""
    codes = tuple(region.code for region in districts())
    provinces = sorted({code[:2] for code in codes})
    weight = {p: PROVINCE_PERMILLE[p] * OVERSAMPLE.get(p, 1.0) for p in provinces}
    weights = np.zeros(len(codes), dtype=np.float64)
    for province in provinces:
        members = [i for i, code in enumerate(codes) if code[:2] == province]
        left = 1.0
        for city, city_share in CITY_SHARE_OF_PROVINCE.items():
            inside = [i for i in members if codes[i][:4] == city]
            if inside:
                weights[inside] = weight[province] * city_share / len(inside)
                left -= city_share
        rest = [i for i in members if weights[i] == 0.0]
        if rest:
            weights[rest] = weight[province] * left / len(rest)
    return codes, weights / weights.sum()


@dataclass(frozen=True)
class AccountBlock:
    """Accounts `first_number` .. `first_number + n - 1` of one utility, as arrays.

    Besides the account columns it holds the behaviour the other tables follow: `payer`
    (`mix.Payer`, postpaid), `topup` (`mix.TopUp`, prepaid), `monthly_fen` (typical monthly
    bill or consumption), `issue_day` and `due_after` (postpaid bill dates).
    """

    utility: Utility
    first_number: int
    digits: int
    non_residential: NDArray[np.bool_]
    region: NDArray[np.intp]
    prepaid: NDArray[np.bool_]
    hospital: NDArray[np.bool_]
    epidemic_key: NDArray[np.bool_]
    frontline_medical: NDArray[np.bool_]
    cut_off: NDArray[np.bool_]
    balance_fen: NDArray[np.int64]
    credit_limit_fen: NDArray[np.int64]
    phone: NDArray[np.int64]
    """0 for no phone."""
    payer: NDArray[np.int8]
    topup: NDArray[np.int8]
    monthly_fen: NDArray[np.float64]
    issue_day: NDArray[np.int64]
    due_after: NDArray[np.int64]

    @property
    def n(self) -> int:
        return len(self.region)

    def ids(self) -> pl.Series:
        """The account ids, e.g. ``P00000001``."""
        numbers = pl.Series(
            "account_id", np.arange(self.first_number, self.first_number + self.n, dtype=np.int64)
        )
        letter = mix.ID_LETTER[self.utility]
        return (
            pl.select(pl.lit(letter) + numbers.cast(pl.String).str.zfill(self.digits))
            .to_series()
            .alias("account_id")
        )

    def frame(self, ids: pl.Series) -> pl.DataFrame:
        """The `accounts` rows, in the contract's column order."""
        codes, _ = district_weights()
        classes = (CustomerClass.RESIDENTIAL.value, CustomerClass.NON_RESIDENTIAL.value)
        modes = (BillingMode.POSTPAID.value, BillingMode.PREPAID.value)
        states = (AccountState.ACTIVE.value, mix.CUTOFF_STATE[self.utility].value)
        tags = {
            "hospital": self.hospital,
            "epidemic_key": self.epidemic_key,
            "frontline_medical": self.frontline_medical,
        }
        raw = pl.DataFrame({**tags, "phone_number": self.phone})
        derived = raw.select(
            pl.concat_str(
                [pl.when(pl.col(name)).then(pl.lit(name)) for name in tags],
                separator=";",
                ignore_nulls=True,
            )
            .replace("", None)
            .alias("tags"),
            pl.when(pl.col("phone_number") > 0)
            .then(pl.col("phone_number").cast(pl.String))
            .alias("phone"),
        )
        return pl.DataFrame(
            {
                "account_id": ids,
                "utility": pl.repeat(self.utility.value, self.n, eager=True),
                "customer_class": _pick(classes, self.non_residential),
                "region": pl.Series(codes).gather(self.region),
                "billing_mode": _pick(modes, self.prepaid),
                "tags": derived.get_column("tags"),
                "state": _pick(states, self.cut_off),
                "balance_fen": self.balance_fen,
                "credit_limit_fen": self.credit_limit_fen,
                "phone": derived.get_column("phone"),
            }
        )


def _pick(values: tuple[str, str], second: NDArray[np.bool_]) -> pl.Series:
    return pl.Series(values).gather(second.astype(np.intp))


def _log_uniform(rng: np.random.Generator, low: int, high: int, n: int) -> NDArray[np.float64]:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def draw_accounts(
    rng: np.random.Generator, utility: Utility, first_number: int, n: int, digits: int
) -> AccountBlock:
    """Draw `n` accounts of `utility`, numbered from `first_number`."""
    _, weights = district_weights()
    non_res = rng.random(n) >= mix.RESIDENTIAL_SHARE
    region = rng.choice(len(weights), size=n, p=weights)
    prepaid = rng.random(n) < mix.PREPAID_SHARE[utility]

    def by_class(shares: dict[str, float]) -> NDArray[np.float64]:
        return np.where(non_res, shares["non_residential"], shares["residential"])

    hospital = rng.random(n) < by_class(mix.HOSPITAL_SHARE)
    epidemic_key = rng.random(n) < by_class(mix.EPIDEMIC_KEY_SHARE)
    frontline = rng.random(n) < mix.FRONTLINE_MEDICAL_SHARE_OF_RESIDENTIAL_TELECOM
    frontline &= ~non_res & (utility == Utility.TELECOM)

    monthly = np.empty(n, dtype=np.float64)
    for cls in (False, True):
        low, high = mix.MONTHLY_FEN[(utility, cls)]
        chosen = non_res == cls
        monthly[chosen] = _log_uniform(rng, low, high, int(chosen.sum()))

    payer = rng.choice(
        np.array(list(mix.PAYER_SHARE), dtype=np.int8), size=n, p=list(mix.PAYER_SHARE.values())
    )
    topup = rng.choice(
        np.array(list(mix.TOPUP_SHARE), dtype=np.int8), size=n, p=list(mix.TOPUP_SHARE.values())
    )

    credit = np.zeros(n, dtype=np.int64)
    if utility == Utility.TELECOM:
        limits = rng.choice(np.array(mix.CREDIT_LIMITS_FEN), size=n, p=mix.CREDIT_LIMIT_SHARE)
        credit = np.where(prepaid, limits, 0).astype(np.int64)

    days = rng.uniform(*mix.START_BALANCE_DAYS, n)
    balance = np.rint(monthly / 30.0 * days).astype(np.int64)
    low_start = rng.random(n) < mix.LOW_START_SHARE
    low_balance = rng.integers(mix.LOW_START_FEN[0], mix.LOW_START_FEN[1] + 1, n)
    balance = np.where(low_start, low_balance, balance)
    balance = np.where(prepaid, balance, 0).astype(np.int64)

    at_floor = prepaid & (balance <= -credit)
    cut_share = np.select(
        [at_floor, ~prepaid & (payer == mix.Payer.NEVER), ~prepaid & (payer == mix.Payer.PARTIAL)],
        [
            mix.CUTOFF_SHARE_OF_PREPAID_AT_FLOOR,
            mix.CUTOFF_SHARE_OF_NEVER_PAYERS,
            mix.CUTOFF_SHARE_OF_PARTIAL_PAYERS,
        ],
        0.0,
    )
    cut_off = rng.random(n) < cut_share

    has_phone = rng.random(n) < mix.PHONE_SHARE[utility]
    phone = rng.integers(13, 20, n) * 1_000_000_000 + rng.integers(0, 1_000_000_000, n)
    phone = np.where(has_phone, phone, 0).astype(np.int64)

    issue_day = rng.integers(mix.ISSUE_DAY_RANGE[0], mix.ISSUE_DAY_RANGE[1] + 1, n)
    due_after = rng.integers(mix.DUE_AFTER_ISSUE_DAYS[0], mix.DUE_AFTER_ISSUE_DAYS[1] + 1, n)
    return AccountBlock(
        utility=utility,
        first_number=first_number,
        digits=digits,
        non_residential=non_res,
        region=region,
        prepaid=prepaid,
        hospital=hospital,
        epidemic_key=epidemic_key,
        frontline_medical=frontline,
        cut_off=cut_off,
        balance_fen=balance,
        credit_limit_fen=credit,
        phone=phone,
        payer=payer,
        topup=topup,
        monthly_fen=monthly,
        issue_day=issue_day.astype(np.int64),
        due_after=due_after.astype(np.int64),
    )
