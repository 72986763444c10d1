"""Who is calling: an `X-API-Key` or an `Authorization: Bearer` JWT (HS256); the JWT wins.

    key = new_key()              # key.plain is shown once; only key.hash is stored
    principal: CurrentPrincipal            # in a route's signature

Keys look like `ugen_sk_<43 url-safe chars>`, stored as SHA-256 (the key is random, so a fast
hash is enough and lookups stay one indexed read). A JWT names its account in `account_id`,
or else in `sub`, and must carry `exp`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from api.context import AppContext, Ctx
from api.errors import ApiError
from api.tables import Account, ApiKey, utcnow

KEY_PREFIX = "ugen_sk_"
LAST_USED_GRANULARITY = timedelta(seconds=60)  # spares a write on every request

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An account's API key")
bearer = HTTPBearer(auto_error=False, description="An HS256 JWT naming the account (account_id or sub)")


@dataclass(frozen=True)
class NewKey:
    plain: str
    hash: str
    prefix: str


@dataclass(frozen=True)
class Principal:
    account_id: str
    via: str  # "api_key" or "jwt"


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def new_key() -> NewKey:
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(plain=plain, hash=hash_key(plain), prefix=f"{KEY_PREFIX}...{plain[-4:]}")


def unauthorized(message: str, reason: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message, details={"reason": reason},
                    headers={"WWW-Authenticate": "Bearer"})


def mint_token(secret: str, account_id: str, *, ttl_s: int = 3600, audience: str | None = None) -> str:
    """A token this API accepts; for operators and tests (production tokens come from your IdP)."""
    now = utcnow()
    claims = {"sub": account_id, "iat": now, "exp": now + timedelta(seconds=ttl_s)}
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def _account_from_jwt(ctx: AppContext, token: str) -> str:
    audience = ctx.settings.jwt_audience
    try:
        claims = jwt.decode(token, ctx.settings.jwt_secret, algorithms=["HS256"], audience=audience,
                            options={"require": ["exp"], "verify_aud": audience is not None})
    except jwt.ExpiredSignatureError:
        raise unauthorized("Token has expired", "token_expired") from None
    except jwt.PyJWTError:
        raise unauthorized("Invalid bearer token", "invalid_token") from None
    account_id = claims.get("account_id") or claims.get("sub")
    if not isinstance(account_id, str) or not account_id:
        raise unauthorized("Token names no account", "invalid_token")
    return account_id


def _account_from_key(ctx: AppContext, plain: str, now: datetime) -> str:
    with ctx.session() as db:
        key = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plain)))
        if key is None or key.revoked_at is not None:
            raise unauthorized("Invalid API key", "invalid_api_key")
        if key.expires_at is not None and key.expires_at <= now:
            raise unauthorized("API key has expired", "api_key_expired")
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
            key.last_used_at = now
        return key.account_id


def authenticate(api_key: Annotated[str | None, Depends(api_key_header)],
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                 ctx: Ctx) -> Principal:
    if credentials is not None:
        principal = Principal(_account_from_jwt(ctx, credentials.credentials), "jwt")
    elif api_key:
        principal = Principal(_account_from_key(ctx, api_key, utcnow()), "api_key")
    else:
        raise unauthorized("Missing API key or bearer token", "missing_credentials")
    with ctx.session() as db:
        account = db.get(Account, principal.account_id)
        if account is None:
            raise unauthorized("Unknown account", "unknown_account")
        if account.disabled:
            raise ApiError(403, "ACCOUNT_DISABLED", "This account is disabled")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
