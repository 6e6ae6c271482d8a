"""Bounded types for every path, query, header and body parameter (one place for the limits)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query
from pydantic import Field, StrictInt

from sanbuting.io.ids import ID_MAX_LENGTH, ID_PATTERN

AccountId = Annotated[str, Path(pattern=ID_PATTERN, max_length=ID_MAX_LENGTH, description="户号")]
"""Every id an input file may carry (`io.ids`): the web addresses each account imported."""
ApplicationNumber = Annotated[
    str, Path(pattern=r"^[A-Z]{2}[0-9]{8,20}$", max_length=24, description="申请编号")
]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:-]{8,128}$",
        description="The client's key: the same key posts a payment once.",
    ),
]
Page = Annotated[int, Query(ge=1, le=100_000, description="Page number, from 1.")]
PageSize = Annotated[int, Query(ge=1, le=200, description="Rows per page.")]
Fen = Annotated[
    StrictInt,
    Field(ge=1, le=10**11, description="An amount in fen (分): a whole number above 0."),
]
"""Strict: `true`, `"100"`, `1.0` and `1e3` are refused, not read as fen."""
Phone = Annotated[str, Field(pattern=r"^1[3-9][0-9]{9}$", description="A mainland mobile number.")]
Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="The 6-digit code sent by SMS.")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]
Region = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 code.")]
