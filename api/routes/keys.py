"""API keys: POST/GET /api/v1/api-keys, DELETE /api/v1/api-keys/{key_id} (revoke, immediate).

The full key appears once, in the creation response; lists show `key_prefix` (`ugen_sk_...Ab4c`).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from api.auth import CurrentPrincipal, new_key
from api.context import Ctx
from api.errors import error_responses, not_found
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Page, Paging
from api.tables import ApiKey, utcnow

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=key.id, name=key.name, key_prefix=key.key_prefix, created_at=key.created_at,
                     last_used_at=key.last_used_at, expires_at=key.expires_at, revoked_at=key.revoked_at)


def add_key(db, account_id: str, name: str, expires_at=None) -> tuple[ApiKey, str]:
    made = new_key()
    key = ApiKey(id=str(uuid.uuid4()), account_id=account_id, name=name, key_hash=made.hash,
                 key_prefix=made.prefix, expires_at=expires_at, created_at=utcnow())
    db.add(key)
    return key, made.plain


@router.post("", status_code=201, response_model=ApiKeyCreated, responses=error_responses(401, 403))
def create(body: ApiKeyCreate, principal: CurrentPrincipal,
           ctx: Ctx) -> ApiKeyCreated:
    with ctx.session() as db:
        key, plain = add_key(db, principal.account_id, body.name, body.expires_at)
    return ApiKeyCreated(**key_out(key).model_dump(), key=plain)


@router.get("", response_model=Page[ApiKeyOut], responses=error_responses(401, 403))
def list_keys(params: Paging, principal: CurrentPrincipal,
              ctx: Ctx) -> Page[ApiKeyOut]:
    where = [ApiKey.account_id == principal.account_id]
    with ctx.session() as db:
        total = db.scalar(select(func.count()).select_from(ApiKey).where(*where))
        rows = db.scalars(select(ApiKey).where(*where).order_by(ApiKey.created_at.desc(), ApiKey.id)
                          .offset(params.offset).limit(params.page_size)).all()
        return Page[ApiKeyOut].of([key_out(k) for k in rows], total, params)


@router.delete("/{key_id}", status_code=204, responses=error_responses(401, 403, 404))
def revoke(key_id: str, principal: CurrentPrincipal, ctx: Ctx) -> Response:
    with ctx.session() as db:
        key = db.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == principal.account_id,
                                             ApiKey.revoked_at.is_(None)))
        if key is None:
            raise not_found("API key", key_id)
        key.revoked_at = utcnow()
    return Response(status_code=204)
