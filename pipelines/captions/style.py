"""How burnt-in captions look and where they sit, sized from the frame.

    style = caption_style_for(1080, 1920, font_path=DEFAULT_FONT_PATH, karaoke=True)
    style.font_px, style.box  # 70, Box(x=90, y=1150, w=810, h=300)

Everything scales with the frame's short side, so a 360x640 draft looks like a shrunken
1080x1920 render. The caption box sits inside the platform safe zones (research/encoding.md
4.3): on 9:16 it keeps clear of the top ~250 px, the bottom ~420 px and the right ~180 px of
1080x1920, where TikTok, Reels and Shorts draw their buttons and descriptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.locations import configs_root
from models.base import Box

RGB = tuple[int, int, int]
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")

FONTS_DIR = configs_root() / "fonts"
DEFAULT_FONT_PATH = FONTS_DIR / "Montserrat-ExtraBold.ttf"

# Sizes as fractions of the frame's short side; 0.065 gives 70 px text on a 1080-wide 9:16.
FONT_FRACTION = 0.065
STROKE_EM = 0.09  # outline width per font px: thick enough to read white text on white
SHADOW_EM = 0.05  # drop-shadow offset and blur radius per font px
LINE_PITCH_EM = 1.18  # baseline to baseline
MIN_FONT_PX = 8

# Caption box per frame shape, as fractions of (width, height): x0, x1, and for each
# position the (top, bottom) of the box. Portrait figures come from the universal safe box
# x 90-900, captions y 1150-1450 of 1080x1920; the right margin is wider than the left
# because the like/comment/share column sits there.
_BOXES = {
    "portrait": ((0.083, 0.833), {"lower": (0.599, 0.755), "middle": (0.422, 0.578)}),
    # Square feed posts: overlays are lighter, but the right column still appears in Reels.
    # Half the frame wide, so the captions fit beside a product held at the persona's side and
    # inside one half of a split.
    "square": ((0.03, 0.49), {"lower": (0.64, 0.88), "middle": (0.38, 0.62)}),
    # Landscape (YouTube, feed): the player bar's bottom 10 % kept clear; as wide as one half of
    # the frame, so captions sit under the persona or beside it, never across a panel's edge.
    "landscape": ((0.05, 0.49), {"lower": (0.66, 0.90), "middle": (0.38, 0.62)}),
}


@dataclass(frozen=True)
class CaptionStyle:
    """Resolved caption look in frame pixels. Colours are (r, g, b) 0-255."""

    font_path: Path
    font_px: int
    text_rgb: RGB
    highlight_rgb: RGB
    stroke_px: int
    stroke_rgb: RGB
    box: Box  # the safe area every caption pixel stays inside, frame coordinates
    karaoke: bool  # True: the spoken word is highlighted; False: plain subtitles
    max_lines: int = 2
    shadow_px: int = 0  # drop-shadow offset and blur radius; 0 draws no shadow

    @property
    def line_pitch_px(self) -> int:
        return round(self.font_px * LINE_PITCH_EM)

    @property
    def pad_px(self) -> int:
        """Room around each word's outline for its shadow (offset plus blur spread)."""
        return 3 * self.shadow_px


def parse_colour(value: str) -> RGB:
    """'#FFD400' -> (255, 212, 0). Raises ValueError naming the value."""
    if not _HEX_COLOUR.fullmatch(value):
        raise ValueError(f"colour must look like #FFD400, got {value!r}")
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def frame_shape(frame_w: int, frame_h: int) -> str:
    """'portrait', 'square' or 'landscape'."""
    ratio = frame_w / frame_h
    if ratio < 0.8:
        return "portrait"
    return "landscape" if ratio > 1.25 else "square"


def caption_style_for(
    frame_w: int,
    frame_h: int,
    *,
    font_path: Path,
    karaoke: bool,
    text_colour: str = "#FFFFFF",
    highlight_colour: str = "#FFD400",
    font_scale: float = 1.0,
    position: str = "lower",
) -> CaptionStyle:
    """The caption style for a frame of `frame_w` x `frame_h` px.

    `font_scale` multiplies the text size (0.5-2.0 in the job spec); `position` is "lower" or
    "middle". When the scaled text needs more height than the nominal box, the box grows
    upwards ("lower") or about its centre ("middle"), never past the frame's top safe margin.
    """
    if not 0.25 <= font_scale <= 4.0:
        raise ValueError(f"font_scale must be within 0.25-4.0, got {font_scale}")
    font_px = max(MIN_FONT_PX, round(FONT_FRACTION * min(frame_w, frame_h) * font_scale))
    stroke_px = max(1, round(font_px * STROKE_EM))
    shadow_px = max(1, round(font_px * SHADOW_EM))
    needed_h = _needed_height(font_px, stroke_px, 3 * shadow_px, max_lines=2)
    return CaptionStyle(
        font_path=Path(font_path), font_px=font_px,
        text_rgb=parse_colour(text_colour), highlight_rgb=parse_colour(highlight_colour),
        stroke_px=stroke_px, stroke_rgb=(0, 0, 0),
        box=caption_box(frame_w, frame_h, position=position, min_height=needed_h),
        karaoke=karaoke, max_lines=2, shadow_px=shadow_px,
    )


def caption_box(frame_w: int, frame_h: int, *, position: str, min_height: int = 0) -> Box:
    """The safe caption area of a frame, at least `min_height` px tall."""
    if frame_w <= 0 or frame_h <= 0:
        raise ValueError(f"frame size must be positive, got {frame_w}x{frame_h}")
    (x0, x1), rows = _BOXES[frame_shape(frame_w, frame_h)]
    if position not in rows:
        raise ValueError(f"caption position must be 'lower' or 'middle', got {position!r}")
    top, bottom = rows[position]
    left, right = round(x0 * frame_w), round(x1 * frame_w)
    y0, y1 = _fit_rows(round(top * frame_h), round(bottom * frame_h), frame_h, position,
                       min_height)
    return Box(left, y0, right - left, y1 - y0)


def _needed_height(font_px: int, stroke_px: int, pad_px: int, *, max_lines: int) -> int:
    # Lines of cap height + descender, plus room above for accents on capitals (É) and
    # below for descenders, each side with outline and shadow.
    text = (max_lines - 1) * LINE_PITCH_EM * font_px + 1.45 * font_px
    return round(text + 2 * (stroke_px + pad_px))


def _fit_rows(y0: int, y1: int, frame_h: int, position: str, needed: int) -> tuple[int, int]:
    if y1 - y0 >= needed:
        return y0, y1
    if position == "lower":
        y0 = y1 - needed
    else:
        centre = (y0 + y1) // 2
        y0, y1 = centre - needed // 2, centre - needed // 2 + needed
    # The top ~7 % holds the app's tabs and search; never grow into it.
    top_margin = round(0.07 * frame_h)
    if y0 < top_margin:
        y0, y1 = top_margin, min(frame_h, top_margin + needed)
    return y0, y1
