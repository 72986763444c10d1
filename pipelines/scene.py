"""The scene of one video, assembled once before any frame is drawn.

    scene = build_scene(prepared, layout, cutout, mode="holdable", captions=track,
                        end_card=end_card)

The base frame holds everything static (the persona panel, or on 16:9 the panel over a blurred
backdrop); per frame only the persona patch, the product and the caption state are drawn
on a copy of it.
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np

from models.base import Box, Cutout, PreparedPersona
from pipelines.compositor import EndCard, Layer, Placement, Scene, Sprite
from pipelines.layout import Layout
from pipelines.product import holdable_layer, product_card_layer


def _backdrop_cover(panel: np.ndarray, width: int, height: int) -> np.ndarray:
    """The panel scaled to cover the frame, blurred and dimmed, behind a side panel."""
    scale = max(width / panel.shape[1], height / panel.shape[0])
    small = cv2.resize(panel, None, fx=scale / 8, fy=scale / 8, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=4)
    big = cv2.resize(small, (round(panel.shape[1] * scale), round(panel.shape[0] * scale)),
                     interpolation=cv2.INTER_LINEAR)
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return (big[y0:y0 + height, x0:x0 + width].astype(np.uint16) * 150 >> 8).astype(np.uint8)


def build_base(prepared: PreparedPersona, layout: Layout) -> np.ndarray:
    panel = prepared.panel
    if layout.panel_fills_frame:
        return panel.copy()
    base = _backdrop_cover(panel, layout.width, layout.height)
    p = layout.panel
    base[p.y:p.y + p.h, p.x:p.x + p.w] = panel
    return base


def caption_overlay(track, *, keep: int = 8) -> Layer:
    """Adapt a caption track to a compositor layer; sprites are cached per caption state."""
    sprites: OrderedDict = OrderedDict()

    def layer(t_s: float) -> Placement | None:
        state = track.layer_at(t_s)
        if state is None:
            return None
        if state.key not in sprites:
            sprites[state.key] = Sprite(state.rgba)
            while len(sprites) > keep:  # pages go by in order: old states never return
                sprites.popitem(last=False)
        return Placement(sprites[state.key], state.x, state.y)

    return layer


def build_scene(prepared: PreparedPersona, layout: Layout, cutout: Cutout, *, mode: str,
                captions=None, end_card: EndCard | None = None) -> Scene:
    base = build_base(prepared, layout)
    if mode == "display_static":
        layers = [product_card_layer(cutout, layout.card)]
    else:
        layers = [holdable_layer(cutout, layout.product, frame_h=layout.height)]
    roi = prepared.roi
    frame_roi = Box(layout.panel.x + roi.x, layout.panel.y + roi.y, roi.w, roi.h)
    overlays = [caption_overlay(captions)] if captions is not None else []
    return Scene(base=base, persona_roi=frame_roi, layers=layers, overlays=overlays,
                 end_card=end_card)
