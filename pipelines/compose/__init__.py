"""Composition as data: a scene is layers; static ones are drawn once, moving ones per frame.

    compositor.py  Scene, Sprite, Placement, EndCard
    layout.py      Layout: where the persona panel, product, captions and card go per frame shape
    endcard.py     the closing card: product, name and call to action
    camera.py      PersonaCamera: the persona's picture at a shot's framing
    product_use.py the product held, standing, or the hero of a cutaway
    shot_layout.py boxes per shot kind, and where the captions go in each shot
    shots.py       ShotScene: the shot plan drawn frame by frame
    edit.py        assemble_edit: the job's camera, product and shots put together
"""

from pipelines.compose.compositor import EndCard, Placement, Scene, Sprite
from pipelines.compose.endcard import build_end_card, end_card_seconds
from pipelines.compose.layout import Layout, layout_for

__all__ = ["EndCard", "Layout", "Placement", "Scene", "Sprite", "build_end_card",
           "end_card_seconds", "layout_for"]
