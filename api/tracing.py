"""A span per HTTP request, when tracing is on (engine/tracing.py), and the API's tracer's life.

    app.add_middleware(RequestSpans)   # outermost, so the span covers every other middleware

Each request gets a server span named after its route (`POST /api/v1/jobs`), the child of an
incoming `traceparent` if the caller sent one, with `http.request.method`, `http.route`,
`url.path` and `http.response.status_code`; a 5xx marks it as an error. The span is current
while the route runs, so a job sent to the worker carries its context in the message.
"""

from __future__ import annotations

from typing import Any

from engine.tracing import begin, enabled, finish, mark_error


class RequestSpans:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not enabled():
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        carrier = {k: headers[k] for k in ("traceparent", "tracestate") if k in headers}
        method = scope["method"]
        opened = begin(f"{method} {scope['path']}", carrier=carrier, kind="server", current=True,
                       attributes={"http.request.method": method, "url.path": scope["path"]})
        if opened is None:  # tracing stopped since the check above
            await self.app(scope, receive, send)
            return
        status = {"code": 500}  # no answer started: the app failed

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route:
                opened.span.update_name(f"{method} {route}")
            if status["code"] >= 500:
                mark_error(opened, f"HTTP {status['code']}")
            finish(opened, **{"http.route": route, "http.response.status_code": status["code"]})
