"""Templates: GET/POST /api/v1/templates, GET/PATCH/DELETE /api/v1/templates/{template_id}.

The list is a bare array (as U-Gen's), the account's own templates and the catalog's read-only
built-ins together: the default first (the account's own, else the built-in default), then by use
count (a built-in's is how many of the account's jobs named it), then the most recently changed;
at equal keys the account's own come first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from api.auth import CurrentPrincipal
from api.context import AppContext, Ctx
from api.errors import ApiError, error_responses, not_found
from api.tables import Account, Job, Template
from api.templates import MAX_PER_ACCOUNT, check_config, clear_default, own
from engine.catalog import TemplateEntry

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    config: dict[str, Any]
    is_default: bool = False


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    config: dict[str, Any] | None = None
    is_default: bool | None = None


class TemplateOut(BaseModel):
    id: str
    name: str
    description: str | None
    config: dict[str, Any]
    is_default: bool
    use_count: int
    builtin: bool
    created_at: datetime | None
    updated_at: datetime | None


def _out(t: Template) -> TemplateOut:
    return TemplateOut(id=t.id, name=t.name, description=t.description, config=t.config, is_default=t.is_default,
                       use_count=t.use_count, builtin=False, created_at=t.created_at, updated_at=t.updated_at)


def _builtin(t: TemplateEntry, *, default: bool, use_count: int = 0) -> TemplateOut:
    return TemplateOut(id=t.id, name=t.name, description=t.description, config=t.config, is_default=default,
                       use_count=use_count, builtin=True, created_at=None, updated_at=None)


def _rank(t: TemplateOut) -> tuple:
    """Sort key: default, then use count, then latest change (built-ins have none), own first."""
    changed = -t.updated_at.timestamp() if t.updated_at else float("inf")
    return (not t.is_default, -t.use_count, changed, t.builtin)


def _builtin_uses(db, account_id: str, ids: list[str]) -> dict[str, int]:
    rows = db.execute(select(Job.template_id, func.count()).where(Job.account_id == account_id,
                                                                  Job.template_id.in_(ids))
                      .group_by(Job.template_id)).all()
    return dict(rows)


def _read_only(template_id: str) -> ApiError:
    return ApiError(403, "TEMPLATE_READ_ONLY", "built-in templates cannot be changed",
                    details={"template_id": template_id})


@router.get("", response_model=list[TemplateOut], responses=error_responses(401, 403))
def list_templates(principal: CurrentPrincipal, ctx: Ctx,
                   limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[TemplateOut]:
    entries = ctx.catalog.templates()
    with ctx.session() as db:
        rows = db.scalars(select(Template).where(Template.account_id == principal.account_id)).all()
        uses = _builtin_uses(db, principal.account_id, [t.id for t in entries])
    has_default = any(t.is_default for t in rows)
    builtins = [_builtin(t, default=t.is_default and not has_default, use_count=uses.get(t.id, 0)) for t in entries]
    return sorted([_out(t) for t in rows] + builtins, key=_rank)[:limit]


@router.post("", status_code=201, response_model=TemplateOut, responses=error_responses(401, 403, 409))
def create(body: TemplateIn, principal: CurrentPrincipal,
           ctx: Ctx) -> TemplateOut:
    config = check_config(body.config)
    with ctx.session() as db:
        db.get(Account, principal.account_id, with_for_update=True)  # one creation per account at a time
        count = db.scalar(select(func.count()).select_from(Template).where(
            Template.account_id == principal.account_id))
        if count >= MAX_PER_ACCOUNT:
            raise ApiError(409, "TEMPLATE_LIMIT_REACHED", f"an account can keep at most {MAX_PER_ACCOUNT} templates",
                           details={"limit": MAX_PER_ACCOUNT})
        template = Template(id=str(uuid.uuid4()), account_id=principal.account_id, name=body.name,
                            description=body.description, config=config, is_default=body.is_default, use_count=0)
        if body.is_default:
            clear_default(db, principal.account_id)
        db.add(template)
    return _out(template)


@router.get("/{template_id}", response_model=TemplateOut, responses=error_responses(401, 403, 404))
def get(template_id: str, principal: CurrentPrincipal,
        ctx: Ctx) -> TemplateOut:
    with ctx.session() as db:
        if (template := own(db, principal.account_id, template_id)) is not None:
            return _out(template)
    entry = next((t for t in ctx.catalog.templates() if t.id == template_id), None)
    if entry is None:
        raise not_found("Template", template_id)
    return _builtin(entry, default=entry.is_default)


@router.patch("/{template_id}", response_model=TemplateOut, responses=error_responses(401, 403, 404))
def update(template_id: str, body: TemplatePatch, principal: CurrentPrincipal,
           ctx: Ctx) -> TemplateOut:
    config = check_config(body.config) if body.config is not None else None
    with ctx.session() as db:
        template = own(db, principal.account_id, template_id)
        if template is None:
            raise _read_only(template_id) if _is_builtin(ctx, template_id) else not_found("Template", template_id)
        if body.is_default:
            clear_default(db, principal.account_id, keep=template.id)
        for field, value in (("name", body.name), ("config", config), ("is_default", body.is_default)):
            if value is not None:
                setattr(template, field, value)
        if "description" in body.model_fields_set:
            template.description = body.description
    return _out(template)


@router.delete("/{template_id}", status_code=204, responses=error_responses(401, 403, 404))
def delete(template_id: str, principal: CurrentPrincipal,
           ctx: Ctx) -> Response:
    with ctx.session() as db:
        template = own(db, principal.account_id, template_id)
        if template is None:
            raise _read_only(template_id) if _is_builtin(ctx, template_id) else not_found("Template", template_id)
        db.delete(template)
    return Response(status_code=204)


def _is_builtin(ctx: AppContext, template_id: str) -> bool:
    return any(t.id == template_id for t in ctx.catalog.templates())
