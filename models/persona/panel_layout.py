"""Lay a portrait (or an idle clip's frames) into a fixed-size panel: crop, upscale, sharpen.

The crop-and-cover layout the MuseTalk animator uses; the CPU animator frames a matted
persona over its own background instead (`persona.framing`), reusing `PanelLayout`.

    layout = plan_layout(image.shape, landmarks.face, panel_w=1080, panel_h=1920)
    layout = zoomed(layout, 1.15, about=landmarks.face.centre)   # a punch-in
    panel = render_panel(image, layout)                  # (1920, 1080, 3) uint8
    panel_landmarks = landmarks.scaled(layout.scale, dx=layout.dx, dy=layout.dy)

The face is centred horizontally and sized to about 36 % of a tall panel's width (a third of
a wide panel's height). Square and wide panels are always covered by the crop. A tall (9:16)
panel is covered across its width, but a head-and-shoulders portrait would need its face
blown up to two thirds of the width to cover the height too, which leaves no room below the
chin for the product and captions; so the portrait is anchored at the top and the rows under
it continue the last rows of the photo, blurred and darkened toward the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.base import Box

TALL_FACE_WIDTH = 0.36  # face box (the mesh's, cheek to cheek) / panel width
TALL_FACE_CENTRE = 0.27  # face centre / panel height on tall panels, leaving the lower half free
OTHER_FACE_HEIGHT = 0.33  # face box / panel height for square and wide panels
UNSHARP_AMOUNT = 0.45


@dataclass(frozen=True)
class PanelLayout:
    """Panel pixel = source pixel * scale + (dx, dy)."""

    scale: float
    dx: float
    dy: float
    panel_w: int
    panel_h: int


def plan_layout(image_shape: tuple[int, ...], face: Box, *, panel_w: int,
                panel_h: int) -> PanelLayout:
    """Where the face goes in a `panel_w` x `panel_h` panel cut from an image of `image_shape`."""
    img_h, img_w = image_shape[:2]
    tall = panel_h >= 1.2 * panel_w
    target = TALL_FACE_WIDTH * panel_w if tall else min(TALL_FACE_WIDTH * panel_w,
                                                         OTHER_FACE_HEIGHT * panel_h)
    cover = panel_w / img_w if tall else max(panel_w / img_w, panel_h / img_h)
    scale = max(target / face.w, cover)
    crop_w, crop_h = panel_w / scale, panel_h / scale
    fx, fy = face.centre
    crop_x = float(np.clip(fx - 0.5 * crop_w, 0.0, img_w - crop_w))
    # A tall crop taller than the photo starts at its top and runs past its bottom (extended).
    crop_y = float(np.clip(fy - (TALL_FACE_CENTRE if tall else 0.42) * crop_h, 0.0,
                           max(0.0, img_h - crop_h)))
    return PanelLayout(scale, -crop_x * scale, -crop_y * scale, panel_w, panel_h)


def zoomed(layout: PanelLayout, zoom: float, *, about: tuple[float, float]) -> PanelLayout:
    """`layout` scaled by `zoom` about the source point `about`, which stays where it was."""
    if zoom == 1.0:
        return layout
    x, y = about
    px, py = x * layout.scale + layout.dx, y * layout.scale + layout.dy
    scale = layout.scale * zoom
    return PanelLayout(scale, px - x * scale, py - y * scale, layout.panel_w, layout.panel_h)


def render_panel(image: np.ndarray, layout: PanelLayout) -> np.ndarray:
    """The panel: Lanczos resampling, then a mild unsharp mask scaled to the upscale factor."""
    scale, dx, dy = layout.scale, layout.dx, layout.dy
    if scale < 1.0:
        # Lanczos in a warp does not low-pass; shrink with area averaging first.
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        scale = 1.0
    matrix = np.array([[scale, 0.0, dx], [0.0, scale, dy]], dtype=np.float64)
    panel = cv2.warpAffine(image, matrix, (layout.panel_w, layout.panel_h),
                           flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE)
    panel = _unsharp(panel, sigma=float(np.clip(0.45 * layout.scale, 0.8, 2.5)))
    photo_bottom = int(image.shape[0] * scale + dy)
    if photo_bottom < layout.panel_h:
        _fade_extension(panel, photo_bottom)
    return panel


def _fade_extension(panel: np.ndarray, start: int) -> None:
    """Rows below the photo: its last rows' colours, smoothed wide, faded in and darkened."""
    h, w = panel.shape[:2]
    ramp = max(1, h // 10)
    seam = max(0, start - ramp)
    tail = panel[max(0, start - ramp):start].astype(np.float32).mean(axis=0, keepdims=True)
    tail = cv2.GaussianBlur(tail, (0, 0), sigmaX=w / 12, sigmaY=0.1)  # no streaks from details
    rows = np.arange(h - seam, dtype=np.float32)[:, None, None]
    mix = np.clip(rows / ramp, 0.0, 1.0) ** 2  # photo -> smoothed colour, done by the edge
    shade = 1.0 - 0.5 * np.clip((rows - ramp) / max(1, h - start), 0.0, 1.0)
    region = panel[seam:].astype(np.float32)
    panel[seam:] = np.clip((region * (1 - mix) + tail * mix) * shade, 0, 255).astype(np.uint8)


def _unsharp(panel: np.ndarray, *, sigma: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(panel, (0, 0), sigma)
    return cv2.addWeighted(panel, 1.0 + UNSHARP_AMOUNT, blurred, -UNSHARP_AMOUNT, 0.0)
