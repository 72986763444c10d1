"""Measure the mouth and eyes of a laid-out portrait for the viseme animator.

    mouth = measure_mouth(panel, mesh)           # mesh in panel pixels
    mouth.lip_y(x)                               # where the lips meet at column x
    left, right = measure_eyes(mesh)

The mouth's width and the lip line come from the mesh's inner lip contours: where they meet
when the lips are closed; when the photo shows them apart (a smile with teeth) the line is
fitted to the pixels between them, the bottom edge of the upper teeth or else the darkest row.
The eyes' corners and lids are the mesh's eye contours. Depths of the jaw and lid motion
derive from the distance between the eyes, so they scale with the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from models.base import Box
from models.persona.face_mesh import (
    CHIN,
    INNER_LIP_LOWER,
    INNER_LIP_UPPER,
    LEFT_EYE,
    OUTER_LIP_LOWER,
    RIGHT_EYE,
    FaceMesh,
)


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
    teeth_rgb: tuple[float, float, float] = (222.0, 208.0, 184.0)

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


def measure_mouth(panel: np.ndarray, mesh: FaceMesh) -> MouthShape:
    """The mouth of `panel` (RGB uint8) from its face mesh (panel pixels)."""
    p = mesh.points
    iod = max(8.0, eye_distance(mesh))
    left, right = p[INNER_LIP_UPPER[0]], p[INNER_LIP_UPPER[-1]]
    cx = float(0.5 * (left[0] + right[0]))
    half_w = float(np.clip(0.5 * abs(right[0] - left[0]), 0.25 * iod, 0.6 * iod))
    upper, lower = p[list(INNER_LIP_UPPER)], p[list(INNER_LIP_LOWER)]
    gap = float(np.median(lower[1:-1, 1] - upper[1:-1, 1]))
    if gap > 0.06 * half_w:  # lips already apart (a smile with teeth): fit to the pixels
        lip0, lip1, lip2, has_teeth = _lip_line(panel, _inner_box(upper, lower), cx, half_w, iod)
    else:  # closed lips: where the inner contours meet
        middle = 0.5 * (upper + lower)
        lip0, lip1, lip2 = _fit_parabola((middle[:, 0] - cx) / half_w,
                                         middle[:, 1].astype(np.float64), half_w)
        has_teeth = False
    chin = float(p[CHIN][1])
    return MouthShape(
        cx=cx, lip0=lip0, lip1=lip1, lip2=lip2, half_w=half_w, gap_max=0.62 * half_w,
        chin_y=float(np.clip(chin, lip0 + 0.45 * iod, lip0 + 0.95 * iod)),
        jaw_half_w=1.15 * iod, blend_h=0.45 * iod, decay_h=0.6 * iod, up_h=0.45 * iod,
        feather=max(1.5, 0.02 * iod), lip_rgb=_lip_colour(panel, mesh), has_teeth=has_teeth,
        teeth_rgb=_teeth_colour(panel, mesh))


def measure_eyes(mesh: FaceMesh) -> tuple[EyeShape, EyeShape]:
    """Both eyes from the mesh's eye contours: corners, upper and lower lid."""
    return tuple(_eye(mesh, contour, eye_distance(mesh)) for contour in (LEFT_EYE, RIGHT_EYE))


def eye_distance(mesh: FaceMesh) -> float:
    left, right = (mesh.points[list(c)].mean(axis=0) for c in (LEFT_EYE, RIGHT_EYE))
    return float(np.linalg.norm(right - left))


def _eye(mesh: FaceMesh, contour: tuple[int, ...], iod: float) -> EyeShape:
    """The contour runs corner, lower lid, corner, upper lid (MediaPipe's order)."""
    p = mesh.points[list(contour)]
    corners = (p[0], p[8])
    lower, upper = p[1:8], p[9:]
    cx = float(0.5 * (corners[0][0] + corners[1][0]))
    top, bottom = float(upper[:, 1].min()), float(lower[:, 1].max())
    # The mesh's lower lid sits a little above the lash line; reach past it so a closed lid
    # covers the whole iris.
    bottom += 0.3 * (bottom - top)
    half_h = max(1.0, 0.5 * (bottom - top))
    return EyeShape(cx, 0.5 * (top + bottom), half_w=float(0.5 * abs(corners[1][0] - corners[0][0])),
                    half_h=half_h, lid_h=0.08 * iod)


def _inner_box(upper: np.ndarray, lower: np.ndarray) -> Box:
    x0, x1 = float(upper[:, 0].min()), float(upper[:, 0].max())
    y0, y1 = float(upper[:, 1].min()), float(lower[:, 1].max())
    pad = 0.15 * (y1 - y0) + 2
    return Box(int(x0), int(y0 - pad), max(1, int(x1 - x0)), max(1, int(y1 - y0 + 2 * pad)))


def _lip_line(panel: np.ndarray, box: Box, cx: float, half_w: float,
              iod: float) -> tuple[float, float, float, bool]:
    """(lip0, lip1, lip2, has_teeth): the lip line fitted over the middle of the mouth."""
    y0, y1 = max(0, box.y), min(panel.shape[0], box.y + box.h)
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


def _lip_colour(panel: np.ndarray, mesh: FaceMesh) -> tuple[float, float, float]:
    """Mean colour of the lower lip between its inner and outer contour, which tints the
    mouth interior."""
    p = mesh.points
    polygon = np.vstack([p[list(INNER_LIP_LOWER)], p[list(OUTER_LIP_LOWER)][::-1]])
    mask = np.zeros(panel.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    if not mask.any():
        return (150.0, 80.0, 80.0)
    r, g, b = (float(v) for v in panel[mask > 0].reshape(-1, 3).mean(axis=0))
    return (r, g, b)


IVORY = np.array([226.0, 214.0, 192.0])


def _teeth_colour(panel: np.ndarray, mesh: FaceMesh) -> tuple[float, float, float]:
    """Teeth take the persona's own light: the whites of the eyes (the brightest third of the
    eye openings, which leaves out iris and lashes), pulled halfway towards ivory."""
    mask = np.zeros(panel.shape[:2], np.uint8)
    for contour in (LEFT_EYE, RIGHT_EYE):
        cv2.fillPoly(mask, [np.round(mesh.points[list(contour)]).astype(np.int32)], 1)
    pixels = panel[mask > 0].reshape(-1, 3).astype(np.float64)
    if len(pixels) < 6:
        return tuple(float(v) for v in IVORY)
    light = pixels.mean(axis=1)
    white = pixels[light >= np.percentile(light, 67)].mean(axis=0)
    # Scale up to ivory's brightness: eyes sit in the brow's shadow, teeth catch more light.
    white = white * (IVORY.mean() / max(1.0, white.mean()))
    r, g, b = (float(v) for v in np.clip(0.5 * white + 0.5 * IVORY, 0, 245))
    return (r, g, b)
