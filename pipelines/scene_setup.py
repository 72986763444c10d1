"""Glue for the orchestrator's stages: what each one builds from the job and the catalog.

    built = build(spec, track, cutout, persona=entry, animator=animator, configs=Path("configs"))
    built.scene, built.patches, built.captions

Kept apart from `render.py` so the orchestrator reads as the list of stages.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.catalog import Catalog, PersonaEntry
from engine.spec import JobSpec
from models.base import Box, Cutout, PersonaAnimator, PersonaImage, Script
from models.registry import Registry
from pipelines import artifacts
from pipelines.audio import load_music_file, mix_audio
from pipelines.captions import CaptionTrack, caption_style_for, write_vtt
from pipelines.compositor import EndCard, Scene
from pipelines.encoder import encode_audio
from pipelines.endcard import build_end_card, end_card_seconds
from pipelines.layout import layout_for
from pipelines.scene import build_base, build_scene
from pipelines.voice import VoiceTrack

FPS = 30  # the output contract's constant frame rate
MIX_RATE = 48000
DEFAULT_MOOD = "upbeat"


@functools.cache
def font_path(configs: Path) -> Path:
    """The bold caption font shipped in configs/fonts (the boldest weight present)."""
    fonts = sorted((configs / "fonts").glob("*.ttf"))
    for weight in ("ExtraBold", "Black", "Bold"):
        for font in fonts:
            if weight in font.stem:
                return font
    if not fonts:
        raise FileNotFoundError(f"no .ttf font in {configs / 'fonts'}")
    return fonts[0]


def save_rgba(rgba: np.ndarray, path: Path) -> Path:
    Image.fromarray(rgba, "RGBA").save(path, "PNG")
    return path


def mix_track(spec: JobSpec, track: VoiceTrack, catalog: Catalog, registry: Registry,
              work: Path) -> Path:
    """Music bed (custom file or composed per mood) ducked under the voice, normalised, as AAC."""
    music = None
    if spec.music_enabled and spec.custom_music_id:
        music = load_music_file(catalog.music_file(spec.custom_music_id),
                                duration_s=track.duration_s, sample_rate=MIX_RATE)
    elif spec.music_enabled:
        music = registry.music().compose(mood=spec.music_mood or DEFAULT_MOOD,
                                         duration_s=track.duration_s, sample_rate=MIX_RATE,
                                         seed=spec.seed)
    (work / "mix").mkdir(exist_ok=True)
    mixed = mix_audio(track.speech, music, music_volume=spec.music_volume,
                      out_path=work / "audio.wav", work_dir=work / "mix", sample_rate=MIX_RATE)
    return encode_audio(mixed.out_path, work / "audio.m4a", timeout_s=120)


def caption_track(spec: JobSpec, track: VoiceTrack, *, configs: Path) -> CaptionTrack:
    width, height = spec.frame_size
    options = spec.custom_caption_options
    style = caption_style_for(
        width, height, font_path=font_path(configs), karaoke=spec.caption_style == "tiktok_karaoke",
        **({} if options is None else {"text_colour": options.text_colour,
                                       "highlight_colour": options.highlight_colour,
                                       "font_scale": options.font_scale,
                                       "position": options.position}))
    return CaptionTrack(track.speech.words, style)


@dataclass(frozen=True)
class BuiltScene:
    scene: Scene
    patches: Iterator[np.ndarray]  # persona patches, one per frame until the end card covers it
    captions: CaptionTrack
    boxes: dict[str, list[int]]  # where the face and mouth are in the frame, for the report


def _frame_box(box: Box, panel: Box) -> list[int]:
    return [panel.x + box.x, panel.y + box.y, box.w, box.h]


def build(spec: JobSpec, track: VoiceTrack, cutout: Cutout, *, persona: PersonaEntry,
          animator: PersonaAnimator, configs: Path) -> BuiltScene:
    width, height = spec.frame_size
    layout = layout_for(width, height)
    image = np.asarray(Image.open(persona.image_path).convert("RGB"))
    prepared = animator.prepare(PersonaImage(persona.id, image, persona.image_path),
                                panel_w=layout.panel.w, panel_h=layout.panel.h)
    captions = caption_track(spec, track, configs=configs)
    card_start = track.duration_s - end_card_seconds(track.duration_s)
    card = EndCard(build_end_card(build_base(prepared, layout), cutout, layout, cta=spec.cta_text,
                                  product_name=spec.product_name, font_path=font_path(configs)),
                   start_s=card_start)
    scene = build_scene(prepared, layout, cutout, mode=spec.interaction_mode,
                        captions=captions if spec.captions_enabled else None, end_card=card)
    animated_frames = min(track.frame_count, int((card_start + card.fade_s) * FPS) + 1)
    patches = animator.animate(prepared, track.speech, fps=FPS, frame_count=animated_frames,
                               seed=spec.seed)
    boxes = {name: _frame_box(box, layout.panel) for name, box in
             (("face", prepared.face), ("mouth", prepared.mouth), ("persona_roi", prepared.roi))}
    boxes["product"] = [layout.product.x, layout.product.y, layout.product.w, layout.product.h]
    boxes["card"] = [layout.card.x, layout.card.y, layout.card.w, layout.card.h]
    return BuiltScene(scene, patches, captions, boxes)


def still_times(track: VoiceTrack) -> list[float]:
    """Thumbnail (1.2 s in, the hook with the product in view) and one still per segment."""
    return [min(1.2, track.duration_s / 2), *segment_still_times(track)]


def segment_still_times(track: VoiceTrack) -> list[float]:
    return [(start + end) / 2 for start, end in track.segment_spans]


def write_captions(captions: CaptionTrack, path: Path) -> None:
    write_vtt(captions.pages, path)


def write_pictures(stills: dict[float, np.ndarray], script: Script, track: VoiceTrack,
                   work: Path, *, configs: Path) -> dict[str, Path]:
    thumb = work / "thumbnail.jpg"
    artifacts.write_thumbnail(stills[still_times(track)[0]], thumb)
    board = work / "storyboard.png"
    tiles = [(stills[t], seg.text) for t, seg in zip(segment_still_times(track), script.segments,
                                                     strict=True)]
    artifacts.write_storyboard(tiles, board, font_path(configs))
    return {"thumbnail.jpg": thumb, "storyboard.png": board}
