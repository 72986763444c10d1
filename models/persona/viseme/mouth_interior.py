"""Paint the inside of an open mouth between the parted lips of a warped frame.

    paint_interior(patch, rig, gap_fields, openness)   # in place, roi patch of one frame

The gap fields come from the mouth warp, one value per coarse cell: how deep a point lies
inside the gap measured from the upper and from the lower lip, and where it lies across the
mouth. The interior is dark, tinted by the persona's own lip colour near the lips, darkest in
the middle and at the corners, with a hint of tongue at the bottom and, for a wide-open mouth
on a portrait that shows no teeth, a faint band of upper teeth under the upper lip. Colours
are computed per cell and upsampled; only the soft edge is computed per pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.persona.viseme.rig import FaceRig

DEEP_TINT = np.array([0.22, 0.1, 0.1], np.float32)  # of the lip colour, at the back
RIM_TINT = np.array([0.62, 0.36, 0.34], np.float32)  # of the lip colour, just inside the lips
TONGUE_TINT = np.array([0.7, 0.38, 0.36], np.float32)
TOOTH_EDGES = (0.0, 0.2, 0.37, 0.52, 0.65, 0.77)  # |u| where neighbouring upper teeth meet
EDGE_BIAS = 0.3  # alpha on the lip edge itself, so the lips' inner rim is slightly shaded


def paint_interior(patch: np.ndarray, rig: FaceRig, fields: np.ndarray,
                   openness: float) -> None:
    """Blend the interior into `patch` where the gap fields say the lips are apart."""
    found = _gap_rect(fields, rig.step)
    if found is None:
        return
    r0, r1, c0, c1 = found
    y0, x0 = rig.mouth_cells[0].start + r0, rig.mouth_cells[1].start + c0
    sub = fields[r0:r1, c0:c1]
    depth = np.minimum(sub[..., 0], sub[..., 1])
    taper = rig.taper[y0:y0 + r1 - r0, x0:x0 + c1 - c0]
    cells = np.dstack([_colour(sub, rig, openness), depth, taper])
    step = rig.step
    full = cv2.resize(cells, ((c1 - c0) * step, (r1 - r0) * step),
                      interpolation=cv2.INTER_LINEAR)
    # Colour varies slowly, so cells do; the lip edge is sharp, so alpha is per pixel.
    alpha = np.clip(full[..., 3] * (1.0 / rig.mouth.feather) + EDGE_BIAS, 0.0, 1.0) * full[..., 4]
    ys, xs = slice(y0 * step, (y0 + r1 - r0) * step), slice(x0 * step, (x0 + c1 - c0) * step)
    colour = np.clip(full[..., :3] + 0.5, 0, 255).astype(np.uint8)
    patch[ys, xs] = cv2.blendLinear(colour, patch[ys, xs], alpha, 1.0 - alpha)


def _gap_rect(fields: np.ndarray, step: int) -> tuple[int, int, int, int] | None:
    """Cells (r0, r1, c0, c1) that may be inside the gap once upsampled, padded by one."""
    inside = np.minimum(fields[..., 0], fields[..., 1]) > -2.0 * step
    inside &= np.abs(fields[..., 2]) < 1.0
    rows, cols = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
    if not len(rows):
        return None
    h, w = inside.shape
    return (max(0, rows[0] - 1), min(h, rows[-1] + 2), max(0, cols[0] - 1), min(w, cols[-1] + 2))


def _colour(fields: np.ndarray, rig: FaceRig, openness: float) -> np.ndarray:
    """Interior colour per cell: (rows, cols, 3) float32."""
    m = rig.mouth
    from_top, from_bottom, across = fields[..., 0], fields[..., 1], fields[..., 2]
    t = np.clip(from_top / np.maximum(from_top + from_bottom, 1e-3), 0.0, 1.0)
    side = np.clip(1.0 - across * across, 0.0, 1.0)
    # Light reaches only the rim just inside the lips; the middle and the corners are deep.
    rim = (1.0 - 4.0 * t * (1.0 - t)) ** 2 * (0.3 + 0.7 * side)
    lip = np.array(m.lip_rgb, np.float32)
    deep = lip * DEEP_TINT
    colour = deep + (lip * RIM_TINT - deep) * rim[..., None]
    tongue = np.clip((t - 0.55) / 0.45, 0.0, 1.0) * side * (0.5 * openness)
    colour += (lip * TONGUE_TINT - colour) * tongue[..., None]
    if not m.has_teeth:
        teeth = _teeth_colour(np.array(m.teeth_rgb, np.float32), from_top, across, side,
                              m.half_w)
        colour += (teeth - colour) * _teeth_alpha(from_top, across, m.half_w, openness)[..., None]
    return colour


def _teeth_alpha(from_top: np.ndarray, across: np.ndarray, half_w: float,
                 openness: float) -> np.ndarray:
    """Upper teeth: an arched band under the upper lip, fading in as the mouth opens wide."""
    side = np.clip(1.0 - across * across, 0.0, 1.0)
    height = 0.15 * half_w * (0.45 + 0.55 * side)
    strength = 0.85 * float(np.clip((openness - 0.3) / 0.35, 0.0, 1.0))
    band = np.clip((height - from_top) / (0.25 * height + 1.0), 0.0, 1.0)
    return strength * band * np.sqrt(side)


def _teeth_colour(rgb: np.ndarray, from_top: np.ndarray, across: np.ndarray,
                  side: np.ndarray, half_w: float) -> np.ndarray:
    """Teeth in the persona's light: shaded towards the corners (they turn away into the
    mouth), a faint seam where two teeth meet, and the biting edge a little greyer."""
    seam = np.zeros_like(across)
    width = 0.035
    for edge in TOOTH_EDGES:
        seam = np.maximum(seam, np.clip(1.0 - np.abs(np.abs(across) - edge) / width, 0.0, 1.0))
    depth = np.clip(from_top / (0.15 * half_w), 0.0, 1.0)
    shade = (0.55 + 0.45 * side) * (1.0 - 0.22 * seam) * (1.0 - 0.12 * depth * depth)
    return rgb * shade[..., None]
