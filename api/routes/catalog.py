"""Personas and voices, read from the same `configs/` catalog the worker renders with.

    curl -s "$API/api/v1/personas?page_size=50" -H "X-API-Key: $KEY"     # {items, total, ...}
    curl -s "$API/api/v1/voices/joe" -H "X-API-Key: $KEY"

A job's `persona_id` and `voice_settings.voice_id` must name one of these (422 otherwise).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import CurrentPrincipal
from api.context import Ctx
from api.errors import error_responses, not_found
from api.schemas import Page, Paging, PersonaOut, VoiceOut
from engine.catalog import PersonaEntry, VoiceEntry

router = APIRouter(prefix="/api/v1", tags=["catalog"])


def _persona(p: PersonaEntry) -> PersonaOut:
    return PersonaOut(id=p.id, name=p.name, description=p.description, voice_id=p.voice_id,
                      attribution=p.attribution)


def _voice(v: VoiceEntry) -> VoiceOut:
    return VoiceOut(id=v.id, name=v.name, language=v.language, backend=v.backend)


@router.get("/personas", response_model=Page[PersonaOut], responses=error_responses(401, 403))
def personas(params: Paging, _: CurrentPrincipal,
             ctx: Ctx) -> Page[PersonaOut]:
    entries = ctx.catalog.personas()
    window = entries[params.offset:params.offset + params.page_size]
    return Page[PersonaOut].of([_persona(p) for p in window], len(entries), params)


@router.get("/personas/{persona_id}", response_model=PersonaOut, responses=error_responses(401, 403, 404))
def persona(persona_id: str, _: CurrentPrincipal, ctx: Ctx) -> PersonaOut:
    found = next((p for p in ctx.catalog.personas() if p.id == persona_id), None)
    if found is None:
        raise not_found("Persona", persona_id)
    return _persona(found)


@router.get("/voices", response_model=Page[VoiceOut], responses=error_responses(401, 403))
def voices(params: Paging, _: CurrentPrincipal,
           ctx: Ctx) -> Page[VoiceOut]:
    entries = ctx.catalog.voices()
    window = entries[params.offset:params.offset + params.page_size]
    return Page[VoiceOut].of([_voice(v) for v in window], len(entries), params)


@router.get("/voices/{voice_id}", response_model=VoiceOut, responses=error_responses(401, 403, 404))
def voice(voice_id: str, _: CurrentPrincipal, ctx: Ctx) -> VoiceOut:
    found = next((v for v in ctx.catalog.voices() if v.id == voice_id), None)
    if found is None:
        raise not_found("Voice", voice_id)
    return _voice(found)
