"""Burnt-in captions: TikTok-style karaoke (the spoken word highlighted) or plain subtitles.

    style = caption_style_for(1080, 1920, font_path=DEFAULT_FONT_PATH, karaoke=True)
    track = CaptionTrack(speech.words, style)      # rasterises every word once
    for index in range(frame_count):
        layer = track.layer_at(index / fps)        # None while nothing is shown
        if layer is not None:
            blend(frame, layer.rgba, layer.x, layer.y)   # redo only when layer.key changes
    write_vtt(track.pages, out_dir / "captions.vtt")

Words are timed in video seconds (`WordTiming`). The page on screen is found by bisection
and its image for the active word is assembled on first use and kept in a small cache, so a
frame costs a dictionary lookup. The spoken word (start_s <= t < end_s) is highlighted; in the
short gaps inside a page the last word spoken stays highlighted. Every script is drawn
through a font fallback chain (fallback.py, font.py), colour emoji in colour; a character no
font of the chain draws fails the job with CAPTION_GLYPH_MISSING before any frame is drawn,
rather than vanishing. Words written without spaces (Japanese, Chinese) are cut into pieces
lines may break between (breaks.py). The pieces live in style.py (look and safe box),
fallback.py and font.py (font choice, shaping, measuring), pages.py (pagination, placement)
and raster.py (drawing).
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import CaptionGlyphMissing
from engine.spec import JobSpec
from models.base import Box, WordTiming
from pipelines.captions import raster
from pipelines.captions.breaks import breakable_words
from pipelines.captions.font import font_path, missing_characters, shape_word
from pipelines.captions.pages import CaptionPage, PagePlacement, paginate, place_page
from pipelines.captions.style import DEFAULT_FONT_PATH, CaptionStyle, caption_style_for
from pipelines.voice import VoiceTrack

__all__ = [
    "DEFAULT_FONT_PATH", "CaptionLayer", "CaptionPage", "CaptionStyle", "CaptionTrack",
    "caption_style_for", "paginate", "write_vtt",
]

# Enough for a page's states (one per word plus none) twice over; playback is in order, so
# each state is built once and dropped after its page has passed.
_STATE_CACHE = 16


@dataclass(frozen=True, eq=False)
class CaptionLayer:
    """One caption image to blend onto a frame at (x, y), frame pixels.

    `rgba` is (h, w, 4) uint8 straight alpha, C-contiguous and read-only (it is shared by
    every frame of the same state). `key` is equal for two layers exactly when their images
    are the same. `word_boxes` holds where each word of `words` is drawn (frame pixels,
    outline and shadow included; None for a word with nothing to draw), and `active` is the
    index of the highlighted word, or None.
    """

    rgba: np.ndarray = field(repr=False)
    x: int
    y: int
    key: tuple[int, int | None]
    words: tuple[WordTiming, ...]
    word_boxes: tuple[Box | None, ...]
    active: int | None


class CaptionTrack:
    """The captions of one video: pages, word sprites and the layer for any time."""

    def __init__(self, words: Sequence[WordTiming], style: CaptionStyle):
        self.style = style
        check_drawable(words, style)
        self.pages: tuple[CaptionPage, ...] = tuple(paginate(breakable_words(words), style))
        self._page_starts = [page.start_s for page in self.pages]
        self._placements: list[PagePlacement] = [place_page(page, style) for page in self.pages]
        self._drawn = [_drawn_words(page) for page in self.pages]
        self._sprites = self._rasterise_words()
        self._layer = functools.lru_cache(maxsize=_STATE_CACHE)(self._build_layer)

    def layer_at(self, t_s: float) -> CaptionLayer | None:
        """The caption to show at `t_s` seconds, or None when no page is up."""
        index = bisect_right(self._page_starts, t_s) - 1
        if index < 0 or t_s >= self.pages[index].end_s or not self._drawn[index]:
            return None
        return self._layer(index, self._active_word(index, t_s))

    def _active_word(self, index: int, t_s: float) -> int | None:
        if not self.style.karaoke:
            return None
        starts, positions = self._drawn[index]
        spoken = bisect_right(starts, t_s) - 1
        return positions[spoken] if spoken >= 0 else None

    def _rasterise_words(self) -> dict:
        """One sprite pair per distinct drawn word, built now so frames never wait on it."""
        sprites = {}
        for page in self.pages:
            for word in page.words:
                shape = shape_word(word.text, self.style)
                if shape is not None and shape not in sprites:
                    sprites[shape] = raster.render_word(shape, self.style)
        return sprites

    def _build_layer(self, index: int, active: int | None) -> CaptionLayer:
        page, placement = self.pages[index], self._placements[index]
        shapes = [shape_word(w.text, self.style) for w in page.words]
        sprites = [None if s is None else self._sprites[s] for s in shapes]
        rgba = raster.compose_page(placement, sprites, active)
        rgba.setflags(write=False)
        return CaptionLayer(rgba=rgba, x=placement.canvas.x, y=placement.canvas.y,
                            key=(index, active), words=page.words,
                            word_boxes=placement.word_boxes, active=active)


def check_drawable(words: Sequence[WordTiming], style: CaptionStyle) -> None:
    """Raise CaptionGlyphMissing when a character of `words` is in no font of the chain."""
    missing: dict[str, list[str]] = {}
    for word in words:
        for cluster in missing_characters(word.text, style):
            missing.setdefault(cluster, []).append(word.text)
    if missing:
        points = [" ".join(f"U+{ord(c):04X}" for c in cluster) for cluster in missing]
        raise CaptionGlyphMissing(
            f"no caption font can draw {', '.join(points)}; remove the character or "
            "turn captions off", details={"characters": list(missing), "code_points": points,
                                          "words": sorted({w for ws in missing.values() for w in ws})})


def _drawn_words(page: CaptionPage) -> tuple[list[float], list[int]] | None:
    """Start times and indices of the page's drawn words, for bisection; None if none."""
    positions = sorted(i for line in page.lines for i in line)
    if not positions:
        return None
    return [page.words[i].start_s for i in positions], positions


def write_vtt(pages: Sequence[CaptionPage], path: Path) -> None:
    """Write a WebVTT sidecar: one cue per page with its full text (emoji included)."""
    lines = ["WEBVTT", ""]
    cue = 0
    for page in pages:
        if page.end_s <= page.start_s:
            continue  # WebVTT cues must end after they start
        cue += 1
        lines += [str(cue), f"{_vtt_time(page.start_s)} --> {_vtt_time(page.end_s)}",
                  _vtt_escape(page.text), ""]
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def _vtt_time(seconds: float) -> str:
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def caption_track(spec: JobSpec, track: VoiceTrack, *, configs: Path) -> CaptionTrack:
    return captions_for_words(spec, track.speech.words, configs=configs)


def captions_for_words(spec: JobSpec, words: Sequence[WordTiming], *,
                       configs: Path) -> CaptionTrack:
    """The job's captions (its style and custom options) over timed `words`."""
    width, height = spec.frame_size
    options = spec.custom_caption_options
    style = caption_style_for(
        width, height, font_path=font_path(configs), karaoke=spec.caption_style == "tiktok_karaoke",
        **({} if options is None else {"text_colour": options.text_colour,
                                       "highlight_colour": options.highlight_colour,
                                       "font_scale": options.font_scale,
                                       "position": options.position}))
    return CaptionTrack(words, style)
