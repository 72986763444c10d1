"""Drawing caption words once, and assembling a page image from them.

    sprites = render_word(shape, style)       # WordSprites(normal=RGBA image, highlight=...)
    rgba = compose_page(placement, [sprites, ...], active=1)   # (h, w, 4) uint8

A word is rasterised once, as two masks (outline-and-fill, fill only) and a blurred shadow
mask; both colourings come from those masks, so the normal and highlighted word have exactly
the same alpha and swapping them never moves a pixel. Images are straight (not premultiplied)
RGBA, the form Pillow's alpha_composite and a numpy "over" expect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pipelines.captions.font import WordShape, load_font
from pipelines.captions.pages import PagePlacement
from pipelines.captions.style import RGB, CaptionStyle

SHADOW_OPACITY = 0.55


@dataclass(frozen=True)
class WordSprites:
    """One word drawn in the text colour and in the highlight colour, same size and alpha."""

    normal: Image.Image
    highlight: Image.Image


def render_word(shape: WordShape, style: CaptionStyle) -> WordSprites:
    """Rasterise `shape` with its outline and drop shadow in both caption colours."""
    outline, fill = _masks(shape, style)
    shadow = _shadow(outline, style.shadow_px)
    # Fill over outline gives the text layer, that layer over the shadow (drawn in the
    # outline's dark colour) the sprite. In straight alpha the colour is then
    # dark + (text - dark) * weight with weight = fill * outline / alpha, the same for any
    # text colour, so only a 256-entry lookup per colour differs between the two sprites.
    alpha = outline + shadow * (1.0 - outline)
    weight = fill * outline / np.maximum(alpha, 1e-6)
    weight_q = np.rint(weight * 255.0).astype(np.uint8)
    alpha_q = np.rint(alpha * 255.0).astype(np.uint8)
    return WordSprites(
        normal=_colour(weight_q, alpha_q, style.text_rgb, style.stroke_rgb),
        highlight=_colour(weight_q, alpha_q, style.highlight_rgb, style.stroke_rgb),
    )


def _masks(shape: WordShape, style: CaptionStyle) -> tuple[np.ndarray, np.ndarray]:
    """Coverage in [0, 1] of the outlined word and of its fill alone."""
    font = load_font(style.font_path, shape.px)
    origin = (-shape.left, -shape.top)  # the pen origin inside the sprite
    masks = []
    for stroke in (style.stroke_px, 0):
        image = Image.new("L", (shape.width, shape.height), 0)
        ImageDraw.Draw(image).text(origin, shape.text, font=font, fill=255, anchor="ls",
                                   stroke_width=stroke, stroke_fill=255)
        masks.append(np.asarray(image, dtype=np.float32) / 255.0)
    return masks[0], masks[1]


def _shadow(outline: np.ndarray, shadow_px: int) -> np.ndarray:
    if shadow_px <= 0:
        return np.zeros_like(outline)
    shifted = np.zeros_like(outline)
    shifted[shadow_px:, shadow_px:] = outline[:-shadow_px, :-shadow_px]
    image = Image.fromarray((shifted * 255).astype(np.uint8), "L")
    blurred = image.filter(ImageFilter.GaussianBlur(shadow_px))
    return np.asarray(blurred, dtype=np.float32) * (SHADOW_OPACITY / 255.0)


def _colour(weight_q: np.ndarray, alpha_q: np.ndarray, text_rgb: RGB,
            stroke_rgb: RGB) -> Image.Image:
    ramp = np.arange(256, dtype=np.float32)[:, None] / 255.0
    dark = np.asarray(stroke_rgb, np.float32)
    lut = np.rint(dark + (np.asarray(text_rgb, np.float32) - dark) * ramp).astype(np.uint8)
    rgba = np.empty((*alpha_q.shape, 4), np.uint8)
    rgba[..., :3] = lut[weight_q]
    rgba[..., 3] = alpha_q
    return Image.fromarray(rgba, "RGBA")


def compose_page(placement: PagePlacement, sprites: Sequence[WordSprites | None],
                 active: int | None) -> np.ndarray:
    """The page image, (h, w, 4) uint8 straight RGBA, word `active` highlighted (or none).

    `sprites` is aligned with the page's words; None marks a word the font cannot draw.
    """
    canvas = placement.canvas
    page = Image.new("RGBA", (canvas.w, canvas.h), (0, 0, 0, 0))
    for i, (box, sprite) in enumerate(zip(placement.word_boxes, sprites)):
        if box is None or sprite is None:
            continue
        image = sprite.highlight if i == active else sprite.normal
        page.alpha_composite(image, dest=(box.x - canvas.x, box.y - canvas.y))
    return np.array(page)
