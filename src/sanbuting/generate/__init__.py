"""Synthetic input folders for demos, tests and benchmarks: `generate(GenerateRequest(...))`
writes `accounts`, `bills`, `payments` and `usage` that `sanbuting validate` accepts, with a
population-like region mix, the three utilities, tagged accounts, overdue bills and payers of
every kind; the same request always gives the same bytes.

Modules: `mix` (the shares and ranges, as data), `population` (region weights, accounts),
`billing` (postpaid bills and payments), `prepaid` (usage and top-ups), `writer` (CSV or
Parquet, block by block), `build` (the blocks and the random streams).
"""

from __future__ import annotations

from sanbuting.generate.build import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_START,
    GenerateRequest,
    GenerateResult,
    generate,
)

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "GenerateRequest",
    "GenerateResult",
    "generate",
]
