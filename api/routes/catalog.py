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
    return VoiceOut(id=v.id, name=v.name, language=v.language, backend=v.backend,
                    description=v.description)


def _window(entries: list, params, convert) -> tuple[list, int]:
    """One page of catalog entries, converted, and how many there are in all."""
    return [convert(e) for e in entries[params.offset:params.offset + params.page_size]], len(entries)


def _find(entries: list, wanted: str, kind: str):
    found = next((e for e in entries if e.id == wanted), None)
    if found is None:
        raise not_found(kind, wanted)
    return found


@router.get("/personas", response_model=Page[PersonaOut], responses=error_responses(401, 403))
def personas(params: Paging, _: CurrentPrincipal, ctx: Ctx) -> Page[PersonaOut]:
    return Page[PersonaOut].of(*_window(ctx.catalog.personas(), params, _persona), params)


@router.get("/personas/{persona_id}", response_model=PersonaOut, responses=error_responses(401, 403, 404))
def persona(persona_id: str, _: CurrentPrincipal, ctx: Ctx) -> PersonaOut:
    return _persona(_find(ctx.catalog.personas(), persona_id, "Persona"))


@router.get("/voices", response_model=Page[VoiceOut], responses=error_responses(401, 403))
def voices(params: Paging, _: CurrentPrincipal, ctx: Ctx) -> Page[VoiceOut]:
    return Page[VoiceOut].of(*_window(ctx.catalog.voices(), params, _voice), params)


@router.get("/voices/{voice_id}", response_model=VoiceOut, responses=error_responses(401, 403, 404))
def voice(voice_id: str, _: CurrentPrincipal, ctx: Ctx) -> VoiceOut:
    return _voice(_find(ctx.catalog.voices(), voice_id, "Voice"))
