"""The job spec: U-Gen's `POST /api/v1/jobs` fields with its defaults, plus our delivery block.

    spec = parse_job({"product_name": "Glow Serum", "product_image_url": "https://...",
                      "segment_count": 3})
    spec.segment_duration  # 8

An invalid spec raises `InvalidJobSpec` whose details carry the seed's 422 `detail` list
(`[{type, loc, msg, input}]`, loc starting with "body"). Unknown fields are refused so a typo
never renders silently with a default; U-Gen fields that only matter to the hosted generator
(`video_model`, ...) are accepted and ignored. `qai_enabled`, `qai_mode` and `max_retries_video`
steer the QA gate (pipelines/qa/, docs/qa.md).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import InvalidJobSpec

STAGES = ("prepare", "agents", "init", "generation", "concat", "audio", "captions", "complete")
Stage = Literal["prepare", "agents", "init", "generation", "concat", "audio", "captions", "complete"]
AspectRatio = Literal["9:16", "16:9", "1:1"]
Resolution = Literal["draft", "hd", "standard"]
# Short side of the frame in pixels per resolution; `draft` is a cheap preview for tests.
SHORT_SIDE_PX = {"draft": 360, "hd": 720, "standard": 1080}
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# BCP 47 as used here: a 2-3 letter language, then optional script, region or variant subtags.
BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class VoiceSettings(_Strict):
    voice_id: str | None = None
    speed: float = Field(1.0, ge=0.5, le=2.0, description="speaking rate, 1.0 natural")
    language: str = Field("en", max_length=35, description="BCP 47 tag of the spoken language, e.g. en, fr-CA")

    @field_validator("language")
    @classmethod
    def _bcp47(cls, value: str) -> str:
        if not BCP47.match(value):
            raise ValueError(f"language must be a BCP 47 tag such as 'en' or 'fr-CA', not {value!r}")
        return value

    @property
    def primary_language(self) -> str:
        """The language subtag, lower case: 'fr' for 'fr-CA'."""
        return self.language.split("-")[0].lower()


class CaptionOptions(_Strict):
    text_colour: str = "#FFFFFF"
    highlight_colour: str = "#FFD400"
    font_scale: float = Field(1.0, ge=0.5, le=2.0)
    position: Literal["lower", "middle"] = "lower"

    @field_validator("text_colour", "highlight_colour")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not HEX_COLOUR.match(value):
            raise ValueError("must be a colour like #FFD400")
        return value.upper()


class MusicLink(_Strict):
    """Where the worker downloads the job's uploaded track: a signed, expiring link to the API,
    on the callback URL's origin (engine/music_fetch.py fetches it)."""

    url: str = Field(min_length=1, max_length=4096)
    max_bytes: int = Field(20 * 1024 * 1024, ge=1, le=200 * 1024 * 1024)  # the API's upload cap


class Delivery(_Strict):
    """Where the worker uploads and reports. Absent in a local render."""

    attempt: int = Field(1, ge=1)
    callback_url: str | None = None
    callback_secret: str | None = None
    upload: dict[str, Any] = Field(default_factory=dict)
    trace: dict[str, str] = Field(default_factory=dict, description="W3C trace context: traceparent, tracestate")
    music: MusicLink | None = None  # set by the API when custom_music_id names an upload


class JobSpec(_Strict):
    job_id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=128)
    product_name: str = Field(min_length=1, max_length=120)
    product_image_url: str = Field(min_length=1, max_length=4096)
    segment_count: int = Field(ge=1, le=10)
    segment_duration: int = Field(8, ge=3, le=10, description="seconds per segment")
    aspect_ratio: AspectRatio = "9:16"
    video_resolution: Resolution = "standard"
    interaction_mode: Literal["holdable", "display_static"] = "holdable"
    environment_description: str | None = Field(None, max_length=500)
    key_selling_points: list[str] = Field(default_factory=list, max_length=10)
    cta_text: str | None = Field(None, max_length=80)
    custom_script: str | None = Field(None, max_length=5000)
    script_structure: Literal["standard_5phase", "problem_solution", "listicle"] = "standard_5phase"
    script_tone: Literal["conversational", "energetic", "professional"] = "conversational"
    caption_style: Literal["tiktok_karaoke", "subtitle"] = "tiktok_karaoke"
    custom_caption_options: CaptionOptions | None = None
    captions_enabled: bool = True
    music_enabled: bool = True
    music_mood: Literal["upbeat", "chill", "inspiring"] | None = None
    music_volume: float = Field(0.15, ge=0.0, le=1.0)
    custom_music_id: str | None = Field(None, max_length=128)
    voice_settings: VoiceSettings = Field(default_factory=VoiceSettings)
    persona_id: str | None = Field(None, max_length=128,
                                      description="omitted: chosen from seed and product_name")
    stop_at_stage: Stage | None = None
    idempotency_key: str | None = Field(None, max_length=255)
    template_id: str | None = Field(None, max_length=128)
    seed: int = Field(0, ge=0, description="fixes every random choice, so a job renders the same twice")
    delivery: Delivery | None = None
    # Accepted for U-Gen compatibility; they steer the hosted video models, not this engine.
    # Still checked against U-Gen's documented ranges, so a job valid here is valid there.
    video_model: str | None = None
    max_retries_keyframe: int | None = Field(None, ge=0, le=5)  # U-Gen: 0-5, default 1
    # The QA gate (docs/qa.md). None: U-Gen's default mode, lenient (0.55).
    qai_enabled: bool = True
    qai_mode: Literal["lenient", "standard", "strict"] | None = None
    # U-Gen: 0-5, default 0. Ours is 1: a retry re-renders the whole video with a new seed, so
    # one retry at most doubles a job's time, and the seed-dependent faults (a shot plan that
    # puts a caption or the product badly) mostly pass on the next seed.
    max_retries_video: int = Field(1, ge=0, le=5)
    human_review_max_rejections: int | None = Field(None, ge=0)  # U-Gen: default 0
    human_review_budget: str | None = Field(None, min_length=1, max_length=64,
                                            pattern=r"^[a-z][a-z0-9_]*$")  # e.g. accept_best
    webhook_url: str | None = None

    @field_validator("key_selling_points")
    @classmethod
    def _points_not_blank(cls, value: list[str]) -> list[str]:
        if any(not p.strip() or len(p) > 200 for p in value):
            raise ValueError("each selling point must be 1-200 characters")
        return [p.strip() for p in value]

    @field_validator("product_name", "custom_script", "cta_text")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    @property
    def target_duration_s(self) -> float:
        return float(self.segment_count * self.segment_duration)

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) in pixels, both even."""
        short = SHORT_SIDE_PX[self.video_resolution]
        long = short * 16 // 9
        long += long % 2
        return {"9:16": (short, long), "16:9": (long, short), "1:1": (short, short)}[self.aspect_ratio]


def validation_detail(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors in the seed's 422 shape, loc prefixed with "body"; a missing field's
    `input` is the object it is missing from, as in the seed's example.

    The worker's own `delivery` block (callback secret, upload URLs) is never echoed."""
    detail = []
    for item in error.errors(include_url=False, include_context=False):
        entry = {"type": item["type"], "loc": ["body", *item["loc"]], "msg": item["msg"]}
        if "input" in item and item["loc"][:1] != ("delivery",):
            value = item["input"]
            entry["input"] = ({k: v for k, v in value.items() if k != "delivery"}
                              if isinstance(value, dict) else value)
        detail.append(entry)
    return detail


def parse_job(raw: dict[str, Any], *, template: dict[str, Any] | None = None) -> JobSpec:
    """Validate a job; a template's config fills only the fields the job leaves out."""
    if not isinstance(raw, dict):
        raise InvalidJobSpec(
            "job spec must be a JSON object",
            details={"detail": [{"type": "dict_type", "loc": ["body"], "msg": "Input should be an object"}]},
        )
    merged = {**(template or {}), **raw}
    try:
        return JobSpec.model_validate(merged)
    except ValidationError as exc:
        detail = validation_detail(exc)
        first = detail[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or "body"
        raise InvalidJobSpec(
            f"invalid job spec: {field}: {first['msg']}", details={"detail": detail}
        ) from None
