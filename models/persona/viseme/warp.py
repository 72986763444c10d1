"""Draw one animated frame of a rig: head pose, mouth opening and blink in one composed warp.

    patch = paint_frame(rig, pose=(0.01, 2.0, -1.0), openness=0.7, rounding=0.0, blink=0.0)
    full = enlarge_bands(patch, rig, full_static, factor=2)   # when the rig is at half size

Each frame builds a backward map on coarse cells: the head's rotation about the neck (weighted
to fade out towards the roi border), then, in rest-pose coordinates, the jaw and lower lip
dropping and the upper eyelids sliding down. The map is upsampled and applied with one
`cv2.remap` per band of the roi that can move; a dark mouth interior is then blended between
the parted lips. The rest of the patch is the panel itself.

A rig may be built on the panel reduced by an integer factor (see `viseme_animator`): the warp
then costs that factor squared less, and `enlarge_bands` scales only the moving bands back
into the still roi at full resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.persona.viseme.geometry import EyeShape, MouthShape
from models.persona.viseme.mouth_interior import paint_interior
from models.persona.viseme.rig import FaceRig

ROUND_NARROWING = 0.3  # how much a fully rounded viseme narrows the lip gap
ROUND_PINCH = 0.22  # how far rounded lips pull the mouth corners inwards
UPPER_LIP_LIFT = 0.35  # the upper lip rises this share of the gap; the jaw makes the rest


def paint_frame(rig: FaceRig, *, pose: tuple[float, float, float], openness: float,
                rounding: float, blink: float) -> np.ndarray:
    """The roi patch for head `pose` (radians, dx px, dy px), mouth and blink in 0..1."""
    coarse = _head_map(rig, pose)
    interior = _warp_mouth(coarse, rig, openness, rounding) if openness > 0.0 else None
    if blink > 0.0:
        for eye, cells in zip(rig.eyes, rig.eye_cells):
            _warp_eye(coarse, rig, eye, cells, blink)
    patch = rig.static.copy()
    for band in rig.bands:
        _remap_band(patch, rig, coarse, band)
    _restore_border(patch, rig.static, rig.step)
    if interior is not None:
        paint_interior(patch, rig, interior, openness)
    return patch


def enlarge_bands(patch: np.ndarray, rig: FaceRig, full_static: np.ndarray, *,
                  factor: int) -> np.ndarray:
    """The roi at `factor` times the rig's size: `full_static` with each moving band of `patch`
    upscaled into it (bilinear); the still parts stay the full-resolution panel's pixels."""
    out = full_static.copy()
    h, w = patch.shape[:2]
    for y0, y1, x0, x1 in rig.bands:
        # One rig pixel of context each side, so interpolation at the band's edge sees the
        # neighbours it would see in a resize of the whole patch.
        cy0, cy1, cx0, cx1 = max(0, y0 - 1), min(h, y1 + 1), max(0, x0 - 1), min(w, x1 + 1)
        big = cv2.resize(patch[cy0:cy1, cx0:cx1], ((cx1 - cx0) * factor, (cy1 - cy0) * factor),
                         interpolation=cv2.INTER_LINEAR)
        oy, ox = (y0 - cy0) * factor, (x0 - cx0) * factor
        out[y0 * factor:y1 * factor, x0 * factor:x1 * factor] = \
            big[oy:oy + (y1 - y0) * factor, ox:ox + (x1 - x0) * factor]
    _restore_border(out, full_static, rig.step * factor)
    return out


def _head_map(rig: FaceRig, pose: tuple[float, float, float]) -> np.ndarray:
    """Coarse backward map: where each output cell samples the rest-pose panel."""
    angle, dx, dy = pose
    px, py = rig.pivot
    c, s = np.cos(angle), np.sin(angle)
    # rest = pivot + R(-angle) @ (out - pivot - shift), as a change from the identity.
    ox = px - (c * (px + dx) + s * (py + dy))
    oy = py - (-s * (px + dx) + c * (py + dy))
    change = np.array([[c - 1.0, s, ox], [-s, c - 1.0, oy]], dtype=np.float32)
    rows, cols = rig.grid.shape[:2]
    shift = (rig.head_basis @ change.T).reshape(rows // 2, cols // 2, 2)
    # The head field is smooth, so it lives on cells twice as large; upsample, then add.
    shift = cv2.resize(shift, (cols, rows), interpolation=cv2.INTER_LINEAR)
    return cv2.add(shift, rig.grid)


def _remap_band(patch: np.ndarray, rig: FaceRig, coarse: np.ndarray,
                band: tuple[int, int, int, int]) -> None:
    """Upsample the map over one band (with a cell of context each side) and remap it."""
    y0, y1, x0, x1 = band
    step = rig.step
    r0, c0 = max(0, y0 // step - 1), max(0, x0 // step - 1)
    r1, c1 = min(coarse.shape[0], y1 // step + 1), min(coarse.shape[1], x1 // step + 1)
    full = cv2.resize(coarse[r0:r1, c0:c1], ((c1 - c0) * step, (r1 - r0) * step),
                      interpolation=cv2.INTER_LINEAR)
    oy, ox = y0 - r0 * step, x0 - c0 * step
    cv2.remap(rig.static, full[oy:oy + y1 - y0, ox:ox + x1 - x0], None, cv2.INTER_LINEAR,
              dst=patch[y0:y1, x0:x1], borderMode=cv2.BORDER_REPLICATE)


def _restore_border(patch: np.ndarray, static: np.ndarray, width: int) -> None:
    """The upsampled map clamps at the edges; the border is still by design, so copy it."""
    patch[:width] = static[:width]
    patch[-width:] = static[-width:]
    patch[:, :width] = static[:, :width]
    patch[:, -width:] = static[:, -width:]


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _squared_window(d: np.ndarray) -> np.ndarray:
    """(1 - d^2)^2 for |d| < 1, else 0: smooth, and exactly zero outside."""
    w = np.clip(1.0 - d * d, 0.0, 1.0)
    return w * w


def _warp_mouth(coarse: np.ndarray, rig: FaceRig, openness: float,
                rounding: float) -> np.ndarray:
    """Drop the jaw and lower lip in `coarse` (in place); returns the gap fields per cell.

    The fields, stacked as (rows, cols, 3), are the depth into the gap from the upper lip and
    from the lower lip (px, positive inside) and the position across the mouth (-1..1).
    """
    m, cells = rig.mouth, rig.mouth_cells
    rx, ry = coarse[cells + (0,)], coarse[cells + (1,)]
    u = (rx - m.cx) / (m.half_w * (1.0 - ROUND_NARROWING * rounding))
    z = ry - m.lip_y(rx)  # below the lips when positive
    down, up = _lip_travel(m, rx, ry, z, u, openness * m.gap_max)
    lip = ry - z
    # The gap itself samples the row where the lips met; the interior is painted over it.
    sy = np.where(z >= 0.0, np.maximum(ry - down, lip), np.minimum(ry + up, lip))
    taper = rig.taper[cells]
    coarse[cells + (1,)] = ry + taper * (sy - ry)
    if rounding > 0.0:
        pinch = (_squared_window((rx - m.cx) / (1.6 * m.half_w))
                 * _squared_window(z / (0.9 * m.half_w)))
        coarse[cells + (0,)] = rx + (ROUND_PINCH * rounding) * taper * pinch * (rx - m.cx)
    return np.dstack([z + up, down - z, u]).astype(np.float32)


def _lip_travel(m: MouthShape, rx: np.ndarray, ry: np.ndarray, z: np.ndarray, u: np.ndarray,
                gap: float) -> tuple[np.ndarray, np.ndarray]:
    """How far the lower face moves down and the upper lip up (px) at each rest point.

    Right under the lips the lower lip's curve rules (open in the middle, shut at the
    corners); deeper down the jaw's broader profile takes over, fading out below the chin.
    """
    lens = np.clip(1.0 - u * u, 0.0, 1.0) ** 0.75  # the corners taper to a point
    jaw = _squared_window((rx - m.cx) / m.jaw_half_w)
    beta = _smoothstep(z / m.blend_h)
    fade = 1.0 - _smoothstep((ry - m.chin_y) / m.decay_h)
    down = gap * (lens * (1.0 - beta) + 0.9 * jaw * beta) * fade
    up = (UPPER_LIP_LIFT * gap) * lens * (1.0 - _smoothstep(-z / m.up_h))
    return down, up


def _warp_eye(coarse: np.ndarray, rig: FaceRig, eye: EyeShape,
              cells: tuple[slice, slice], blink: float) -> None:
    """Slide the upper lid down by `blink` of the eye opening, stretching the lid skin.

    Piecewise linear in y: the skin above the lid stretches down to the lid's new edge and
    the eye below it is squeezed into what is left, so the map stays continuous.
    """
    rx, ry = coarse[cells + (0,)], coarse[cells + (1,)]
    u = (rx - eye.cx) / (1.1 * eye.half_w)  # a little past the corners the mesh marks
    lens = np.clip(1.0 - u * u, 0.0, 1.0)
    top, bottom = eye.cy - eye.half_h - eye.lid_h, eye.cy + eye.half_h
    edge_rest = eye.cy - eye.half_h * lens
    # The lid closes nearly as far at the corners as in the middle (a lid is stiff).
    edge_now = edge_rest + blink * (bottom - edge_rest) * np.sqrt(lens)
    above = top + (ry - top) * (edge_rest - top) / (edge_now - top)
    below = bottom - (bottom - ry) * (bottom - edge_rest) / np.maximum(bottom - edge_now, 1e-3)
    sy = np.where(ry < edge_now, above, below)
    sy = np.where((ry >= top) & (ry < bottom), sy, ry)
    coarse[cells + (1,)] = ry + rig.taper[cells] * (sy - ry)
