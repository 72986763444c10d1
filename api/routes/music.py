"""Music: GET /api/v1/music/catalog, GET/POST /api/v1/music/custom, DELETE /api/v1/music/custom/{music_id}.

    curl -s "$API/api/v1/music/catalog?mood=chill" -H "X-API-Key: $KEY"          # bare array
    curl -s -X POST "$API/api/v1/music/custom" -H "X-API-Key: $KEY" \\
         -F title="Our jingle" -F file=@jingle.mp3                                # 201, the track

Lists are bare arrays, as U-Gen's. An upload over 20 MB is 413 `MUSIC_TOO_LARGE`; a file that is
not MP3, WAV, OGG, AAC or M4A (read from its bytes) is 415 `MUSIC_FORMAT_UNSUPPORTED`. A job
names an uploaded track with `custom_music_id`; a delete deactivates it (soft delete).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy import select

from api.auth import CurrentPrincipal
from api.context import Ctx
from api.errors import ApiError, error_responses, not_found, validation_error
from api.music import FORMATS, MAX_BYTES, active_track, catalog, sniff
from api.tables import MusicTrack

router = APIRouter(prefix="/api/v1/music", tags=["music"])


class CatalogTrackOut(BaseModel):
    id: str
    title: str
    mood: str
    tempo: str
    energy_level: str
    bpm: int
    has_vocals: bool
    artist: str
    tags: list[str]


class CustomTrackOut(BaseModel):
    id: str
    title: str
    filename: str
    format: str
    size_bytes: int
    sha256: str
    is_active: bool
    created_at: datetime


def _out(t: MusicTrack) -> CustomTrackOut:
    return CustomTrackOut(id=t.id, title=t.title, filename=t.filename, format=t.format, size_bytes=t.size_bytes,
                          sha256=t.sha256, is_active=t.is_active, created_at=t.created_at)


@router.get("/catalog", response_model=list[CatalogTrackOut], responses=error_responses(401, 403))
def list_catalog(_: CurrentPrincipal, mood: Literal["upbeat", "chill", "inspiring"] | None = None,
                 tempo: Literal["slow", "medium", "fast"] | None = None,
                 limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[CatalogTrackOut]:
    return [CatalogTrackOut(**t.as_dict()) for t in catalog(mood=mood, tempo=tempo)[:limit]]


@router.get("/custom", response_model=list[CustomTrackOut], responses=error_responses(401, 403))
def list_custom(principal: CurrentPrincipal, ctx: Ctx,
                limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[CustomTrackOut]:
    with ctx.session() as db:
        rows = db.scalars(select(MusicTrack).where(MusicTrack.account_id == principal.account_id,
                                                   MusicTrack.is_active.is_(True))
                          .order_by(MusicTrack.created_at.desc(), MusicTrack.id).limit(limit)).all()
        return [_out(t) for t in rows]


def _read_checked(file: UploadFile) -> tuple[bytes, str]:
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApiError(413, "MUSIC_TOO_LARGE", f"a music file may be at most {MAX_BYTES} bytes",
                       details={"max_bytes": MAX_BYTES})
    fmt = sniff(data)
    if fmt is None:
        raise ApiError(415, "MUSIC_FORMAT_UNSUPPORTED", "the file is not MP3, WAV, OGG, AAC or M4A audio",
                       details={"filename": file.filename or "", "accepted": list(FORMATS)})
    return data, fmt


@router.post("/custom", status_code=201, response_model=CustomTrackOut,
             responses=error_responses(401, 403, 413, 415))
def upload(principal: CurrentPrincipal, ctx: Ctx, file: Annotated[UploadFile, File()],
           title: Annotated[str, Form(min_length=1, max_length=200)]) -> CustomTrackOut:
    if "\x00" in title:  # PostgreSQL text cannot hold one (api/guard.py checks JSON bodies only)
        raise validation_error(["body", "title"], "NUL characters are not allowed", type_="string_nul")
    data, fmt = _read_checked(file)
    track = MusicTrack(id=str(uuid.uuid4()), account_id=principal.account_id, title=title,
                       filename=(file.filename or f"upload.{fmt}").replace("\x00", "")[:255], format=fmt, size_bytes=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), data=data, is_active=True)
    with ctx.session() as db:
        db.add(track)
    return _out(track)


@router.delete("/custom/{music_id}", status_code=204, responses=error_responses(401, 403, 404))
def delete(music_id: str, principal: CurrentPrincipal, ctx: Ctx) -> Response:
    with ctx.session() as db:
        track = active_track(db, principal.account_id, music_id)
        if track is None:
            raise not_found("Music track", music_id)
        track.is_active = False
    return Response(status_code=204)
