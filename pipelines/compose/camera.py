"""The persona's picture at a framing: what every talking shot asks for, and nothing more.

    camera = PersonaCamera(stage, roi=roi, face=face, mouth=mouth)
    framing = camera.framing("closeup", out_w=1080, out_h=1920)
    still = camera.still(framing)              # drawn once per shot
    camera.paint(frame, patch, framing)        # per frame: only the animated region
    camera.box(mouth, framing)                 # where a stage box lands in the output

The stage is the persona laid out at zoom 1 (today: the persona panel, on 16:9 over its
blurred backdrop), with `roi` the region the animator redraws each frame. A framing is a zoom
about a stage point placed at an output point; the view is clamped so the stage always covers
it. A fixed framing resamples the stage once (`still`) and per frame only the roi's image
(`paint`), with the same transform, so the two meet without a seam. A framing that changes
every frame (a punch-in's ease) resamples the whole view (`view`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.base import Box
from pipelines.compose.compositor import Sprite

# Zoom per talking framing, relative to the stage; the punch-in eases between its two values.
ZOOMS = {"medium": 1.0, "closeup": 1.28, "split": 1.15}
PUNCH_IN = (1.10, 1.20)  # the punch-in cuts in at 10 % over the close-up, eases on to 20 %
MARGIN_PX = 2  # extra output pixels resampled around the roi (interpolation support)


@dataclass(frozen=True)
class Framing:
    zoom: float
    focus: tuple[float, float]  # stage point...
    anchor: tuple[float, float]  # ...shown at this output point
    out_w: int
    out_h: int


class PersonaCamera:
    def __init__(self, stage: np.ndarray, *, roi: Box, face: Box, mouth: Box) -> None:
        self.stage, self.roi, self.face, self.mouth = stage, roi, face, mouth
        self._buffer = stage.copy()  # the stage with the latest patch written in
        self._front: tuple[Sprite, int, int] | None = None

    def set_foreground(self, mask: np.ndarray) -> None:
        """Stage pixels under `mask` (h, w bool) are in front of the persona: they are drawn
        again over each animated patch (a product standing in front of the persona)."""
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        rgba = np.dstack([self.stage[y0:y1, x0:x1], mask[y0:y1, x0:x1].astype(np.uint8) * 255])
        self._front = (Sprite(rgba), int(x0), int(y0))

    def framing(self, kind: str, *, out_w: int, out_h: int, zoom: float | None = None) -> Framing:
        """The framing of a talking shot `kind` for an out_w x out_h view: the medium shot is
        the stage itself; tighter shots zoom about the face, keeping it where it was, or, in a
        view of another shape (a split), centring it."""
        zoom = ZOOMS.get(kind, 1.0) if zoom is None else zoom
        fx, fy = self.face.centre
        h, w = self.stage.shape[:2]
        if (out_w, out_h) == (w, h):
            anchor = (fx, fy)
        else:
            zoom = zoom * max(out_w / w, out_h / h)
            anchor = (out_w / 2, out_h * 0.45)
        return Framing(zoom, (fx, fy), anchor, out_w, out_h)

    def matrix(self, framing: Framing) -> np.ndarray:
        """Stage -> output affine transform (2 x 3), clamped so the stage covers the view."""
        h, w = self.stage.shape[:2]
        z = framing.zoom
        tx = framing.anchor[0] - z * framing.focus[0]
        ty = framing.anchor[1] - z * framing.focus[1]
        tx = float(np.clip(tx, framing.out_w - z * w, 0.0))
        ty = float(np.clip(ty, framing.out_h - z * h, 0.0))
        return np.array([[z, 0.0, tx], [0.0, z, ty]], dtype=np.float64)

    def box(self, box: Box, framing: Framing) -> Box:
        m = self.matrix(framing)
        x0, y0 = m[0, 0] * box.x + m[0, 2], m[1, 1] * box.y + m[1, 2]
        return Box(round(x0), round(y0), round(box.w * m[0, 0]), round(box.h * m[1, 1]))

    def still(self, framing: Framing) -> np.ndarray:
        """The stage at `framing` with its static persona: the shot's background, made once."""
        return self._warp(self.stage, self.matrix(framing), framing.out_w, framing.out_h)

    def paint(self, frame: np.ndarray, patch: np.ndarray | None, framing: Framing) -> None:
        """Draw this frame's persona patch into `frame` (a copy of `still(framing)`)."""
        if patch is None:
            return
        r = self.roi
        self._write(patch)
        m = self.matrix(framing)
        if _is_identity(m):
            frame[r.y:r.y + r.h, r.x:r.x + r.w] = self._buffer[r.y:r.y + r.h, r.x:r.x + r.w]
            return
        out = self.box(r, framing)
        x0, y0 = max(0, out.x - MARGIN_PX), max(0, out.y - MARGIN_PX)
        x1 = min(framing.out_w, out.x + out.w + MARGIN_PX)
        y1 = min(framing.out_h, out.y + out.h + MARGIN_PX)
        if x0 >= x1 or y0 >= y1:
            return
        shifted = m.copy()
        shifted[:, 2] -= (x0, y0)
        frame[y0:y1, x0:x1] = self._warp(self._buffer, shifted, x1 - x0, y1 - y0)

    def view(self, patch: np.ndarray | None, framing: Framing) -> np.ndarray:
        """The whole view with this frame's patch, for a framing that moves every frame."""
        if patch is not None:
            self._write(patch)
        return self._warp(self._buffer, self.matrix(framing), framing.out_w, framing.out_h)

    def _write(self, patch: np.ndarray) -> None:
        r = self.roi
        region = self._buffer[r.y:r.y + r.h, r.x:r.x + r.w]
        region[...] = patch
        if self._front is not None:
            sprite, x, y = self._front
            sprite.blend_onto(region, x - r.x, y - r.y)

    @staticmethod
    def _warp(image: np.ndarray, m: np.ndarray, w: int, h: int) -> np.ndarray:
        if _is_identity(m) and image.shape[:2] == (h, w):
            return image.copy()
        return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)


def _is_identity(m: np.ndarray) -> bool:
    return bool(np.allclose(m, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
