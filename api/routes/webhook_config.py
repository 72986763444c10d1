"""The account's webhook: PUT/GET/DELETE /api/v1/tenants/me/webhook (POST accepted like PUT).

The secret is write-only; GET says whether deliveries are signed. Clearing the webhook stops new
deliveries; ones already queued keep their URL and secret and finish their retries.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import CurrentPrincipal
from api.context import Ctx
from api.errors import error_responses, validation_error
from api.schemas import WebhookConfigIn, WebhookConfigOut
from api.tables import Account
from api.webhooks import url_problem

router = APIRouter(prefix="/api/v1/tenants/me/webhook", tags=["webhooks"])


def _out(account: Account) -> WebhookConfigOut:
    return WebhookConfigOut(webhook_configured=account.webhook_url is not None, webhook_url=account.webhook_url,
                            signed=bool(account.webhook_secret))


@router.put("", response_model=WebhookConfigOut, responses=error_responses(401, 403))
@router.post("", response_model=WebhookConfigOut, responses=error_responses(401, 403), include_in_schema=False)
def put(body: WebhookConfigIn, principal: CurrentPrincipal,
        ctx: Ctx) -> WebhookConfigOut:
    if problem := url_problem(body.webhook_url, allow_private=ctx.settings.allow_private_urls):
        raise validation_error(["body", "webhook_url"], problem, type_="url_forbidden", value=body.webhook_url)
    with ctx.session() as db:
        account = db.get(Account, principal.account_id, with_for_update=True)
        account.webhook_url, account.webhook_secret = body.webhook_url, body.webhook_secret
        return _out(account)


@router.get("", response_model=WebhookConfigOut, responses=error_responses(401, 403))
def get(principal: CurrentPrincipal, ctx: Ctx) -> WebhookConfigOut:
    with ctx.session() as db:
        return _out(db.get(Account, principal.account_id))


@router.delete("", status_code=204, responses=error_responses(401, 403))
def delete(principal: CurrentPrincipal, ctx: Ctx) -> Response:
    with ctx.session() as db:
        account = db.get(Account, principal.account_id, with_for_update=True)
        account.webhook_url = account.webhook_secret = None
    return Response(status_code=204)
