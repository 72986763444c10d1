"""Per-persona state for the viseme animator: where things move and precomputed warp grids.

    rig = build_rig(panel, panel_mesh, motion=HeadMotionLimits())
    rig.roi                # the panel region that changes per frame
    rig.mouth.lip_y(x)     # where the lips meet, roi pixels

Everything here is computed once in `prepare()`. The roi covers the head (an ellipse around
the face, feathered out) and the jaw's reach, plus room for the sway. The warp is evaluated on
coarse cells (`grid`, `taper` at 4 px; `head_basis` at 8 px) and upsampled per frame, and only
the `bands` of the roi that can move are redrawn; see `face_warp`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.base import Box
from models.persona.face_mesh import FaceMesh
from models.persona.viseme.geometry import EyeShape, MouthShape, eye_distance, measure_eyes, measure_mouth

GRID_STEP = 4  # cell of the face warp in pixels; the bilinear upsample error at a kink is step/4
HEAD_STEP = 8  # cell of the smooth head-motion field; the roi is a multiple of it


@dataclass(frozen=True)
class HeadMotionLimits:
    """Peak head motion: rotation about the neck in degrees, shift in eye distances."""

    rotation_deg: float = 1.2
    shift: float = 0.015


@dataclass(frozen=True)
class FaceRig:
    roi: Box  # panel pixels; width and height are multiples of `step`
    step: int
    static: np.ndarray  # (h, w, 3) uint8, the panel's pixels under the roi
    grid: np.ndarray  # (h/step, w/step, 2) float32, cell centres in roi pixels
    taper: np.ndarray  # (h/step, w/step) float32, 1 inside, 0 at the roi border
    head_basis: np.ndarray  # (h/8 * w/8, 3) float32 per head cell: weight*x, weight*y, weight
    pivot: tuple[float, float]  # the neck, roi pixels
    rotation_rad: float
    shift_px: float
    mouth: MouthShape
    eyes: tuple[EyeShape, EyeShape]
    mouth_cells: tuple[slice, slice]  # coarse cells the mouth warp may touch
    eye_cells: tuple[tuple[slice, slice], tuple[slice, slice]]
    bands: tuple[tuple[int, int, int, int], ...]  # (y0, y1, x0, x1) roi pixels that may move


def build_rig(panel: np.ndarray, mesh: FaceMesh, *,
              motion: HeadMotionLimits = HeadMotionLimits()) -> FaceRig:
    """Measure the face in `panel` (its mesh in panel pixels) and precompute the warp grids."""
    iod = max(8.0, eye_distance(mesh))
    mouth = measure_mouth(panel, mesh)
    eyes = measure_eyes(mesh)
    head = _head_ellipse(Box(*mesh.box), mouth, iod)
    pivot = (mouth.cx, mouth.chin_y + 0.35 * iod)
    roi = _choose_roi(panel.shape, head, mouth, _sway(_head_box(head), pivot, motion, iod))
    ox, oy = roi.x, roi.y
    mouth, eyes = mouth.moved(-ox, -oy), tuple(e.moved(-ox, -oy) for e in eyes)
    local_head = (head[0] - ox, head[1] - oy, head[2], head[3])
    grid, taper = _grid(roi, GRID_STEP), _taper(roi, GRID_STEP)
    basis = _head_basis(roi, local_head)
    neck = (pivot[0] - ox, pivot[1] - oy)
    mouth_cells, *eye_cells = (_cells(box, _sway(box, neck, motion, iod), grid.shape) for box in
                               (_mouth_support(mouth), *(_eye_support(e) for e in eyes)))
    return FaceRig(
        roi=roi, step=GRID_STEP,
        static=np.ascontiguousarray(panel[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w]),
        grid=grid, taper=taper, head_basis=basis, pivot=neck,
        rotation_rad=float(np.radians(motion.rotation_deg)), shift_px=motion.shift * iod,
        mouth=mouth, eyes=eyes, mouth_cells=mouth_cells, eye_cells=tuple(eye_cells),
        bands=_bands(roi, basis, (mouth_cells, *eye_cells)))


def _head_ellipse(face: Box, mouth: MouthShape,
                  iod: float) -> tuple[float, float, float, float]:
    """Centre and semi-axes (cx, cy, ax, ay) of the region that moves with the head."""
    top = face.y - 0.5 * face.h
    bottom = mouth.chin_y + 0.2 * iod
    return (face.centre[0], 0.5 * (top + bottom), 0.75 * face.w, 0.5 * (bottom - top))


# --- supports, roi and grids --------------------------------------------------------------

HEAD_FEATHER = 1.25  # the head weight falls from 1 to 0 between ellipse radii 1 and this
BAND_H = 64  # rows per band when skipping the still corners of the roi


def _sway(box: tuple[float, float, float, float], pivot: tuple[float, float],
          motion: HeadMotionLimits, iod: float) -> float:
    """The farthest the head's sway can carry a point of `box` (x0, y0, x1, y1), plus slack."""
    reach = max(np.hypot(x - pivot[0], y - pivot[1]) for x in box[::2] for y in box[1::2])
    return float(np.radians(motion.rotation_deg) * reach + motion.shift * iod + 2 * GRID_STEP)


def _head_box(head: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    hx, hy, ax, ay = head
    return (hx - HEAD_FEATHER * ax, hy - HEAD_FEATHER * ay, hx + HEAD_FEATHER * ax,
            hy + HEAD_FEATHER * ay)


def _mouth_support(m: MouthShape) -> tuple[float, float, float, float]:
    top = m.lip0 - abs(m.lip1) - abs(m.lip2) - m.up_h
    return (m.cx - m.jaw_half_w, top, m.cx + m.jaw_half_w, m.chin_y + m.decay_h)


def _eye_support(e: EyeShape) -> tuple[float, float, float, float]:
    return (e.cx - e.half_w, e.cy - e.half_h - e.lid_h, e.cx + e.half_w, e.cy + e.half_h)


def _choose_roi(shape: tuple[int, ...], head: tuple[float, float, float, float],
                mouth: MouthShape, pad: float) -> Box:
    hx, hy, ax, ay = head
    mx0, my0, mx1, my1 = _mouth_support(mouth)
    x0 = min(hx - HEAD_FEATHER * ax, mx0) - pad
    x1 = max(hx + HEAD_FEATHER * ax, mx1) + pad
    y0 = min(hy - HEAD_FEATHER * ay, my0) - pad
    y1 = max(hy + HEAD_FEATHER * ay, my1) + pad
    step, (h, w) = HEAD_STEP, shape[:2]
    x0, y0 = max(0, int(x0) // step * step), max(0, int(y0) // step * step)
    x1 = min(w - (w - x0) % step, -(-int(np.ceil(x1)) // step) * step)
    y1 = min(h - (h - y0) % step, -(-int(np.ceil(y1)) // step) * step)
    return Box(x0, y0, x1 - x0, y1 - y0)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _grid(roi: Box, step: int) -> np.ndarray:
    """Cell centres in roi pixels, (h/step, w/step, 2) float32."""
    ys = np.arange(roi.h // step, dtype=np.float32) * step + (step - 1) / 2
    xs = np.arange(roi.w // step, dtype=np.float32) * step + (step - 1) / 2
    return np.dstack(np.meshgrid(xs, ys)).astype(np.float32)


def _taper(roi: Box, step: int) -> np.ndarray:
    """1 inside, falling to exactly 0 two head cells from the roi border."""
    grid = _grid(roi, step)
    gx, gy = grid[..., 0], grid[..., 1]
    edge = np.minimum(np.minimum(gx, roi.w - 1 - gx), np.minimum(gy, roi.h - 1 - gy))
    band = max(6.0 * HEAD_STEP, 0.06 * min(roi.w, roi.h))
    return _smoothstep((edge - 2.0 * HEAD_STEP) / band).astype(np.float32)


def _head_basis(roi: Box, head: tuple[float, float, float, float]) -> np.ndarray:
    """Per head cell: weight*x, weight*y, weight; displacement = basis @ (affine - identity).T."""
    grid = _grid(roi, HEAD_STEP)
    gx, gy = grid[..., 0], grid[..., 1]
    hx, hy, ax, ay = head
    radius = np.sqrt(((gx - hx) / ax) ** 2 + ((gy - hy) / ay) ** 2)
    weight = (1.0 - _smoothstep((radius - 1.0) / (HEAD_FEATHER - 1.0))) * _taper(roi, HEAD_STEP)
    return np.dstack([weight * gx, weight * gy, weight]).astype(np.float32).reshape(-1, 3)


def _cells(support: tuple[float, float, float, float], pad: float,
           shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Coarse-cell slices covering `support` (roi pixels) after head motion of up to `pad`."""
    x0, y0, x1, y1 = support
    step = GRID_STEP
    c0 = int(np.clip((x0 - pad) // step, 0, shape[1]))
    c1 = int(np.clip(np.ceil((x1 + pad) / step) + 1, 0, shape[1]))
    r0 = int(np.clip((y0 - pad) // step, 0, shape[0]))
    r1 = int(np.clip(np.ceil((y1 + pad) / step) + 1, 0, shape[0]))
    return (slice(r0, r1), slice(c0, c1))


def _bands(roi: Box, basis: np.ndarray,
           local_cells: tuple[tuple[slice, slice], ...]) -> tuple[tuple[int, int, int, int], ...]:
    """Row bands of the roi with the columns that may move; the rest stays the panel."""
    rows, cols = roi.h // HEAD_STEP, roi.w // HEAD_STEP
    moving = basis[:, 2].reshape(rows, cols) > 0.0
    ratio = GRID_STEP / HEAD_STEP
    for r, c in local_cells:
        moving[int(r.start * ratio):int(np.ceil(r.stop * ratio)),
               int(c.start * ratio):int(np.ceil(c.stop * ratio))] = True
    bands = []
    per_band = BAND_H // HEAD_STEP
    for r0 in range(0, rows, per_band):
        hits = np.nonzero(moving[r0:r0 + per_band].any(axis=0))[0]
        if len(hits):
            c0, c1 = max(0, hits[0] - 1), min(cols, hits[-1] + 2)  # one cell of slack
            y1 = min(roi.h, (r0 + per_band) * HEAD_STEP)
            bands.append((r0 * HEAD_STEP, y1, c0 * HEAD_STEP, c1 * HEAD_STEP))
    return tuple(bands)
