"""Health and metrics: GET /healthz (liveness), GET /readyz (readiness), GET /metrics (Prometheus).

    curl -s $API/readyz      # 200 {"status": "ready", "checks": {...}}; 503 names what is down
    curl -s $API/metrics     # text exposition format (api/metrics.py lists the series)

None of them needs credentials: expose them to the cluster's probes and scraper, not the world.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from api.context import Ctx
from api.errors import ErrorBody
from api.metrics import scrape
from api.readiness import readiness

router = APIRouter(tags=["health"])


class Ready(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready,
            responses={503: {"model": ErrorBody, "description": "the database or the broker is down"}})
def readyz(ctx: Ctx) -> Ready | JSONResponse:
    checks = readiness(ctx)
    down = sorted(name for name, state in checks.items() if state != "ok")
    if down:
        return JSONResponse({"error": {"code": "NOT_READY", "message": f"{' and '.join(down)} unreachable",
                                       "details": checks}}, status_code=503)
    return Ready(status="ready", checks=checks)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition format"}})
def metrics(ctx: Ctx) -> Response:
    return Response(scrape(ctx), media_type=CONTENT_TYPE_LATEST)
