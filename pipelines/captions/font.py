"""Fonts for captions: loading, glyph coverage and measuring one word.

    shape = shape_word("Glow", style)   # WordShape(text="Glow", px=70, advance=..., left=...)
    shape_word("😀", style)             # None: the font cannot draw any of it

Pillow does not fall back across fonts, so a character the caption font lacks would be drawn
as a box ("tofu"). We leave such characters out instead: emoji, and scripts the font does not
cover (with Montserrat: Greek, Arabic, Hebrew, CJK), vanish from the burnt-in captions while
the rest of the word is still drawn. The WebVTT sidecar keeps the full text.

Layout uses Pillow's BASIC engine (FreeType with kerning): captions are left-to-right in
every script the shipped font covers, and it does not depend on libfribidi being installed.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from pipelines.captions.style import CaptionStyle

MIN_WORD_PX = 6
# A code point no font maps (plane 16 private use); what it draws is the font's .notdef glyph.
_UNMAPPED = "\U0010fffd"
_PROBE_PX = 32


@dataclass(frozen=True)
class WordShape:
    """A word as it will be drawn. Rectangles are relative to the pen origin (left end of
    the baseline) and include the outline and the shadow's room (`style.pad_px`)."""

    text: str  # what gets drawn: the written word less the characters the font lacks
    px: int  # font size; below style.font_px when the word was shrunk to fit the box
    advance: float  # pen advance, px
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@functools.lru_cache(maxsize=64)
def load_font(path: Path, px: int) -> ImageFont.FreeTypeFont:
    """The font at `px` pixels, loaded once per (path, size) per process."""
    return ImageFont.truetype(str(path), px, layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=8192)
def has_glyph(path: Path, char: str) -> bool:
    """Whether the font draws `char` with a glyph of its own rather than .notdef."""
    font = load_font(path, _PROBE_PX)
    return _mask_signature(font, char) != _mask_signature(font, _UNMAPPED)


def _mask_signature(font: ImageFont.FreeTypeFont, text: str) -> tuple:
    mask = font.getmask(text)
    return (mask.size, bytes(mask))


def drawable_text(path: Path, text: str) -> str:
    """`text` in NFC with every character the font cannot draw left out."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf") and has_glyph(path, char):
            kept.append(char)
    return " ".join("".join(kept).split())


@functools.lru_cache(maxsize=4096)
def shape_word(text: str, style: CaptionStyle) -> WordShape | None:
    """How `text` will be drawn in `style`, shrunk until it fits the caption box's width.

    None when the font can draw none of it. A word that is still too wide at MIN_WORD_PX
    (hundreds of letters) is cut and ends with an ellipsis.
    """
    drawn = drawable_text(style.font_path, text)
    if not drawn:
        return None
    shape = _measure(drawn, style.font_px, style)
    if shape.width > style.box.w:
        shape = _shrink(shape, style)
    while shape.width > style.box.w and len(shape.text) > 1:
        shape = _measure(shape.text[:-2] + "…", shape.px, style)
    return shape


def _shrink(shape: WordShape, style: CaptionStyle) -> WordShape:
    # Outline and shadow room do not scale with the font size; only the ink does.
    fixed = 2 * (style.stroke_px + style.pad_px)
    px = int(shape.px * (style.box.w - fixed) / max(1, shape.width - fixed))
    px = max(MIN_WORD_PX, min(px, shape.px - 1))
    shape = _measure(shape.text, px, style)
    while shape.width > style.box.w and shape.px > MIN_WORD_PX:
        shape = _measure(shape.text, shape.px - 1, style)
    return shape


def _measure(text: str, px: int, style: CaptionStyle) -> WordShape:
    font = load_font(style.font_path, px)
    left, top, right, bottom = font.getbbox(text, stroke_width=style.stroke_px, anchor="ls")
    pad = style.pad_px
    return WordShape(text=text, px=px, advance=font.getlength(text),
                     left=left - pad, top=top - pad, right=right + pad, bottom=bottom + pad)


@functools.lru_cache(maxsize=64)
def line_metrics(path: Path, px: int) -> tuple[int, int, float]:
    """(cap height, descender depth, space advance) in px: a line's nominal ink box."""
    font = load_font(path, px)
    cap = -font.getbbox("H", anchor="ls")[1]
    descender = font.getbbox("g", anchor="ls")[3]
    return cap, descender, font.getlength(" ")


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
