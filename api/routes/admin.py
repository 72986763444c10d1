"""Operator endpoints under /admin/v1, guarded by `X-Admin-Token` (UGEN_API_ADMIN_TOKEN).

    POST  /admin/v1/accounts                 {"name", "credits", limits...} -> the account and a first API key
    POST  /admin/v1/accounts/{id}/credits    {"credits", "type": purchase|bonus|refund}
    PATCH /admin/v1/accounts/{id}            {"disabled", "max_concurrent_jobs", "daily_job_limit"}

U-Gen sells credits through its billing pages; a self-hosted control plane has no billing, so
an operator grants credits here. Without a configured token every call is refused.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from api import ledger
from api.context import AppContext, Ctx
from api.errors import ApiError, error_responses, not_found
from api.routes.keys import add_key
from api.schemas import BalanceOut
from api.tables import Account

router = APIRouter(prefix="/admin/v1", tags=["admin"])
admin_header = APIKeyHeader(name="X-Admin-Token", auto_error=False, scheme_name="AdminToken")


def require_admin(token: Annotated[str | None, Security(admin_header)], ctx: Ctx) -> None:
    expected = ctx.settings.admin_token
    if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "UNAUTHORIZED", "Missing or invalid admin token", details={"reason": "admin_token"})


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    credits: int = Field(0, ge=0, le=10**9)
    max_concurrent_jobs: int | None = Field(None, ge=0, le=10_000)
    daily_job_limit: int | None = Field(None, ge=0, le=1_000_000)


class AccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: bool | None = None
    max_concurrent_jobs: int | None = Field(None, ge=0, le=10_000)
    daily_job_limit: int | None = Field(None, ge=0, le=1_000_000)


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credits: int = Field(ge=1, le=10**9)
    type: Literal["purchase", "bonus", "refund"] = "purchase"
    description: str = Field("", max_length=300)


class AccountCreated(BaseModel):
    account_id: str
    name: str
    api_key: str
    credits: BalanceOut


def _balance(account: Account) -> BalanceOut:
    return BalanceOut(credit_balance=account.credit_balance, credit_reserved=account.credit_reserved,
                      available_credits=account.available_credits)


def create_account(ctx: AppContext, body: AccountIn) -> AccountCreated:
    with ctx.session() as db:
        account = Account(id=str(uuid.uuid4()), name=body.name, credit_balance=0, credit_reserved=0,
                          max_concurrent_jobs=body.max_concurrent_jobs, daily_job_limit=body.daily_job_limit,
                          disabled=False)
        db.add(account)
        db.flush()
        if body.credits:
            ledger.grant(db, account, body.credits, "bonus", "opening credits")
        _, plain = add_key(db, account.id, "initial key")
        return AccountCreated(account_id=account.id, name=account.name, api_key=plain, credits=_balance(account))


@router.post("/accounts", status_code=201, response_model=AccountCreated, dependencies=[Depends(require_admin)],
             responses=error_responses(401))
def post_account(body: AccountIn, ctx: Ctx) -> AccountCreated:
    return create_account(ctx, body)


@router.post("/accounts/{account_id}/credits", response_model=BalanceOut, dependencies=[Depends(require_admin)],
             responses=error_responses(401, 404))
def grant_credits(account_id: str, body: GrantIn, ctx: Ctx) -> BalanceOut:
    with ctx.session() as db:
        account = _locked_account(db, account_id)
        ledger.grant(db, account, body.credits, body.type, body.description)
        return _balance(account)


def _locked_account(db, account_id: str) -> Account:
    """The account row, locked for this transaction (404 when there is none)."""
    account = db.get(Account, account_id, with_for_update=True)
    if account is None:
        raise not_found("Account", account_id)
    return account


@router.patch("/accounts/{account_id}", response_model=BalanceOut, dependencies=[Depends(require_admin)],
              responses=error_responses(401, 404))
def patch_account(account_id: str, body: AccountPatch, ctx: Ctx) -> BalanceOut:
    with ctx.session() as db:
        account = _locked_account(db, account_id)
        for field in body.model_fields_set - ({"disabled"} if body.disabled is None else set()):
            setattr(account, field, getattr(body, field))
        return _balance(account)
