"""The end card: the call to action with the product, shown over the last seconds.

    image = build_end_card(scene_base, cutout, layout, cta="Get 20% off today",
                           product_name="Glow Serum", font_path=font)

Drawn once as a full frame: the scene behind it blurred and darkened, the product large with a
shadow, the product name and the CTA on a pill button. Text is measured and shrunk to fit, so
any CTA the font can draw stays inside the safe zone.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.base import Box, Cutout
from pipelines.compose.compositor import paste_rgba
from pipelines.compose.layout import Layout
from pipelines.contract import DEFAULT_CTA
from pipelines.product import product_sprite_rgba

ACCENT = (255, 212, 0)


def end_card_seconds(duration_s: float) -> float:
    """Long enough to read, short enough not to drag: 2-3 s."""
    return float(np.clip(duration_s * 0.1, 2.0, 3.0))


def _backdrop(base: np.ndarray) -> np.ndarray:
    h, w = base.shape[:2]
    small = cv2.resize(base, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=3)
    blurred = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return (blurred.astype(np.uint16) * 90 >> 8).astype(np.uint8)  # about 35 % brightness


def _fit_font(draw: ImageDraw.ImageDraw, text: str, font_path: Path, box: Box,
              start_px: int) -> ImageFont.FreeTypeFont:
    size = start_px
    while size > 12:
        font = ImageFont.truetype(str(font_path), size)
        left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, align="center")
        if right - left <= box.w and bottom - top <= box.h:
            return font
        size = int(size * 0.9)
    return ImageFont.truetype(str(font_path), 12)


def _wrap(text: str, max_chars: int) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > max_chars:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _draw_texts(image: Image.Image, layout: Layout, cta: str, product_name: str,
                font_path: Path) -> None:
    draw = ImageDraw.Draw(image)
    box = layout.end_text
    name_box = Box(box.x, box.y, box.w, box.h * 2 // 5)
    font = _fit_font(draw, product_name, font_path, name_box, start_px=max(16, box.h // 3))
    draw.text((box.x + box.w / 2, name_box.y + name_box.h / 2), product_name, font=font,
              fill=(255, 255, 255), anchor="mm", stroke_width=max(1, font.size // 14),
              stroke_fill=(0, 0, 0))
    pill = Box(box.x, box.y + box.h * 9 // 20, box.w, box.h * 11 // 20)
    cta_text = _wrap(cta, 22)
    inner = Box(pill.x + pill.w // 12, pill.y + pill.h // 8, pill.w * 5 // 6, pill.h * 3 // 4)
    font = _fit_font(draw, cta_text, font_path, inner, start_px=max(14, pill.h // 2))
    draw.rounded_rectangle((pill.x, pill.y, pill.x + pill.w, pill.y + pill.h),
                           radius=pill.h // 2, fill=ACCENT)
    draw.multiline_text((pill.x + pill.w / 2, pill.y + pill.h / 2), cta_text, font=font,
                        fill=(20, 20, 20), anchor="mm", align="center")


def build_end_card(base: np.ndarray, cutout: Cutout, layout: Layout, *, cta: str | None,
                   product_name: str, font_path: Path) -> np.ndarray:
    card = _backdrop(base)
    sprite, placed = product_sprite_rgba(cutout, layout.end_product)
    paste_rgba(card, sprite, placed.x, placed.y)
    image = Image.fromarray(card)
    _draw_texts(image, layout, cta or DEFAULT_CTA, product_name, font_path)
    return np.asarray(image).copy()
