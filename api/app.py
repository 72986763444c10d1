"""The FastAPI application: routers, error handlers, and the background loops.

    app = create_app(ApiSettings.from_env())     # migrates (unless told not to) and starts
    uvicorn.run(app, host="127.0.0.1", port=8000)

On start it runs the migrations, then the sweeper (queued jobs whose send is overdue) and the
webhook sender; both stop with the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.context import AppContext
from api.db import migrate
from api.errors import install_handlers
from api.guard import RequestGuard
from api.music import MAX_BYTES as MAX_MUSIC_BYTES
from api.routes import (
    admin,
    catalog,
    credits,
    health,
    internal,
    jobs,
    keys,
    models,
    music,
    templates,
    webhook_config,
)
from api.settings import ApiSettings
from api.sweeper import Sweeper
from api.tracing import RequestSpans
from api.webhooks import WebhookSender
from engine.tracing import setup_tracing, stop_tracing

ROUTERS = (jobs.router, credits.router, catalog.router, models.router, music.router, templates.router, keys.router,
           webhook_config.router, internal.router, admin.router, health.router)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the bodies routes read raw: the job (from engine.spec.JobSpec) and
    the worker's event."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        body, defs = jobs.job_request_schema()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update({**defs, "JobCreate": body, **internal.event_schemas()})
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings.from_env()
    ctx = AppContext.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            migrate(ctx.engine)
        setup_tracing("ugen-api")  # off unless OTEL_* variables turn it on
        sweeper, sender = Sweeper(ctx).start(), WebhookSender(ctx).start()
        try:
            yield
        finally:
            sweeper.stop()
            sender.stop()
            ctx.engine.dispose()
            stop_tracing()

    app = FastAPI(title="ugen-engine control plane", version="0.1.0", lifespan=lifespan,
                  description="U-Gen's REST API in front of the ugen-engine worker (docs/api.md).")
    app.state.ctx = ctx
    app.add_middleware(RequestGuard, upload_paths={"/api/v1/music/custom": MAX_MUSIC_BYTES + 1_048_576})
    app.add_middleware(RequestSpans)  # added last: outermost
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    app.openapi = lambda: _openapi(app)
    return app
