"""GET /accounts/{account_id}/relief: "Am I protected?" — the relief policies of the active set
that cover the account today or later, with until when and what they mean in plain words
(`relief.status.protection_status`)."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.customers import service as customers
from sanbuting.domain import local_date
from sanbuting.relief.status import protection_status
from sanbuting.web.api.common import SECURED, Now, errors
from sanbuting.web.api.schemas import ProtectionOut, ReliefOut
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.types import AccountId

router = APIRouter(tags=["relief"], dependencies=SECURED)


@router.get(
    "/accounts/{account_id}/relief",
    response_model=ReliefOut,
    responses=errors(401, 404, 422),
    summary="The relief policies protecting an account",
)
def relief_status(
    account_id: AccountId,
    session: DB,
    customer: SignedInCustomer,
    now: Now,
) -> ReliefOut:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    on = local_date(now)
    found = protection_status(session=session, account=account, on=on)
    return ReliefOut(
        as_of=on,
        protections=[
            ProtectionOut.model_validate(
                {
                    "policy_id": p.policy_id,
                    "kind": p.kind,
                    "title": p.title,
                    "start": p.start,
                    "end": p.end,
                    "active": p.active,
                    "zh": p.zh,
                    "en": p.en,
                }
            )
            for p in found
        ],
    )
