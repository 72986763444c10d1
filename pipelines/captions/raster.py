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
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from pipelines.captions.font import RunShape, WordShape, load_font
from pipelines.captions.pages import PagePlacement
from pipelines.captions.style import RGB, CaptionStyle

SHADOW_OPACITY = 0.55


@dataclass(frozen=True)
class WordSprites:
    """One word drawn in the text colour and in the highlight colour, same size and alpha."""

    normal: Image.Image
    highlight: Image.Image


def render_word(shape: WordShape, style: CaptionStyle) -> WordSprites:
    """Rasterise `shape` with its outline and drop shadow in both caption colours.

    Colour emoji keep their own colours in both sprites, over an outline of their shape.
    """
    outline, fill, colour = _masks(shape, style)
    shadow = _shadow(outline, style.shadow_px)
    # Fill over outline gives the text layer, that layer over the shadow (drawn in the
    # outline's dark colour) the sprite. In straight alpha the colour is then
    # dark + (text - dark) * weight with weight = fill * outline / alpha, the same for any
    # text colour, so only a 256-entry lookup per colour differs between the two sprites.
    alpha = outline + shadow * (1.0 - outline)
    weight = fill * outline / np.maximum(alpha, 1e-6)
    weight_q = np.rint(weight * 255.0).astype(np.uint8)
    alpha_q = np.rint(alpha * 255.0).astype(np.uint8)
    sprites = [_colour(weight_q, alpha_q, rgb, style.stroke_rgb)
               for rgb in (style.text_rgb, style.highlight_rgb)]
    if colour is not None:
        for sprite in sprites:
            sprite.alpha_composite(colour)
    return WordSprites(normal=sprites[0], highlight=sprites[1])


def _masks(shape: WordShape, style: CaptionStyle) -> tuple[np.ndarray, np.ndarray,
                                                            Image.Image | None]:
    """Coverage in [0, 1] of the outlined word and of its fill alone, and the colour
    glyphs (RGBA, sprite-sized) when the word has any."""
    size = (shape.width, shape.height)
    origin = (-shape.left, -shape.top)  # the pen origin inside the sprite
    outline, fill = Image.new("L", size, 0), Image.new("L", size, 0)
    colour = None
    for run in shape.runs:
        pen = (origin[0] + run.pen_x, origin[1])
        if run.face.is_colour:
            glyphs = _colour_run(run, pen, size)
            colour = glyphs if colour is None else Image.alpha_composite(colour, glyphs)
            continue
        font = load_font(run.face.path, run.load_px, run.face.index)
        direction = "rtl" if run.rtl else "ltr"
        for image, stroke in ((outline, style.stroke_px), (fill, 0)):
            ImageDraw.Draw(image).text(pen, run.text, font=font, fill=255, anchor="ls",
                                       stroke_width=stroke, stroke_fill=255,
                                       direction=direction)
    if colour is not None:
        outline = ImageChops.lighter(outline, _dilate(colour.getchannel("A"), style.stroke_px))
    return (np.asarray(outline, dtype=np.float32) / 255.0,
            np.asarray(fill, dtype=np.float32) / 255.0, colour)


def _colour_run(run: RunShape, pen: tuple[float, int], size: tuple[int, int]) -> Image.Image:
    """The run's colour bitmaps drawn at their own size, scaled, placed at `pen`."""
    font = load_font(run.face.path, run.load_px, run.face.index)
    left, top, right, bottom = font.getbbox(run.text, anchor="ls")
    strike = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    ImageDraw.Draw(strike).text((-left, -top), run.text, font=font, anchor="ls",
                                embedded_color=True)
    scaled = strike.resize((max(1, round(strike.width * run.scale)),
                            max(1, round(strike.height * run.scale))), Image.Resampling.LANCZOS)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.alpha_composite(scaled, dest=(round(pen[0] + left * run.scale),
                                        round(pen[1] + top * run.scale)))
    return layer


def _dilate(mask: Image.Image, radius: int) -> Image.Image:
    return mask.filter(ImageFilter.MaxFilter(2 * radius + 1)) if radius > 0 else mask


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
