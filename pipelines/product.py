"""The product in the scene: fetched, cut out, given a soft shadow, placed per interaction mode.

    cutout = load_product(spec.product_image_url, limits=limits, allow_local_files=True,
                          cutout=registry.cutout())
    layer = holdable_layer(cutout, layout.product, frame_h=1920)    # moves gently per frame
    card = product_card_layer(cutout, layout.card)                   # display_static

A product whose background could not be removed is shown as a rounded photo card rather than
a rectangle pasted over the persona. Scaling always keeps the product's aspect ratio.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.fetch import fetch_image_bytes
from engine.image_decode import decode_product_image
from engine.settings import FetchLimits
from models.base import Box, Cutout, CutoutBackend
from pipelines.compose.compositor import Layer, Placement, Sprite, paste_rgba
from pipelines.compose.layout import fit_inside

BOB_PERIOD_S = 2.8  # one gentle up-down cycle, like a hand holding something still
SWAY_DEG = 2.0


def load_product(source: str, *, limits: FetchLimits, allow_local_files: bool,
                 cutout: CutoutBackend) -> Cutout:
    data = fetch_image_bytes(source, limits=limits, allow_local_files=allow_local_files)
    return cutout.cut_out(decode_product_image(data, max_pixels=limits.max_pixels))


def _resize(rgba: np.ndarray, box: Box) -> np.ndarray:
    fitted = fit_inside(rgba.shape[1], rgba.shape[0], box)
    shrink = fitted.w < rgba.shape[1]
    return cv2.resize(rgba, (fitted.w, fitted.h),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)


def as_photo_card(rgba: np.ndarray, *, border_frac: float = 0.035) -> np.ndarray:
    """A busy photo framed as a white-bordered card with rounded corners."""
    h, w = rgba.shape[:2]
    border = max(2, round(min(h, w) * border_frac))
    card = np.full((h + 2 * border, w + 2 * border, 4), 255, np.uint8)
    card[border:border + h, border:border + w, :3] = rgba[..., :3]
    card[..., 3] = _rounded_mask(card.shape[1], card.shape[0], radius=border * 3)
    return card


def _rounded_mask(w: int, h: int, *, radius: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    radius = max(1, min(radius, w // 2, h // 2))
    cv2.rectangle(mask, (radius, 0), (w - radius - 1, h - 1), 255, -1)
    cv2.rectangle(mask, (0, radius), (w - 1, h - radius - 1), 255, -1)
    for cx, cy in ((radius, radius), (w - radius - 1, radius), (radius, h - radius - 1),
                   (w - radius - 1, h - radius - 1)):
        cv2.circle(mask, (cx, cy), radius, 255, -1, lineType=cv2.LINE_AA)
    return mask


def with_shadow(rgba: np.ndarray, *, strength: float = 0.45) -> tuple[np.ndarray, int]:
    """The image over a soft drop shadow on a padded canvas; returns (canvas, padding)."""
    h, w = rgba.shape[:2]
    pad = max(4, round(0.08 * max(h, w)))
    canvas = np.zeros((h + 2 * pad, w + 2 * pad, 4), np.uint8)
    dx, dy = round(0.025 * w), round(0.04 * h)
    shadow = np.zeros(canvas.shape[:2], np.float32)
    shadow[pad + dy:pad + dy + h, pad + dx:pad + dx + w] = rgba[..., 3] / 255.0
    shadow = cv2.GaussianBlur(shadow, (0, 0), sigmaX=pad / 3) * strength
    fg = rgba[..., 3:4] / 255.0
    alpha = shadow.copy()
    region = (slice(pad, pad + h), slice(pad, pad + w))
    alpha[region] = fg[..., 0] + alpha[region] * (1 - fg[..., 0])
    colour = np.zeros((*canvas.shape[:2], 3), np.float32)
    safe = np.maximum(alpha[region], 1e-6)[..., None]
    colour[region] = rgba[..., :3] * fg / safe  # un-premultiplied over a black shadow
    canvas[..., :3] = np.clip(colour, 0, 255).astype(np.uint8)
    canvas[..., 3] = np.clip(alpha * 255, 0, 255).astype(np.uint8)
    return canvas, pad


def product_sprite_rgba(cutout: Cutout, box: Box) -> tuple[np.ndarray, Box]:
    """The product scaled into `box` (card-framed if it kept its background), with shadow."""
    rgba = cutout.rgba if cutout.method != "none" else as_photo_card(cutout.rgba)
    fitted = fit_inside(rgba.shape[1], rgba.shape[0], box)
    shadowed, pad = with_shadow(_resize(rgba, box))
    return shadowed, Box(fitted.x - pad, fitted.y - pad, shadowed.shape[1], shadowed.shape[0])


def holdable_layer(cutout: Cutout, box: Box, *, frame_h: int, steps: int = 17) -> Layer:
    """A layer that bobs and sways the product gently; rotations are made once, lazily."""
    rgba, placed = product_sprite_rgba(cutout, box)
    amplitude = 0.008 * frame_h
    angles = np.linspace(-SWAY_DEG, SWAY_DEG, steps)
    cache: dict[int, Sprite] = {}

    def sprite_for(index: int) -> Sprite:
        if index not in cache:
            cache[index] = Sprite(_rotate(rgba, float(angles[index])))
        return cache[index]

    def layer(t_s: float) -> Placement:
        phase = 2 * math.pi * t_s / BOB_PERIOD_S
        sway = math.sin(phase * 0.5) * SWAY_DEG
        index = int(round((sway + SWAY_DEG) / (2 * SWAY_DEG) * (steps - 1)))
        return Placement(sprite_for(index), placed.x, placed.y + round(amplitude * math.sin(phase)))

    return layer


def _rotate(rgba: np.ndarray, degrees: float) -> np.ndarray:
    h, w = rgba.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgba, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))


def product_card_layer(cutout: Cutout, box: Box) -> Layer:
    """display_static: a white rounded card with the product on it, made once, never moving.

    It is a layer rather than part of the base so the persona patch can never paint over it.
    """
    card = np.full((box.h, box.w, 4), 255, np.uint8)
    card[..., 3] = _rounded_mask(box.w, box.h, radius=round(0.08 * min(box.w, box.h)))
    inner = Box(round(0.08 * box.w), round(0.08 * box.h), round(0.84 * box.w), round(0.84 * box.h))
    product = _resize(cutout.rgba, inner)
    fitted = fit_inside(cutout.rgba.shape[1], cutout.rgba.shape[0], inner)
    paste_rgba(card[..., :3], product, fitted.x, fitted.y)  # the card stays opaque
    shadowed, pad = with_shadow(card, strength=0.35)
    placement = Placement(Sprite(shadowed), box.x - pad, box.y - pad)
    return lambda t_s: placement
