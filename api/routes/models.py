"""Video models: GET /api/v1/models (a bare array, as U-Gen's) and GET /api/v1/models/{model_id}.

    curl -s "$API/api/v1/models" -H "X-API-Key: $KEY"     # [{"id": "cpu", ...}, {"id": "gpu", ...}, ...]

The entries are this engine's rendering tiers (api/video_models.py); a job names one in
`video_model`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import CurrentPrincipal
from api.context import Ctx
from api.errors import error_responses, not_found
from api.video_models import DEFAULT, VideoModel

router = APIRouter(prefix="/api/v1/models", tags=["models"])


class ModelOut(BaseModel):
    id: str
    name: str
    family: str
    description: str
    status: Literal["available", "beta"]
    is_default: bool
    default_variant: str
    capabilities: dict[str, Any]
    backends: dict[str, str]
    credits: dict[str, Any]


def _out(model: VideoModel) -> ModelOut:
    return ModelOut(id=model.id, name=f"ugen-engine {model.id}", family="ugen-engine",
                    description=model.description, status="available", is_default=model.id == DEFAULT,
                    default_variant=model.id, capabilities=model.capabilities, backends=model.backends,
                    credits=model.credits)


@router.get("", response_model=list[ModelOut], responses=error_responses(401, 403))
def list_models(_: CurrentPrincipal, ctx: Ctx) -> list[ModelOut]:
    return [_out(m) for m in ctx.video_models]


@router.get("/{model_id}", response_model=ModelOut, responses=error_responses(401, 403, 404))
def get_model(model_id: str, _: CurrentPrincipal, ctx: Ctx) -> ModelOut:
    found = next((m for m in ctx.video_models if m.id == model_id), None)
    if found is None:
        raise not_found("Model", model_id)
    return _out(found)
