"""Composition as data: a scene is layers; static ones are drawn once, moving ones per frame.

    compositor.py  Scene, Sprite, Placement, EndCard
    layout.py      Layout: where the persona panel, product, captions and card go per frame shape
    endcard.py     the closing card: product, name and call to action
"""

from pipelines.compose.compositor import EndCard, Placement, Scene, Sprite
from pipelines.compose.endcard import build_end_card, end_card_seconds
from pipelines.compose.layout import Layout, layout_for

__all__ = ["EndCard", "Layout", "Placement", "Scene", "Sprite", "build_end_card",
           "end_card_seconds", "layout_for"]
