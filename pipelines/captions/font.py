"""Fonts for captions: loading, shaping one word across the font chain, measuring it.

    shape = shape_word("Glow😍", style)   # WordShape(text="Glow😍", px=70, runs=(Glow, 😍), ...)
    shape.runs[1].face.is_colour           # True: drawn from Noto Color Emoji's bitmaps
    shape_word("\u200b", style)            # None: nothing to draw

Pillow does not fall back across fonts, so a word is cut into runs of one font each
(`pipelines.captions.fallback`: the caption font first, then the Noto fonts), every run is
shaped by libraqm (HarfBuzz for joining and marks, FriBiDi for direction), and the runs are
laid side by side: left to right, or right to left when the word reads right to left
(Arabic, Hebrew). Noto Color Emoji holds bitmaps at one size (109 px); its runs are drawn at
that size in colour and scaled to the caption's size. A character no font draws never gets
here: the caption track fails the job first (`missing_characters`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from pipelines.captions.fallback import Face, Run, font_chain, font_runs, is_rtl, missing_clusters
from pipelines.captions.style import CaptionStyle

MIN_WORD_PX = 6
EMOJI_STRIKE_PX = 109  # the only size Noto Color Emoji's bitmaps come in
EMOJI_EM = 0.9  # an emoji's size per font px: as tall as capitals plus a little
# A leading zero-width space marks a piece of a CJK word that follows the previous piece on
# the same line without a space (pipelines.captions.breaks).
GLUE = "\u200b"


@dataclass(frozen=True)
class RunShape:
    """One run placed in its word: drawn with `face` at `load_px`, then scaled by `scale`."""

    text: str
    face: Face
    load_px: int
    scale: float  # 1.0 except for colour bitmaps
    pen_x: float  # the run's pen origin, px right of the word's
    rtl: bool


@dataclass(frozen=True)
class WordShape:
    """A word as it will be drawn. Rectangles are relative to the pen origin (left end of
    the baseline) and include the outline and the shadow's room (`style.pad_px`)."""

    text: str  # what gets drawn: the written word less invisible format characters
    px: int  # font size; below style.font_px when the word was shrunk to fit the box
    advance: float  # pen advance, px
    left: int
    top: int
    right: int
    bottom: int
    runs: tuple[RunShape, ...] = ()

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@functools.lru_cache(maxsize=256)
def load_font(path: Path, px: int, index: int = 0) -> ImageFont.FreeTypeFont:
    """The font at `px` pixels with libraqm layout, loaded once per (path, size, face)."""
    return ImageFont.truetype(str(path), px, index=index, layout_engine=ImageFont.Layout.RAQM)


def missing_characters(text: str, style: CaptionStyle) -> tuple[str, ...]:
    """Clusters of `text` that no font of the caption chain can draw."""
    return missing_clusters(text.replace(GLUE, ""), font_chain(style.font_path))


@functools.lru_cache(maxsize=4096)
def shape_word(text: str, style: CaptionStyle) -> WordShape | None:
    """How `text` will be drawn in `style`, shrunk until it fits the caption box's width.

    None when there is nothing to draw. A word that is still too wide at MIN_WORD_PX
    (hundreds of letters) is cut and ends with an ellipsis.
    """
    glued = text.startswith(GLUE)
    drawn = " ".join(text.replace(GLUE, "").split())
    runs = font_runs(drawn, font_chain(style.font_path))
    if not runs:
        return None
    drawn = "".join(run.text for run in runs)
    shape = _measure(drawn, style.font_px, style)
    if shape.width > style.box.w:
        shape = _shrink(shape, style)
    while shape.width > style.box.w and len(shape.text) > 1:
        shape = _measure(shape.text[:-2] + "…", shape.px, style)
    return _glued(shape, line_metrics(style.font_path, style.font_px)[2]) if glued else shape


def _glued(shape: WordShape, space: float) -> WordShape:
    # Lines put a space between words; a glued piece draws that much to the left instead.
    shift = round(space)
    return WordShape(shape.text, shape.px, shape.advance - space + shift, shape.left - shift,
                     shape.top, shape.right - shift, shape.bottom,
                     tuple(RunShape(r.text, r.face, r.load_px, r.scale, r.pen_x - shift, r.rtl)
                           for r in shape.runs))


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
    runs = font_runs(text, font_chain(style.font_path))
    ordered = reversed(runs) if is_rtl(text) else runs  # runs of an RTL word go right to left
    pen, placed, box = 0.0, [], [0, 0, 0, 0]
    for run in ordered:
        shape, run_box, advance = _place_run(run, px, pen, style.stroke_px)
        placed.append(shape)
        box = run_box if len(placed) == 1 else [min(box[0], run_box[0]), min(box[1], run_box[1]),
                                                max(box[2], run_box[2]), max(box[3], run_box[3])]
        pen += advance
    pad = style.pad_px
    return WordShape(text=text, px=px, advance=pen, left=box[0] - pad, top=box[1] - pad,
                     right=box[2] + pad, bottom=box[3] + pad, runs=tuple(placed))


def _place_run(run: Run, px: int, pen: float, stroke: int) -> tuple[RunShape, list[int], float]:
    """The run at pen position `pen`: its shape, ink box (word coordinates) and advance."""
    direction = "rtl" if run.rtl else "ltr"
    if run.face.is_colour:
        load_px, scale = EMOJI_STRIKE_PX, px * EMOJI_EM / EMOJI_STRIKE_PX
        font = load_font(run.face.path, load_px, run.face.index)
        left, top, right, bottom = font.getbbox(run.text, anchor="ls", direction=direction)
        left, top, right, bottom = (round(v * scale) for v in (left, top, right, bottom))
        left, top, right, bottom = left - stroke, top - stroke, right + stroke, bottom + stroke
        advance = font.getlength(run.text, direction=direction) * scale
    else:
        load_px, scale = px, 1.0
        font = load_font(run.face.path, load_px, run.face.index)
        left, top, right, bottom = font.getbbox(run.text, stroke_width=stroke, anchor="ls",
                                                direction=direction)
        advance = font.getlength(run.text, direction=direction)
    offset = round(pen)
    shape = RunShape(run.text, run.face, load_px, scale, float(offset), run.rtl)
    return shape, [left + offset, top, right + offset, bottom], advance


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
