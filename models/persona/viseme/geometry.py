"""Measure the mouth and eyes of a laid-out portrait for the viseme animator.

    mouth = measure_mouth(panel, landmarks)      # landmarks in panel pixels
    mouth.lip_y(x)                               # where the lips meet at column x
    eyes = [measure_eye(panel, box, landmarks.eye_distance) for box in (left, right)]

The cascade boxes are coarse, so the lips' meeting line is fitted to the pixels: the bottom
edge of visible upper teeth, or else the darkest row between the lips. Sizes derive from the
distance between the eyes, so they scale with the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from models.base import Box
from models.persona.face_locator import FaceLandmarks


@dataclass(frozen=True)
class MouthShape:
    """The mouth in pixels. The lip line is y = lip0 + lip1*u + lip2*u^2, u = (x-cx)/half_w."""

    cx: float
    lip0: float
    lip1: float
    lip2: float
    half_w: float
    gap_max: float  # lip gap at full openness
    chin_y: float
    jaw_half_w: float
    blend_h: float  # depth below the lips over which the jaw takes over from the lower lip
    decay_h: float  # depth below the chin over which the jaw motion fades into the neck
    up_h: float  # height above the lips over which the upper lip's lift fades
    feather: float  # soft edge of the mouth interior
    lip_rgb: tuple[float, float, float]
    has_teeth: bool  # the portrait already shows upper teeth

    def lip_y(self, x: np.ndarray | float) -> np.ndarray | float:
        u = (x - self.cx) / self.half_w
        return self.lip0 + self.lip1 * u + self.lip2 * u * u

    def moved(self, dx: float, dy: float) -> MouthShape:
        return replace(self, cx=self.cx + dx, lip0=self.lip0 + dy, chin_y=self.chin_y + dy)


@dataclass(frozen=True)
class EyeShape:
    """One eye in pixels: centre, half width, half opening, lid skin above the opening."""

    cx: float
    cy: float
    half_w: float
    half_h: float
    lid_h: float

    def moved(self, dx: float, dy: float) -> EyeShape:
        return replace(self, cx=self.cx + dx, cy=self.cy + dy)


def measure_mouth(panel: np.ndarray, lm: FaceLandmarks) -> MouthShape:
    """The mouth of `panel` (RGB uint8) near the landmarks' mouth box."""
    iod = max(8.0, lm.eye_distance)
    box = lm.mouth
    (lx, _), (rx, _) = lm.left_eye.centre, lm.right_eye.centre
    # The cascade box is a little wide and may sit off-centre; the eyes bound the mouth.
    cx = 0.5 * box.centre[0] + 0.25 * (lx + rx)
    half_w = float(np.clip(0.42 * box.w, 0.3 * iod, 0.55 * iod))
    lip0, lip1, lip2, has_teeth = _lip_line(panel, box, cx, half_w, iod)
    return MouthShape(
        cx=cx, lip0=lip0, lip1=lip1, lip2=lip2, half_w=half_w, gap_max=0.48 * half_w,
        chin_y=lip0 + 0.68 * iod, jaw_half_w=1.15 * iod, blend_h=0.45 * iod,
        decay_h=0.6 * iod, up_h=0.45 * iod, feather=max(1.5, 0.02 * iod),
        lip_rgb=_lip_colour(panel, cx, lip0, half_w, iod), has_teeth=has_teeth)


def measure_eye(panel: np.ndarray, box: Box, iod: float) -> EyeShape:
    """The eye around the cascade box's centre, moved onto the iris (the darkest spot near it)."""
    cx, cy = box.centre
    r = 0.1 * iod
    x0, y0 = max(0, int(cx - 1.5 * r)), max(0, int(cy - r))
    region = panel[y0:int(cy + r) + 1, x0:int(cx + 1.5 * r) + 1]
    if region.size:
        gray = cv2.GaussianBlur(cv2.cvtColor(region, cv2.COLOR_RGB2GRAY), (0, 0), 0.02 * iod)
        iy, ix = np.unravel_index(np.argmin(gray), gray.shape)
        cx, cy = 0.5 * (cx + x0 + ix), float(y0 + iy)
    return EyeShape(float(cx), float(cy), half_w=0.25 * iod, half_h=0.065 * iod,
                    lid_h=0.08 * iod)


def _lip_line(panel: np.ndarray, box: Box, cx: float, half_w: float,
              iod: float) -> tuple[float, float, float, bool]:
    """(lip0, lip1, lip2, has_teeth): the lip line fitted over the middle of the mouth."""
    y0, y1 = box.y, min(panel.shape[0], box.y + box.h * 3 // 4)
    xs = np.arange(int(cx - 0.6 * half_w), int(cx + 0.6 * half_w))
    xs = xs[(xs >= 0) & (xs < panel.shape[1])]
    if y1 - y0 < 3 or len(xs) < 5:  # a mouth a few pixels across: nothing to fit
        return float(box.y + 0.3 * box.h), 0.0, 0.0, False
    rgb = cv2.GaussianBlur(panel[y0:y1], (0, 0), max(1.0, 0.01 * iod))[:, xs].astype(np.float32)
    rows, has_teeth = _lip_rows(rgb, np.abs(xs - cx) < 0.35 * half_w)
    keep = rows >= 0
    u, y = (xs[keep] - cx) / half_w, rows[keep].astype(np.float64) + y0
    if len(u) < 5:
        return float(box.y + 0.3 * box.h), 0.0, 0.0, has_teeth
    return (*_fit_parabola(u, y, half_w), has_teeth)


def _lip_rows(rgb: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per column, the row where the lips meet (-1: not found), and whether teeth show."""
    light = rgb.mean(axis=2)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    # Teeth are brighter and greyer than the lips and skin around them.
    teeth = (light > np.median(light) + 20) & (chroma < 0.8 * np.median(chroma))
    if teeth[:, centre].mean(axis=1).max(initial=0.0) > 0.6:
        return _brightest_run_end(teeth, light), True
    return np.argmin(light, axis=0), False


def _brightest_run_end(mask: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Per column, the last row of the run of True that holds the brightest row: the teeth,
    not the sheen on a lip above or below them."""
    peak = np.argmax(np.where(mask, light, -1.0), axis=0)
    after = (np.arange(mask.shape[0])[:, None] > peak) & ~mask
    end = np.where(after.any(axis=0), np.argmax(after, axis=0) - 1, mask.shape[0] - 1)
    return np.where(mask.any(axis=0), end, -1)


def _fit_parabola(u: np.ndarray, y: np.ndarray, half_w: float) -> tuple[float, float, float]:
    for _ in range(2):  # refit without the columns that disagree (creases, shadows)
        coef = np.polyfit(u, y, 2)
        resid = np.abs(np.polyval(coef, u) - y)
        good = resid <= max(2.0, 2.5 * np.median(resid))
        u, y = u[good], y[good]
    c2, c1, c0 = (float(c) for c in np.polyfit(u, y, 2))
    # A smile lifts the corners, but a fit beyond these limits is a crease, not a mouth.
    return (c0, float(np.clip(c1, -0.15 * half_w, 0.15 * half_w)),
            float(np.clip(c2, -0.3 * half_w, 0.15 * half_w)))


def _lip_colour(panel: np.ndarray, cx: float, lip0: float, half_w: float,
                iod: float) -> tuple[float, float, float]:
    """Mean colour of the lower lip's middle, which tints the mouth interior."""
    y0, y1 = int(lip0 + 0.04 * iod), int(lip0 + 0.12 * iod) + 1
    x0, x1 = int(cx - 0.4 * half_w), int(cx + 0.4 * half_w) + 1
    patch = panel[max(0, y0):y1, max(0, x0):x1].reshape(-1, 3)
    if not len(patch):
        return (150.0, 80.0, 80.0)
    r, g, b = (float(v) for v in patch.mean(axis=0))
    return (r, g, b)
