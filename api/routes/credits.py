"""Credits: the balance, the ledger, and what a job would cost.

    curl -s "$API/api/v1/credits/balance" -H "X-API-Key: $KEY"
    curl -s "$API/api/v1/credits/transactions?job_id=$JOB" -H "X-API-Key: $KEY"
    curl -s -X POST "$API/api/v1/credits/estimate" -H "X-API-Key: $KEY" -d @job.json

How credits move is in api/ledger.py; what a job costs in api/pricing.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from sqlalchemy import func, select

from api.auth import CurrentPrincipal
from api.context import Ctx
from api.errors import error_responses
from api.jobs import spec_with_template
from api.pricing import estimate
from api.schemas import BalanceOut, EstimateOut, Page, Paging, TransactionOut
from api.tables import Account, CreditTransaction

router = APIRouter(prefix="/api/v1/credits", tags=["credits"])
TransactionType = Literal["purchase", "reserve", "consume", "release", "refund", "bonus"]


@router.get("/balance", response_model=BalanceOut, responses=error_responses(401, 403))
def balance(principal: CurrentPrincipal, ctx: Ctx) -> BalanceOut:
    with ctx.session() as db:
        account = db.get(Account, principal.account_id)
        return BalanceOut(credit_balance=account.credit_balance, credit_reserved=account.credit_reserved,
                          available_credits=account.available_credits)


@router.get("/transactions", response_model=Page[TransactionOut], responses=error_responses(401, 403))
def transactions(params: Paging, principal: CurrentPrincipal, ctx: Ctx,
                 job_id: Annotated[str | None, Query(max_length=36)] = None,
                 type: TransactionType | None = None) -> Page[TransactionOut]:
    where = [CreditTransaction.account_id == principal.account_id]
    where += [CreditTransaction.job_id == job_id] if job_id else []
    where += [CreditTransaction.type == type] if type else []
    with ctx.session() as db:
        total = db.scalar(select(func.count()).select_from(CreditTransaction).where(*where))
        rows = db.scalars(select(CreditTransaction).where(*where).order_by(CreditTransaction.id.desc())
                          .offset(params.offset).limit(params.page_size)).all()
        return Page[TransactionOut].of([TransactionOut.model_validate(r) for r in rows], total, params)


@router.post("/estimate", response_model=EstimateOut, responses=error_responses(401, 403),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/JobCreate"}}}}},
             summary="What a job would cost, with the same body as POST /api/v1/jobs")
def estimate_job(raw: Annotated[Any, Body()], principal: CurrentPrincipal,
                 ctx: Ctx) -> EstimateOut:
    result = estimate(spec_with_template(ctx, principal.account_id, raw))
    with ctx.session() as db:
        available = db.get(Account, principal.account_id).available_credits
    return EstimateOut(total_credits=result.total, breakdown=result.breakdown, available_credits=available)
