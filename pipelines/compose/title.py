"""On-screen titles: the hook line over the first shot, a selling point over its cutaway.

    sprite = title_card("Keeps espresso hot", Box(86, 940, 821, 154), font_path)
    sprite.blend_onto(frame, 86, 940)

Bold dark text on a white rounded box, the largest size at which the text fits the box in one
line or two; drawn once per shot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.base import Box
from pipelines.compose.compositor import Sprite


def title_card(text: str, box: Box, font_path: Path) -> Sprite:
    """Bold dark text on a white rounded box, sized to fit `box` (at most two lines)."""
    image = Image.new("RGBA", (box.w, box.h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    lines, font = _fit_lines(draw, text, font_path, box)
    block = "\n".join(lines)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), block, font=font, align="center")
    pad_x, pad_y = font.size // 2, font.size // 3
    w, h = right - left + 2 * pad_x, bottom - top + 2 * pad_y
    x0, y0 = (box.w - w) // 2, (box.h - h) // 2
    draw.rounded_rectangle((x0, y0, x0 + w, y0 + h), radius=font.size // 2,
                           fill=(255, 255, 255, 240))
    draw.multiline_text((x0 + pad_x - left, y0 + pad_y - top), block, font=font,
                        fill=(18, 18, 22, 255), align="center")
    return Sprite(np.asarray(image))


def _fit_lines(draw: ImageDraw.ImageDraw, text: str, font_path: Path,
               box: Box) -> tuple[list[str], ImageFont.FreeTypeFont]:
    size = max(12, box.h // 2)
    words = text.split()
    while True:
        font = ImageFont.truetype(str(font_path), size)
        for count in (1, 2):
            per = -(-len(words) // count)
            lines = [" ".join(words[i:i + per]) for i in range(0, len(words), per)]
            left, top, right, bottom = draw.multiline_textbbox((0, 0), "\n".join(lines), font=font)
            if right - left + size <= box.w and bottom - top + size * 2 // 3 <= box.h:
                return lines, font
        if size <= 12:
            return lines, font
        size = max(12, int(size * 0.9))
