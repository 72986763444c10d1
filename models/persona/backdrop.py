"""The persona's own background with the person removed, ready to sit behind the matte.

    plate = clean_plate(rgb, alpha)            # (h, w, 3) uint8, the person inpainted away
    behind = portrait_blur(plate, layout)      # the frame's backdrop, extended and blurred

`clean_plate` fills the person's silhouette (the matte, grown a little so no hair or edge
colour stays) with OpenCV's Telea inpainting, working at a reduced size because the hole is
large and the plate is blurred anyway; the background outside the hole keeps its pixels.
`portrait_blur` places the plate under the same transform as the persona, mirrors it out to
fill frames wider or taller than the photo (a mirrored wall or flag, not a flat colour), and
blurs it like a phone's portrait mode: depth-of-field blur, a little darker at the edges.
"""

from __future__ import annotations

import cv2
import numpy as np

INPAINT_SIDE = 192  # long side of the image the hole is filled at
GROW = 0.03  # the hole grows by this share of the long side past the matte
BLUR_SIGMA = 0.012  # of the output frame's long side
RUNS = {"inpaint": 0}


def clean_plate(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """`rgb` with the person (alpha > 0.1) replaced by the surrounding background."""
    h, w = rgb.shape[:2]
    k = min(1.0, INPAINT_SIDE / max(h, w))
    size = (max(8, round(w * k)), max(8, round(h * k)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    hole = (cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) > 0.1).astype(np.uint8)
    grow = max(1, round(GROW * max(size)))
    hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    RUNS["inpaint"] += 1
    filled = cv2.inpaint(small, hole * 255, max(3, grow), cv2.INPAINT_TELEA)
    # Soften the inpainted streaks; the plate is shown blurred, never sharp.
    filled = np.where(hole[..., None] > 0, cv2.GaussianBlur(filled, (0, 0), grow), filled)
    big = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    keep = cv2.resize(hole.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    return (rgb * (1.0 - keep) + big * keep).astype(np.uint8)


def portrait_blur(plate: np.ndarray, *, scale: float, dx: float, dy: float, width: int,
                  height: int) -> np.ndarray:
    """The frame's backdrop: frame pixel = plate pixel * scale + (dx, dy), mirrored past the
    plate's edges, blurred with a sigma of `BLUR_SIGMA` of the frame's long side."""
    sigma_out = BLUR_SIGMA * max(width, height)
    # Blur at plate resolution (cheap), in the frame's units: sigma_out / scale plate pixels.
    sigma = max(0.8, sigma_out / scale)
    pad = int(np.ceil(max(width, height) / scale))
    padded = cv2.copyMakeBorder(plate, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    blurred = cv2.GaussianBlur(padded, (0, 0), sigma)
    matrix = np.float64([[scale, 0.0, dx - pad * scale], [0.0, scale, dy - pad * scale]])
    frame = cv2.warpAffine(blurred, matrix, (width, height), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT_101)
    return _vignette(frame)


def _vignette(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    y = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    shade = 1.0 - 0.18 * np.clip(x * x + y * y - 0.3, 0.0, 1.0)
    return np.clip(frame * shade[..., None], 0, 255).astype(np.uint8)
