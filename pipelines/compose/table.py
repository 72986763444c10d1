"""The table a display_static product stands on: a lit wooden top across the frame's bottom.

    draw_table(stage, top=930)      # in place: rows 930.. become the table, RGB uint8

A creator who films a product on a desk shows the desk: wood grain that runs across the frame
and tightens towards the back (perspective), light falling off towards the front edge, and a
tone that belongs to the room. The tone is a light oak drawn a third of the way towards the
scene's own colours just above the table; the grain is procedural and fixed (same table in
every render), so nothing per frame is spent on it.
"""

from __future__ import annotations

import cv2
import numpy as np

OAK = np.array([186.0, 146.0, 108.0], np.float32)  # light oak, RGB
SCENE_SHARE = 0.35  # how far the oak is drawn towards the scene's colour
GRAIN_SEED = 11
RINGS = 10.0  # grain lines across the table's depth (more towards the back)
GRAIN_DEPTH = 0.14  # brightness swing of the grain
BACK_EDGE = 0.012  # of the frame height: the table's far edge blends in over this


def draw_table(canvas: np.ndarray, *, top: int) -> None:
    """Replace `canvas` rows from `top` down with the table (in place)."""
    h, w = canvas.shape[:2]
    top = max(0, top)
    rows = h - top
    if rows <= 0:
        return
    table = _tone(canvas, top, rows) * _light(rows)[:, :, None] \
        * (1.0 + GRAIN_DEPTH * _grain(rows, w))[:, :, None]
    blend = np.clip(np.arange(rows, dtype=np.float32) / max(1.0, BACK_EDGE * h), 0.0, 1.0)
    blend = blend[:, None, None]
    band = canvas[top:].astype(np.float32)
    canvas[top:] = np.clip(band * (1.0 - blend) + table * blend, 0, 255).astype(np.uint8)


def _tone(canvas: np.ndarray, top: int, rows: int) -> np.ndarray:
    above = canvas[max(0, top - rows):max(1, top)].reshape(-1, 3).astype(np.float32)
    scene = above.mean(axis=0) if len(above) else OAK
    return (1.0 - SCENE_SHARE) * OAK + SCENE_SHARE * scene


def _light(rows: int) -> np.ndarray:
    """Brighter at the back, where the key light falls, darker towards the front edge."""
    return np.linspace(1.06, 0.82, rows, dtype=np.float32)[:, None]


def _grain(rows: int, width: int) -> np.ndarray:
    """(rows, width) in about -1..1: wavy lines along the table, closer together far away,
    over fine streaks."""
    rng = np.random.default_rng(GRAIN_SEED)
    depth = 1.0 / (0.4 + np.linspace(0.0, 1.0, rows, dtype=np.float32))[:, None]
    wave = cv2.resize(rng.standard_normal((5, 9)).astype(np.float32), (width, rows),
                      interpolation=cv2.INTER_CUBIC)
    rings = np.sin(2.0 * np.pi * (RINGS * depth / 2.5 + 0.3 * wave))
    streaks = cv2.resize(rng.standard_normal((max(2, rows // 3), max(2, width // 40)))
                         .astype(np.float32), (width, rows), interpolation=cv2.INTER_LINEAR)
    return 0.6 * rings + 0.2 * np.clip(streaks, -2.0, 2.0)
