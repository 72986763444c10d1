"""Separate a product from its background without a model.

    cutout = ClassicalCutout().cut_out(rgba)  # Cutout(rgba=(h, w, 4) uint8, method="...")

Three cases, tried in order:

1. "alpha": the image already carries transparency (a PNG cut-out); it is used as it is.
2. "plain-background": the border ring is one nearly uniform colour (white or a studio
   colour). Background is whatever connects to the border within a Lab colour tolerance, so
   same-coloured areas enclosed by the product (a white label) stay. The mask is found on a
   copy at most `analysis_side_px` wide, cleaned, scaled up, refined at full size along the
   edge, and feathered by about a pixel.
3. "none": a busy photo; kept whole and opaque for the compositor to draw as a card.

The result is cropped to the product with a small margin and never resized.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.base import Cutout


@dataclass(frozen=True)
class CutoutOptions:
    """Thresholds; colour distances are CIE76 delta-E in Lab (1 is about a just-visible step)."""

    transparent_below: int = 32  # alpha under this is "clearly transparent"
    min_transparent_fraction: float = 0.01  # that share of the image makes the alpha meaningful
    analysis_side_px: int = 768
    border_ring_fraction: float = 0.02  # ring width as a share of the shorter side
    border_max_spread: float = 10.0  # 90th-percentile ring distance from its median colour
    background_tolerance: float = 10.0  # plus the ring's spread: still background
    min_component_fraction: float = 0.1  # parts smaller than this share of the largest are specks
    feather_sigma_px: float = 0.8  # a soft edge of about 1-2 px
    margin_fraction: float = 0.02  # crop margin as a share of the product's longer side
    min_coverage: float = 0.02  # a smaller product is taken as a failed cut-out


class ClassicalCutout:
    """The CPU default cut-out: alpha channel, plain-background flood fill, or the whole image."""

    name = "classical"

    def __init__(self) -> None:
        self.options = CutoutOptions()

    def cut_out(self, image: np.ndarray) -> Cutout:
        """Cut the product out of RGB or RGBA uint8 `image`; see the module docstring."""
        rgba = _as_rgba(image)
        alpha, method = self._find_alpha(rgba)
        if alpha is None or np.mean(alpha >= 128) < self.options.min_coverage:
            alpha, method = np.full(rgba.shape[:2], 255, np.uint8), "none"
        top, bottom, left, right = _crop_box(alpha, self.options.margin_fraction)
        rgb, alpha = rgba[top:bottom, left:right, :3], alpha[top:bottom, left:right]
        if method == "plain-background":
            rgb = _pull_in_edge_colour(rgb, alpha)
        return Cutout(rgba=np.ascontiguousarray(np.dstack([rgb, alpha])), method=method)

    def _find_alpha(self, rgba: np.ndarray) -> tuple[np.ndarray | None, str]:
        opts = self.options
        alpha = rgba[..., 3]
        if np.mean(alpha < opts.transparent_below) >= opts.min_transparent_fraction:
            return alpha, "alpha"
        small = _downscale(rgba[..., :3], opts.analysis_side_px)
        lab = _lab(small)
        background = _plain_background(lab, opts)
        if background is None:
            return None, "none"
        colour, tolerance = background
        mask = _clean(_foreground(lab, colour, tolerance), opts.min_component_fraction)
        if not mask.any():
            return None, "none"
        full = _upscale(mask, rgba[..., :3], colour, tolerance)
        return cv2.GaussianBlur(full, (0, 0), opts.feather_sigma_px), "plain-background"


def _as_rgba(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB or RGBA uint8 image, got {image.dtype} {image.shape}")
    if image.shape[2] == 4:
        return image
    return np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])


def _downscale(rgb: np.ndarray, max_side: int) -> np.ndarray:
    scale = max_side / max(rgb.shape[:2])
    if scale >= 1.0:
        return rgb
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab, float32: L in 0..100, a and b about -128..127."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _ring(array: np.ndarray, width: int) -> np.ndarray:
    """The pixels within `width` of the border, flattened to (n, channels)."""
    channels = array.shape[2] if array.ndim == 3 else 1
    parts = (array[:width], array[-width:],
             array[width:-width, :width], array[width:-width, -width:])
    return np.concatenate([part.reshape(-1, channels) for part in parts])


def _plain_background(lab: np.ndarray, opts: CutoutOptions) -> tuple[np.ndarray, float] | None:
    """(background colour, tolerance) when the border ring is nearly one colour, else None."""
    width = max(2, round(min(lab.shape[:2]) * opts.border_ring_fraction))
    if min(lab.shape[:2]) <= 4 * width:
        return None  # too small to tell a border from the product
    ring = _ring(lab, width)
    colour = np.median(ring, axis=0)
    # A percentile, not the maximum: a product may touch part of the border.
    spread = float(np.percentile(np.linalg.norm(ring - colour, axis=1), 90))
    if spread > opts.border_max_spread:
        return None
    return colour, opts.background_tolerance + spread


def _foreground(lab: np.ndarray, colour: np.ndarray, tolerance: float) -> np.ndarray:
    """1 where a pixel is not background-coloured or is enclosed away from the border."""
    near = (np.linalg.norm(lab - colour, axis=2) <= tolerance).astype(np.uint8)
    # 4-connectivity: background must not leak through a product outline's diagonal gaps.
    _, labels = cv2.connectedComponents(near, connectivity=4)
    touching = np.unique(_ring(labels, 1))
    background = np.isin(labels, touching[touching != 0])  # label 0 is the non-near pixels
    return (~background).astype(np.uint8)


def _clean(mask: np.ndarray, min_component_fraction: float) -> np.ndarray:
    """Drop specks and fill pinholes, then keep the parts comparable to the largest."""
    size = max(3, round(min(mask.shape) / 150) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= min_component_fraction * areas.max())
    return np.isin(labels, keep).astype(np.uint8)


def _upscale(mask: np.ndarray, rgb: np.ndarray, colour: np.ndarray, tolerance: float) -> np.ndarray:
    """The mask at full size as 0/255; near its edge each pixel is decided by its own colour."""
    height, width = rgb.shape[:2]
    if mask.shape == (height, width):
        return mask * np.uint8(255)
    full = cv2.resize(mask * np.uint8(255), (width, height), interpolation=cv2.INTER_LINEAR)
    full = np.where(full >= 128, 255, 0).astype(np.uint8)
    # The small mask places the edge only to within a few full-size pixels: redo that band.
    reach = 2 * round(width / mask.shape[1]) + 1
    kernel = np.ones((reach, reach), np.uint8)
    band = cv2.dilate(full, kernel) != cv2.erode(full, kernel)
    pixels = _lab(rgb[band].reshape(-1, 1, 3)).reshape(-1, 3)
    full[band] = np.where(np.linalg.norm(pixels - colour, axis=1) > tolerance, 255, 0)
    return full


def _pull_in_edge_colour(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Soft-edge pixels still hold some old background; give them the product colour just
    inside, so no halo of the studio colour shows over the new scene."""
    solid = (alpha == 255).astype(np.float32)
    weight = cv2.GaussianBlur(solid, (0, 0), 2.0)
    spread = cv2.GaussianBlur(rgb.astype(np.float32) * solid[..., None], (0, 0), 2.0)
    # Far from any solid pixel there is nothing to borrow: such pixels keep their own colour.
    take = (alpha > 0) & (alpha < 255) & (weight > 0.05)
    out = rgb.copy()
    out[take] = np.clip(spread[take] / weight[take, None], 0, 255).round().astype(np.uint8)
    return out


def _crop_box(alpha: np.ndarray, margin_fraction: float) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) around the visible pixels, widened by a small margin."""
    rows = np.flatnonzero((alpha > 8).any(axis=1))
    cols = np.flatnonzero((alpha > 8).any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    margin = max(2, round(margin_fraction * max(bottom - top, right - left)))
    height, width = alpha.shape
    return (max(0, top - margin), min(height, bottom + margin),
            max(0, left - margin), min(width, right + margin))
