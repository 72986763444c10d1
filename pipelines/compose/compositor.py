"""Frame composition as data: a static base drawn once, and a few layers drawn per frame.

    scene = Scene(base=static_rgb, persona_roi=roi, layers=[product_layer, caption_layer],
                  end_card=end_card)
    frame = scene.compose(i, t_s, persona_patch)     # (h, w, 3) uint8, a fresh array

Blending is integer-only and limited to each layer's rectangle: alpha in 0..256, colour
premultiplied once when a sprite is made, so a frame costs one base copy plus a few small blends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from models.base import Box


class Sprite:
    """An RGBA image prepared for fast repeated blending (cropped to its visible pixels)."""

    def __init__(self, rgba: np.ndarray) -> None:
        ys, xs = np.nonzero(rgba[..., 3])
        if len(xs) == 0:
            ys, xs = np.array([0]), np.array([0])
        self.offset = (int(xs.min()), int(ys.min()))
        crop = rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        alpha = crop[..., 3:4].astype(np.uint16)
        alpha = alpha + (alpha >> 7)  # 0..255 -> 0..256 so ">> 8" divides exactly at the ends
        # Three channels so OpenCV can multiply without broadcasting (it cannot broadcast).
        self.inv_alpha = np.ascontiguousarray(np.repeat(256 - alpha, 3, axis=2), dtype=np.uint16)
        # +128 rounds the final >> 8 to nearest; the sum stays below 2**16
        self.premul = crop[..., :3].astype(np.uint16) * alpha + 128
        self.h, self.w = crop.shape[:2]

    def blend_onto(self, frame: np.ndarray, x: int, y: int) -> None:
        """Draw with the sprite's original top-left at (x, y), clipped to the frame, in place."""
        x, y = x + self.offset[0], y + self.offset[1]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + self.w, frame.shape[1]), min(y + self.h, frame.shape[0])
        if x0 >= x1 or y0 >= y1:
            return
        sy, sx = slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)
        region = frame[y0:y1, x0:x1]
        inv, premul = self.inv_alpha[sy, sx], self.premul[sy, sx]
        if region.strides[1:] == (3, 1):  # rows of packed RGB: OpenCV's fused loops, no temporaries
            mixed = cv2.add(cv2.multiply(region, inv, dtype=cv2.CV_16U), premul)
        else:  # e.g. the RGB view of an RGBA card
            mixed = region * inv + premul
        region[...] = mixed >> 8


def paste_rgba(base: np.ndarray, rgba: np.ndarray, x: int, y: int) -> None:
    """One-off alpha paste (for static layers drawn once)."""
    Sprite(rgba).blend_onto(base, x, y)


@dataclass(frozen=True)
class Placement:
    sprite: Sprite
    x: int
    y: int


# A layer answers, for a frame time, what to draw where (or nothing).
Layer = Callable[[float], Placement | None]


@dataclass(frozen=True)
class EndCard:
    image: np.ndarray  # full frame, drawn once
    start_s: float
    fade_s: float = 0.35

    def weight(self, t_s: float) -> float:
        """0 before the card, 1 once fully shown."""
        return float(np.clip((t_s - self.start_s) / self.fade_s, 0.0, 1.0))


@dataclass
class Scene:
    base: np.ndarray  # background with the persona panel, drawn once
    persona_roi: Box  # frame coordinates of the animated persona patch
    layers: Sequence[Layer]  # drawn over the persona until the end card covers them
    overlays: Sequence[Layer] = ()  # drawn over everything, end card included (captions)
    end_card: EndCard | None = None

    def compose(self, t_s: float, persona_patch: np.ndarray | None) -> np.ndarray:
        card = self.end_card.weight(t_s) if self.end_card else 0.0
        if card >= 1.0:
            frame = self.end_card.image.copy()
        else:
            frame = self.base.copy()
            if persona_patch is not None:
                r = self.persona_roi
                frame[r.y:r.y + r.h, r.x:r.x + r.w] = persona_patch
            _draw(frame, self.layers, t_s)
            if card > 0.0:
                frame = _mix(frame, self.end_card.image, card)
        _draw(frame, self.overlays, t_s)
        return frame


def _draw(frame: np.ndarray, layers: Sequence[Layer], t_s: float) -> None:
    for layer in layers:
        placed = layer(t_s)
        if placed is not None:
            placed.sprite.blend_onto(frame, placed.x, placed.y)


def _mix(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    w = int(round(weight * 256))
    return ((a.astype(np.uint16) * (256 - w) + b.astype(np.uint16) * w) >> 8).astype(np.uint8)
