"""ASGI middleware in front of every route: a cap on body size, and no NUL characters anywhere.

    app.add_middleware(RequestGuard, max_body_bytes=1_048_576,
                       upload_paths={"/api/v1/music/custom": 21 * 1_048_576})

PostgreSQL text cannot hold U+0000, so a NUL in a path, a query or a JSON string would
otherwise surface as a database error (a 500) deep inside a handler. It is refused here as the
validation error it is (422, with where it was found); a body over the cap gets a 413. Upload
routes (`upload_paths`) have a cap of their own and check their form fields themselves.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _nul_at(value: Any, loc: list[str | int]) -> list[str | int] | None:
    """Where in a parsed JSON value a NUL character sits, or None."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return [*loc, key]
        if (found := _nul_at(item, [*loc, key])) is not None:
            return found
    return None


def _refusal(loc: list[str | int]) -> JSONResponse:
    return JSONResponse({"detail": [{"type": "string_nul", "loc": loc, "msg": "NUL characters are not allowed"}]},
                        status_code=422)


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int = 1_048_576,
                 upload_paths: dict[str, int] | None = None) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes
        self.upload_paths = upload_paths or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"\x00" in unquote_to_bytes(scope.get("raw_path") or b"") or "\x00" in scope["path"]:
            await _refusal(["path"])(scope, receive, send)
            return
        if b"\x00" in unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" ")):
            await _refusal(["query"])(scope, receive, send)
            return
        cap = self.upload_paths.get(scope["path"], self.max_body_bytes)
        body = await self._read(receive, cap)
        if body is None:
            error = {"error": {"code": "PAYLOAD_TOO_LARGE", "message": f"request body over {cap} bytes",
                               "details": {"max_bytes": cap}}}
            await JSONResponse(error, status_code=413)(scope, receive, send)
            return
        if b"\\u0000" in body and (loc := self._body_nul(body)) is not None:
            await _refusal(loc)(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)

    async def _read(self, receive: Receive, cap: int) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _body_nul(body: bytes) -> list[str | int] | None:
        try:
            return _nul_at(json.loads(body), ["body"])
        except ValueError:
            return None  # not JSON: the route's own parsing refuses it


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
