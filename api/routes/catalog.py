"""Personas and voices, read from the same `configs/` catalog the worker renders with."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import Principal, authenticate
from api.context import AppContext, get_ctx
from api.errors import error_responses, not_found
from api.schemas import Page, PageParams, PersonaOut, VoiceOut, page_params
from engine.catalog import PersonaEntry, VoiceEntry

router = APIRouter(prefix="/api/v1", tags=["catalog"])


def _persona(p: PersonaEntry) -> PersonaOut:
    return PersonaOut(id=p.id, name=p.name, description=p.description, voice_id=p.voice_id,
                      attribution=p.attribution)


def _voice(v: VoiceEntry) -> VoiceOut:
    return VoiceOut(id=v.id, name=v.name, language=v.language, backend=v.backend)


@router.get("/personas", response_model=Page[PersonaOut], responses=error_responses(401, 403))
def personas(params: PageParams = Depends(page_params), _: Principal = Depends(authenticate),
             ctx: AppContext = Depends(get_ctx)) -> Page[PersonaOut]:
    entries = ctx.catalog.personas()
    window = entries[params.offset:params.offset + params.page_size]
    return Page[PersonaOut].of([_persona(p) for p in window], len(entries), params)


@router.get("/personas/{persona_id}", response_model=PersonaOut, responses=error_responses(401, 403, 404))
def persona(persona_id: str, _: Principal = Depends(authenticate), ctx: AppContext = Depends(get_ctx)) -> PersonaOut:
    found = next((p for p in ctx.catalog.personas() if p.id == persona_id), None)
    if found is None:
        raise not_found("Persona", persona_id)
    return _persona(found)


@router.get("/voices", response_model=Page[VoiceOut], responses=error_responses(401, 403))
def voices(params: PageParams = Depends(page_params), _: Principal = Depends(authenticate),
           ctx: AppContext = Depends(get_ctx)) -> Page[VoiceOut]:
    entries = ctx.catalog.voices()
    window = entries[params.offset:params.offset + params.page_size]
    return Page[VoiceOut].of([_voice(v) for v in window], len(entries), params)


@router.get("/voices/{voice_id}", response_model=VoiceOut, responses=error_responses(401, 403, 404))
def voice(voice_id: str, _: Principal = Depends(authenticate), ctx: AppContext = Depends(get_ctx)) -> VoiceOut:
    found = next((v for v in ctx.catalog.voices() if v.id == voice_id), None)
    if found is None:
        raise not_found("Voice", voice_id)
    return _voice(found)
