"""A small typed client for this API (U-Gen's endpoints), and the check of a webhook's signature.

    with UGenClient("https://api.example", api_key=os.environ["UGEN_API_KEY"]) as ugen:
        job = ugen.create_job({"product_name": "Glow Serum", "product_image_url": "https://...",
                               "segment_count": 2}, idempotency_key="order-1042")
        ugen.estimate({...}).total_credits
        for job in ugen.iter_jobs(status="completed"): ...
        job = ugen.wait(job.job_id, timeout_s=600)
        ugen.cancel_job(job.job_id)

    payload = verify_webhook(secret, request.headers, raw_body)   # InvalidSignature if forged or stale

Every non-2xx answer raises `ApiRequestError` with U-Gen's `{code, message, details}`; a 422 has
code `VALIDATION_ERROR` and its `detail` list in `details["detail"]`. Only httpx is needed.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import httpx

from engine.reporting import sign

TERMINAL = ("completed", "failed", "cancelled")


class ApiRequestError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class InvalidSignature(Exception):
    """A webhook that is unsigned, signed with another secret, altered, or too old."""


@dataclass(frozen=True)
class Job:
    job_id: str
    status: str
    current_stage: str
    progress_percent: float
    final_video_url: str | None
    thumbnail_url: str | None
    captions_url: str | None
    duration_s: float | None
    width: int | None
    height: int | None
    size_bytes: int | None
    qa_score: float | None  # the render's QA score (docs/qa.md)
    credits_reserved: int
    credits_consumed: int
    error: dict[str, Any] | None
    attempt: int
    idempotency_key: str
    config: dict[str, Any]
    replayed: bool = False  # create_job: the existing job of a repeated idempotency key
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the whole answer

    @classmethod
    def from_json(cls, data: dict[str, Any], *, replayed: bool = False) -> Job:
        named = {f.name for f in fields(cls)} - {"replayed", "data"}
        return cls(**{k: data[k] for k in named}, replayed=replayed, data=data)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class JobPage:
    items: list[Job]
    total: int
    page: int
    page_size: int
    total_pages: int


@dataclass(frozen=True)
class Estimate:
    total_credits: int
    breakdown: dict[str, int]
    available_credits: int


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 422 and isinstance(body.get("detail"), list):
        raise ApiRequestError(422, "VALIDATION_ERROR", "invalid request", {"detail": body["detail"]})
    error = body.get("error") or {}
    raise ApiRequestError(response.status_code, error.get("code", "HTTP_ERROR"),
                          error.get("message", response.text[:200]), error.get("details") or {})


class UGenClient:
    def __init__(self, base_url: str, *, api_key: str | None = None, token: str | None = None,
                 timeout_s: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        """`api_key` (X-API-Key) or `token` (a bearer JWT)."""
        headers = {"X-API-Key": api_key} if api_key else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s,
                                  transport=transport)

    def __enter__(self) -> UGenClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        _raise_for(response)
        return response

    def create_job(self, spec: dict[str, Any], *, idempotency_key: str | None = None) -> Job:
        """A new job (201), or the existing one of a repeated key with the same spec (`replayed`)."""
        body = {**spec, "idempotency_key": idempotency_key} if idempotency_key else spec
        response = self._call("POST", "/api/v1/jobs", json=body)
        return Job.from_json(response.json(), replayed=response.status_code == 200)

    def get_job(self, job_id: str) -> Job:
        return Job.from_json(self._call("GET", f"/api/v1/jobs/{job_id}").json())

    def list_jobs(self, *, page: int = 1, page_size: int = 20, status: str | None = None) -> JobPage:
        params = {"page": page, "page_size": page_size, **({"status": status} if status else {})}
        body = self._call("GET", "/api/v1/jobs", params=params).json()
        return JobPage(items=[Job.from_json(j) for j in body["items"]], total=body["total"], page=body["page"],
                       page_size=body["page_size"], total_pages=body["total_pages"])

    def iter_jobs(self, *, status: str | None = None, page_size: int = 100) -> Iterator[Job]:
        """Every job, newest first, a page at a time."""
        page = 1
        while True:
            batch = self.list_jobs(page=page, page_size=page_size, status=status)
            yield from batch.items
            if page >= batch.total_pages:
                return
            page += 1

    def cancel_job(self, job_id: str) -> Job:
        return Job.from_json(self._call("POST", f"/api/v1/jobs/{job_id}/cancel").json())

    def estimate(self, spec: dict[str, Any]) -> Estimate:
        body = self._call("POST", "/api/v1/credits/estimate", json=spec).json()
        return Estimate(total_credits=body["total_credits"], breakdown=body["breakdown"],
                        available_credits=body["available_credits"])

    def wait(self, job_id: str, *, timeout_s: float, poll_s: float = 1.0) -> Job:
        """Polls until the job is completed, failed or cancelled; TimeoutError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not (job := self.get_job(job_id)).finished:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} ({job.current_stage}) after {timeout_s} s")
            time.sleep(poll_s)
        return job


def verify_webhook(secret: str, headers: Mapping[str, str], raw_body: bytes, *, max_age_s: float = 300.0,
                   now_s: float | None = None) -> dict[str, Any]:
    """The webhook's payload if `X-UGen-Signature` is hex HMAC-SHA256(secret, timestamp + "." +
    raw body) and `X-UGen-Timestamp` is within `max_age_s` of now; InvalidSignature otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lowered.get("x-ugen-timestamp", ""), lowered.get("x-ugen-signature", "")
    if not timestamp.isdigit() or not signature:
        raise InvalidSignature("the webhook is not signed")
    if abs((time.time() if now_s is None else now_s) - int(timestamp)) > max_age_s:
        raise InvalidSignature(f"the webhook's timestamp is more than {max_age_s:.0f} s from now")
    if not hmac.compare_digest(sign(secret, timestamp, raw_body), signature):
        raise InvalidSignature("the webhook's signature does not match")
    return json.loads(raw_body)
