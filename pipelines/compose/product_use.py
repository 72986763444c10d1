"""The product in use: held in the hand, standing on a surface, or the hero of its own shot.

    held = HeldProduct(cutout, box, lifts=[(8.9, 9.8)], frame_h=1920)
    layer = held.layer(zoom=1.28)                     # per shot: sprites at that shot's scale
    placed = layer.placement(t_s, matrix)             # per frame
    stage = with_standing_product(stage, cutout, box)  # display_static: drawn into the stage once
    hero = hero_image(cutout, product_box, 1080, 1920) # a cutaway's background and product

A held product bobs and tilts a little, as a hand does while its owner talks, and lifts
towards the camera while its name is said. Its drop shadow falls on the persona behind it.
A standing product sits on a table across the lower third (see `table`) with a contact
shadow under its base. A hero product stands on a backdrop tinted from its own colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from models.base import Box, Cutout
from pipelines.compose.compositor import Placement, Sprite, paste_rgba
from pipelines.compose.layout import fit_inside
from pipelines.compose.table import draw_table
from pipelines.product import as_photo_card, with_shadow

BOB_PERIOD_S = 2.8
SWAY_DEG = 2.5
LIFT_FRAC = 0.035  # of the frame height, while the product's name is said
LIFT_EASE_S = 0.25
ROTATION_STEPS = 13


def product_rgba(cutout: Cutout) -> np.ndarray:
    return cutout.rgba if cutout.method != "none" else as_photo_card(cutout.rgba)


def fitted_rgba(cutout: Cutout, box: Box) -> tuple[np.ndarray, Box]:
    """The product scaled to fit `box` (aspect kept) and where it lands."""
    rgba = product_rgba(cutout)
    fitted = fit_inside(rgba.shape[1], rgba.shape[0], box)
    interp = cv2.INTER_AREA if fitted.w < rgba.shape[1] else cv2.INTER_LANCZOS4
    return cv2.resize(rgba, (fitted.w, fitted.h), interpolation=interp), fitted


class HeldProduct:
    def __init__(self, cutout: Cutout, box: Box, *, lifts: Sequence[tuple[float, float]],
                 frame_h: int) -> None:
        self.cutout, self.box, self.lifts, self.frame_h = cutout, box, tuple(lifts), frame_h
        self.rgba, self.fitted = fitted_rgba(cutout, box)

    def motion(self, t_s: float) -> tuple[float, float]:
        """(tilt in degrees, upward offset in stage pixels) at `t_s`."""
        phase = 2 * math.pi * t_s / BOB_PERIOD_S
        bob = 0.006 * self.frame_h * math.sin(phase)
        return SWAY_DEG * math.sin(phase * 0.5), bob + LIFT_FRAC * self.frame_h * self._lift(t_s)

    def _lift(self, t_s: float) -> float:
        level = 0.0
        for start, end in self.lifts:
            rise = np.clip((t_s - start + LIFT_EASE_S) / LIFT_EASE_S, 0.0, 1.0)
            fall = np.clip((end + LIFT_EASE_S - t_s) / LIFT_EASE_S, 0.0, 1.0)
            level = max(level, float(min(rise, fall)))
        return level * level * (3 - 2 * level)  # smoothstep

    def reach(self) -> Box:
        """The stage box the product can occupy over all its motion."""
        f = self.fitted
        up = round((LIFT_FRAC + 0.006) * self.frame_h)
        side = round(0.05 * f.h)
        return Box(f.x - side, f.y - up, f.w + 2 * side, f.h + up + round(0.006 * self.frame_h))

    def layer(self, *, zoom: float) -> HeldLayer:
        """The product drawn at a shot's scale; its tilted sprites are made lazily."""
        w = max(1, round(self.rgba.shape[1] * zoom))
        h = max(1, round(self.rgba.shape[0] * zoom))
        scaled = self.rgba if (w, h) == self.rgba.shape[1::-1] else cv2.resize(
            self.rgba, (w, h), interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
        shadowed, pad = with_shadow(scaled)
        return HeldLayer(self, shadowed, pad, zoom)


class HeldLayer:
    """A held product's sprites at one scale; `placement` puts it for a time and a framing."""

    def __init__(self, held: HeldProduct, shadowed: np.ndarray, pad: int, zoom: float) -> None:
        self.held, self.shadowed, self.pad, self.zoom = held, shadowed, pad, zoom
        self.angles = np.linspace(-SWAY_DEG, SWAY_DEG, ROTATION_STEPS)
        self.sprites: dict[int, Sprite] = {}

    def placement(self, t_s: float, matrix: np.ndarray) -> Placement:
        tilt, up = self.held.motion(t_s)
        step = int(round((tilt + SWAY_DEG) / (2 * SWAY_DEG) * (ROTATION_STEPS - 1)))
        if step not in self.sprites:
            self.sprites[step] = Sprite(_rotate(self.shadowed, float(self.angles[step])))
        f = self.held.fitted
        x = matrix[0, 0] * (f.x + f.w / 2) + matrix[0, 2] - self.shadowed.shape[1] / 2
        y = matrix[1, 1] * (f.y + f.h / 2 - up) + matrix[1, 2] - self.shadowed.shape[0] / 2
        return Placement(self.sprites[step], round(x), round(y))


def _rotate(rgba: np.ndarray, degrees: float) -> np.ndarray:
    h, w = rgba.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgba, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))


def contact_shadow(canvas: np.ndarray, fitted: Box, *, strength: float = 0.55) -> None:
    """A soft dark ellipse under the product's base, in place (RGB canvas)."""
    h, w = canvas.shape[:2]
    mask = np.zeros((h, w), np.float32)
    centre = (fitted.x + fitted.w // 2, fitted.y + fitted.h - max(1, fitted.h // 40))
    axes = (max(2, round(fitted.w * 0.46)), max(1, round(fitted.h * 0.06)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(1.0, fitted.h * 0.03))
    shade = 1.0 - strength * mask[..., None]
    canvas[...] = np.clip(canvas.astype(np.float32) * shade, 0, 255).astype(np.uint8)


def with_standing_product(stage: np.ndarray, cutout: Cutout, box: Box) -> np.ndarray:
    """display_static: a table across the frame below the product's base, the product
    standing on it with a contact shadow. Returns a new stage."""
    out = stage.copy()
    rgba, fitted = fitted_rgba(cutout, box)
    surface_top = fitted.y + round(0.82 * fitted.h)
    draw_table(out, top=surface_top)
    contact_shadow(out, fitted)
    paste_rgba(out, rgba, fitted.x, fitted.y)
    return out


def hero_image(cutout: Cutout, box: Box, width: int, height: int) -> tuple[np.ndarray, Box]:
    """A cutaway's frame: a backdrop graded from the product's own colours, the product
    fitted into `box` on a contact shadow. Returns (RGB image, where the product is)."""
    rgba, fitted = fitted_rgba(cutout, box)
    opaque = rgba[..., 3] > 128
    colour = rgba[..., :3][opaque].mean(axis=0) if opaque.any() else np.full(3, 128.0)
    light = 0.35 * colour + 0.65 * 235.0  # a pale tint of the product
    dark = 0.55 * colour + 0.45 * 60.0
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    cols = np.abs(np.linspace(-1.0, 1.0, width, dtype=np.float32))[None, :, None]
    image = light * (1 - rows) + dark * rows - 18.0 * cols ** 2  # a soft vignette to the sides
    canvas = np.clip(image, 0, 255).astype(np.uint8)
    contact_shadow(canvas, fitted, strength=0.45)
    shadowed, pad = with_shadow(rgba, strength=0.3)
    paste_rgba(canvas, shadowed, fitted.x - pad, fitted.y - pad)
    return canvas, fitted
