"""Readiness: can this replica reach what it needs to take a job? The database and the broker.

    problems = readiness(ctx)      # {"database": "ok", "broker": "ConnectionError: ..."}

Each check has a short deadline, so a hung dependency makes `/readyz` answer 503 quickly
instead of hanging the probe. Liveness (`/healthz`) touches nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis
from sqlalchemy import text

if TYPE_CHECKING:
    from api.context import AppContext

TIMEOUT_S = 2.0


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def check_database(ctx: AppContext) -> str:
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the answer is "down"
        return _describe(exc)
    return "ok"


def _ping_redis(url: str) -> None:
    with redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S) as client:
        client.ping()


def _ping_rabbitmq(url: str) -> None:
    import pika

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = parameters.blocked_connection_timeout = TIMEOUT_S
    parameters.connection_attempts, parameters.retry_delay = 1, 0
    pika.BlockingConnection(parameters).close()


def check_broker(ctx: AppContext) -> str:
    url = ctx.settings.broker_url
    try:
        (_ping_rabbitmq if url.startswith(("amqp://", "amqps://")) else _ping_redis)(url)
    except Exception as exc:  # noqa: BLE001 - whatever the client raises, the answer is "down"
        return _describe(exc)
    return "ok"


def readiness(ctx: AppContext) -> dict[str, str]:
    return {"database": check_database(ctx), "broker": check_broker(ctx)}
