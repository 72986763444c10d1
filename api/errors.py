"""Errors as U-Gen returns them, and the handlers that make every failure take that shape.

    raise ApiError(402, "INSUFFICIENT_CREDITS", "Insufficient credits",
                   details={"required": 86, "available": 12})
    # -> 402 {"error": {"code": "INSUFFICIENT_CREDITS", "message": ..., "details": {...}}}

Validation errors are the other shape: 422 {"detail": [{type, loc, msg, input}]}, the same list
`engine.spec.parse_job` builds, so a request's errors read alike whichever layer found them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
              415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR",
              503: "SERVICE_UNAVAILABLE"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details or {}, headers

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found", details={"id": ident})


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """The application-error shape (401, 402, 403, 404, 409, 429, 5xx)."""

    error: ErrorInfo


class ValidationItem(BaseModel):
    type: str
    loc: list[str | int]
    msg: str
    input: Any = None


class ValidationBody(BaseModel):
    detail: list[ValidationItem]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: the error shapes it can answer with (400 for a body that
    cannot be read at all, 422 for one that does not validate, and the given statuses)."""
    out: dict[int | str, dict[str, Any]] = {s: {"model": ErrorBody} for s in (400, *statuses)}
    out[422] = {"model": ValidationBody}
    return out


def validation_items(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pydantic/FastAPI errors trimmed to {type, loc, msg, input}; a missing field's `input` is
    the object it is missing from (the seed's example), left out when there is none."""
    items = []
    for err in errors:
        item = {"type": err["type"], "loc": list(err["loc"]), "msg": err["msg"]}
        if "input" in err and not (err["type"] == "missing" and err["input"] is None):
            item["input"] = err["input"]
        items.append(item)
    return items


def validation_error(loc: list[str | int], msg: str, *, type_: str, value: Any = None) -> ApiError:
    """A 422 raised by our own checks (unknown persona, ...) in the same list shape."""
    return ValidationFailed([{"type": type_, "loc": loc, "msg": msg, "input": value}])


class ValidationFailed(ApiError):
    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__(422, "VALIDATION_ERROR", "invalid request")
        self.detail = detail


def _safe(value: Any) -> Any:
    """Inputs echoed back must be JSON; bytes and other oddities become their repr."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return repr(value)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        if isinstance(exc, ValidationFailed):
            return JSONResponse({"detail": _safe(exc.detail)}, status_code=422)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _safe(validation_items(list(exc.errors())))}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").lower()
        return JSONResponse({"error": {"code": code, "message": message, "details": {}}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        body = {"error": {"code": "INTERNAL_ERROR", "message": "internal server error", "details": {}}}
        return JSONResponse(body, status_code=500)
