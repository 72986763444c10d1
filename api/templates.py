"""Templates: reusable job settings an account saves (at most 20), beside the catalog's built-ins.

    config = check_config({"output_aspect_ratio": "1:1", "music_mood": "chill"})  # 422 if invalid
    defaults, template = resolve(db, catalog, account_id, "ugc-default")          # for a new job

A template never holds product fields. Its config takes the job spec's own fields (validated by
`engine.spec.parse_job`, so a template can never hold a value a job would refuse, `qai_enabled`
and `qai_mode` included: they steer the QA gate, docs/qa.md) plus U-Gen's TemplateConfig name
`output_aspect_ratio` (stored as `aspect_ratio`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ValidationFailed, validation_error
from api.tables import Template
from engine.catalog import Catalog
from engine.errors import InvalidJobSpec, TemplateNotFound
from engine.spec import JobSpec, parse_job

MAX_PER_ACCOUNT = 20
NOT_TEMPLATE_FIELDS = {"job_id", "delivery", "product_name", "product_image_url", "idempotency_key",
                       "template_id", "webhook_url"}
TEMPLATE_FIELDS = set(JobSpec.model_fields) - NOT_TEMPLATE_FIELDS
ALIASES = {"output_aspect_ratio": "aspect_ratio"}
KEPT_NOT_APPLIED: frozenset[str] = frozenset()  # every stored field now reaches the job


def _unknown(key: str) -> dict[str, Any]:
    return {"type": "extra_forbidden", "loc": ["body", "config", key], "msg": "Extra inputs are not permitted",
            "input": key}


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as stored: aliases renamed, nulls dropped, every value checked like a job's."""
    renamed = {ALIASES.get(k, k): v for k, v in config.items() if v is not None}
    unknown = [k for k in renamed if k not in TEMPLATE_FIELDS | KEPT_NOT_APPLIED]
    if unknown:
        raise ValidationFailed([_unknown(k) for k in unknown])
    if "qai_enabled" in renamed and not isinstance(renamed["qai_enabled"], bool):
        raise validation_error(["body", "config", "qai_enabled"], "Input should be a valid boolean",
                               type_="bool_type", value=renamed["qai_enabled"])
    probe = {"product_name": "template check", "product_image_url": "https://example.invalid/p.png",
             "segment_count": 1, **job_defaults(renamed)}
    try:
        parse_job(probe)
    except InvalidJobSpec as exc:
        raise ValidationFailed([{**item, "loc": ["body", "config", *item["loc"][1:]]}
                                for item in exc.details["detail"]]) from None
    return renamed


def job_defaults(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in KEPT_NOT_APPLIED}


def own(db: Session, account_id: str, template_id: str) -> Template | None:
    return db.scalar(select(Template).where(Template.account_id == account_id, Template.id == template_id))


def resolve(db: Session, catalog: Catalog, account_id: str,
            template_id: str) -> tuple[dict[str, Any], Template | None]:
    """The job defaults a template id names: the account's own template, else a built-in."""
    template = own(db, account_id, template_id)
    if template is not None:
        return job_defaults(template.config), template
    try:
        return job_defaults(catalog.template(template_id).config), None
    except TemplateNotFound:
        raise validation_error(["body", "template_id"], f"template {template_id!r} does not exist",
                               type_="template_not_found", value=template_id) from None


def clear_default(db: Session, account_id: str, keep: str | None = None) -> None:
    for template in db.scalars(select(Template).where(Template.account_id == account_id,
                                                      Template.is_default.is_(True))):
        if template.id != keep:
            template.is_default = False
