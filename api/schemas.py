"""Response bodies (and the few request bodies that are not a job spec), as pydantic models.

    Page[JobOut](items=[...], total=41, page=3, page_size=20, total_pages=3)

Lists use U-Gen's offset envelope; templates are a bare array, as U-Gen documents them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ErrorInfo

T = TypeVar("T")


class PageParams(BaseModel):
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
                page_size: Annotated[int, Query(ge=1, le=100, description="items per page (max 100)")] = 20,
                ) -> PageParams:
    return PageParams(page=page, page_size=page_size)


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    total_pages: int

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, page=params.page, page_size=params.page_size,
                   total_pages=math.ceil(total / params.page_size))


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "processing", "completed", "failed", "cancelled"]
    current_stage: str
    progress_percent: float
    final_video_url: str | None
    thumbnail_url: str | None
    captions_url: str | None
    duration_s: float | None
    width: int | None
    height: int | None
    size_bytes: int | None
    qa_score: float | None = Field(None, description="the render's QA score, 0-1 (docs/qa.md)")
    credits_reserved: int
    credits_consumed: int
    error: ErrorInfo | None
    error_message: str | None
    attempt: int
    idempotency_key: str
    persona_id: str | None
    template_id: str | None
    config: dict[str, Any] = Field(description="the job as the worker renders it, templates merged in")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class EstimateOut(BaseModel):
    total_credits: int
    breakdown: dict[str, int]
    available_credits: int


class BalanceOut(BaseModel):
    credit_balance: int
    credit_reserved: int
    available_credits: int


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    amount: int
    balance_before: int
    balance_after: int
    job_id: str | None
    description: str
    created_at: datetime


class PersonaOut(BaseModel):
    id: str
    name: str
    description: str
    voice_id: str
    attribution: str


class VoiceOut(BaseModel):
    id: str
    name: str
    language: str
    backend: str
    description: str = ""  # what the voice is and how it was made (configs/voices)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the full key; shown only in this response")


class WebhookConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str = Field(min_length=1, max_length=2048, pattern="^https?://")
    webhook_secret: str | None = Field(None, min_length=16, max_length=256)


class WebhookConfigOut(BaseModel):
    webhook_configured: bool
    webhook_url: str | None
    signed: bool


class EventAck(BaseModel):
    accepted: bool
    reason: str | None = None
