"""The edit on screen: each planned shot drawn from the persona, the product and the text.

    scene = ShotScene(cut, camera=camera, held=held, hero=cutout, extras=Extras(card, keep_out),
                      captions=track, font_path=font, width=1080, height=1920)
    frame = scene.compose(t_s, persona_patch)     # (h, w, 3) uint8, a fresh array
    scene.shots                                    # [RenderedShot], what script.json records

A shot's static picture is made when the shot starts and dropped when it ends: close-up and
medium are the persona at a fixed framing (`PersonaCamera.still`, then per frame only the
animated region), a punch-in cuts in tighter and eases on (its whole view resampled per
frame), a cutaway is the product on its own backdrop pushed in slowly with the selling point
on screen, a split is the persona above (or beside) the product, and the end card is drawn
once. The captions follow each shot's free place (shot_layout.caption_offset).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.base import Box, Cutout
from models.script.shots import TimedShot
from pipelines.compose.camera import PUNCH_IN, ZOOMS, Framing, PersonaCamera
from pipelines.compose.compositor import Sprite
from pipelines.compose.layout import fit_inside
from pipelines.compose.product_use import HeldProduct, hero_image, product_rgba
from pipelines.compose.shot_layout import ShotBoxes, caption_offset, shot_boxes, split_product_area, union
from pipelines.compose.title import title_card

PUSH_IN = 0.06  # a cutaway grows this much over its length
EASE_S = 0.5  # a punch-in's ease


@dataclass(frozen=True)
class RenderedShot:
    """A timed shot with where its product and the persona's mouth are (frame pixels)."""

    shot: TimedShot
    product_box: Box | None  # at the shot's start
    product_box_end: Box | None  # at its end (a cutaway pushes in)
    mouth_box: Box | None
    caption_shift: tuple[int, int]
    product_rest_box: Box | None = None  # a held product at rest (no bob, tilt or lift)

    def as_dict(self) -> dict:
        s = self.shot
        return {"index": s.index, "segment": s.segment, "kind": s.kind,
                "start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "line": s.line,
                "talking": s.talking, "title": s.title, "product_box": _listed(self.product_box),
                "product_box_end": _listed(self.product_box_end),
                "mouth_box": _listed(self.mouth_box), "caption_shift": list(self.caption_shift),
                "product_rest_box": _listed(self.product_rest_box)}


def _listed(box: Box | None) -> list[int] | None:
    return None if box is None else [box.x, box.y, box.w, box.h]


@dataclass(frozen=True)
class Extras:
    """What the end card and the seams add to the geometry of the edit."""

    end_card: np.ndarray
    end_keep_out: tuple[Box, ...]  # the end card's product and call to action
    seams_x: tuple[int, ...] = ()  # panel edges on the stage (16:9)
    seam_y: int | None = None  # where the photo ends on the stage, if it does
    standing: Box | None = None  # display_static: the product standing on the stage
    split_camera: PersonaCamera | None = None  # the persona without it, for a split


class ShotScene:
    def __init__(self, cut: Sequence[TimedShot], *, camera: PersonaCamera, held: HeldProduct | None,
                 hero: Cutout, extras: Extras, captions, font_path: Path, width: int,
                 height: int) -> None:
        self.camera, self.held, self.hero, self.extras = camera, held, hero, extras
        self.captions, self.font_path = captions, font_path
        self.width, self.height = width, height
        self.boxes: ShotBoxes = shot_boxes(width, height)
        self.shots = [self._place(shot) for shot in cut]
        self._starts = [s.shot.start_s for s in self.shots]
        self._active: tuple[int, _Drawer] | None = None
        self._caption_sprites: OrderedDict = OrderedDict()

    # --- geometry, decided before any frame -----------------------------------------------

    def _framing(self, kind: str, t_s: float = 0.0, start_s: float = 0.0) -> Framing:
        if kind == "split":
            v = self.boxes.split_persona
            return self.camera.framing("split", out_w=v.w, out_h=v.h)
        if kind == "punch_in":
            ease = min(1.0, max(0.0, (t_s - start_s) / EASE_S))
            ease = ease * ease * (3 - 2 * ease)
            zoom = ZOOMS["closeup"] * (PUNCH_IN[0] + (PUNCH_IN[1] - PUNCH_IN[0]) * ease)
            return self.camera.framing(kind, out_w=self.width, out_h=self.height, zoom=zoom)
        return self.camera.framing(kind, out_w=self.width, out_h=self.height)

    def _place(self, shot: TimedShot) -> RenderedShot:
        product = end = mouth = rest = None
        keep_out: list[Box] = []
        avoid: list[Box] = []
        kind = shot.kind
        if kind in ("closeup", "medium", "punch_in", "split"):
            framings = [self._framing(kind, shot.start_s, shot.start_s),
                        self._framing(kind, shot.end_s, shot.start_s)]
            offset = self._view_offset(kind)
            mouth = union([_shift(self.camera.box(self.camera.mouth, f), offset) for f in framings])
            eyes = union([_shift(self.camera.box(_upper(self.camera.face), f), offset)
                          for f in framings])
            keep_out.append(mouth)
            avoid.append(eyes)  # captions over the eyes read badly too, but less than the mouth
            if kind == "split":
                product = end = self._split_product()
            elif self.held is not None:
                product = end = self._visible(union([self.camera.box(self.held.reach(), f)
                                                     for f in framings]))
                rest = self.camera.box(self.held.fitted, framings[0])
            elif self.extras.standing is not None:
                rest = self.camera.box(self.extras.standing, framings[0])
                product = end = self._visible(rest)
        elif kind == "cutaway":
            product = _fitted(self.hero, self.boxes.cutaway_product)
            end = _scaled_about(product, 1 + PUSH_IN, _centre(product))
            keep_out.append(self.boxes.cutaway_title)
        else:  # endcard
            keep_out += self.extras.end_keep_out
            product = end = self.extras.end_keep_out[0]
        keep_out += [b for b in (product, end) if b is not None]
        if shot.title and kind != "cutaway":
            keep_out.append(self.boxes.title)
        shift = self._caption_shift(kind, keep_out, avoid)
        return RenderedShot(shot, product, end, mouth, shift, rest if product else None)

    def _view_offset(self, kind: str) -> tuple[int, int]:
        v = self.boxes.split_persona
        return (v.x, v.y) if kind == "split" else (0, 0)

    def _split_product(self) -> Box:
        return _fitted(self.hero, split_product_area(self.boxes, self.width, self.height))

    def _visible(self, box: Box) -> Box | None:
        x0, y0 = max(0, box.x), max(0, box.y)
        x1, y1 = min(self.width, box.x + box.w), min(self.height, box.y + box.h)
        return Box(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None

    def _caption_shift(self, kind: str, keep_out: list[Box],
                       avoid: list[Box]) -> tuple[int, int]:
        if self.captions is None:
            return (0, 0)
        seams_x, seams_y = self._seams(kind)
        return caption_offset(self.captions.style.box, keep_out=keep_out, width=self.width,
                              height=self.height, seams_x=seams_x, seams_y=seams_y, avoid=avoid)

    def _seams(self, kind: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        b = self.boxes
        if kind == "split":
            v = b.split_product
            return ((), (v.y,)) if b.split_vertical else ((v.x,), ())
        if kind in ("closeup", "medium", "punch_in"):
            f = self._framing(kind)
            m = self.camera.matrix(f)
            xs = tuple(round(m[0, 0] * x + m[0, 2]) for x in self.extras.seams_x)
            ys = () if self.extras.seam_y is None else (round(m[1, 1] * self.extras.seam_y + m[1, 2]),)
            inside = lambda v, n: 0 < v < n  # noqa: E731 - a seam off the view is no seam
            return (tuple(x for x in xs if inside(x, self.width)),
                    tuple(y for y in ys if inside(y, self.height)))
        return ((), ())

    # --- frames ---------------------------------------------------------------------------

    def compose(self, t_s: float, persona_patch: np.ndarray | None) -> np.ndarray:
        index = max(0, int(np.searchsorted(self._starts, t_s + 1e-9, side="right")) - 1)
        if self._active is None or self._active[0] != index:
            self._active = (index, self._drawer(self.shots[index]))  # the last shot's drawer goes
        placed = self.shots[index]
        frame = self._active[1].draw(t_s, persona_patch)
        self._draw_captions(frame, t_s, placed.caption_shift)
        return frame

    def _drawer(self, placed: RenderedShot) -> _Drawer:
        kind, title = placed.shot.kind, placed.shot.title
        title_sprite = None
        if title:
            box = self.boxes.cutaway_title if kind == "cutaway" else self.boxes.title
            title_sprite = (title_card(title, box, self.font_path), box)
        if kind == "cutaway":
            return _Cutaway(self, placed, title_sprite)
        if kind == "endcard":
            return _Still(self.extras.end_card)
        return _Talking(self, placed, title_sprite)

    def _draw_captions(self, frame: np.ndarray, t_s: float, shift: tuple[int, int]) -> None:
        if self.captions is None:
            return
        state = self.captions.layer_at(t_s)
        if state is None:
            return
        if state.key not in self._caption_sprites:
            self._caption_sprites[state.key] = Sprite(state.rgba)
            while len(self._caption_sprites) > 8:  # pages go by in order
                self._caption_sprites.popitem(last=False)
        self._caption_sprites[state.key].blend_onto(frame, state.x + shift[0], state.y + shift[1])


class _Drawer:
    def draw(self, t_s: float, patch: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


class _Still(_Drawer):
    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def draw(self, t_s: float, patch: np.ndarray | None) -> np.ndarray:
        return self.image.copy()


class _Talking(_Drawer):
    """Close-up, medium, punch-in and split: the persona at its framing, the product, a title."""

    def __init__(self, scene: ShotScene, placed: RenderedShot, title) -> None:
        self.scene, self.placed, self.title = scene, placed, title
        shot = placed.shot
        self.kind, self.start_s = shot.kind, shot.start_s
        split_camera = scene.extras.split_camera if shot.kind == "split" else None
        self.camera = split_camera or scene.camera  # a split shows the product beside, not twice
        self.framing = scene._framing(shot.kind, shot.start_s, shot.start_s)
        self.moving = shot.kind == "punch_in"
        self.background = self._background()
        self.product = None
        if scene.held is not None and shot.kind != "split":
            f = self.framing if not self.moving else scene._framing("punch_in", shot.end_s, 0.0)
            self.product = scene.held.layer(zoom=f.zoom)  # a punch-in: at its ease's end scale

    def _background(self) -> np.ndarray:
        scene = self.scene
        if self.kind != "split":
            return scene.camera.still(self.framing) if not self.moving else None
        frame = np.empty((scene.height, scene.width, 3), np.uint8)
        v, p = scene.boxes.split_persona, scene.boxes.split_product
        frame[v.y:v.y + v.h, v.x:v.x + v.w] = self.camera.still(self.framing)
        hero, _ = hero_image(scene.hero, _shift_box(scene._split_product(), -p.x, -p.y), p.w, p.h)
        frame[p.y:p.y + p.h, p.x:p.x + p.w] = hero
        return frame

    def draw(self, t_s: float, patch: np.ndarray | None) -> np.ndarray:
        scene = self.scene
        if self.moving:
            framing = scene._framing("punch_in", t_s, self.start_s)
            frame = self.camera.view(patch, framing)
            if self.product is not None:
                self._draw_product(frame, t_s, framing)
        else:
            frame = self.background.copy()
            v = scene.boxes.split_persona if self.kind == "split" else None
            target = frame if v is None else frame[v.y:v.y + v.h, v.x:v.x + v.w]
            self.camera.paint(target, patch, self.framing)
            if self.product is not None:
                self._draw_product(frame, t_s, self.framing)
        if self.title is not None:
            sprite, box = self.title
            sprite.blend_onto(frame, box.x, box.y)
        return frame

    def _draw_product(self, frame: np.ndarray, t_s: float, framing: Framing) -> None:
        placed = self.product.placement(t_s, self.scene.camera.matrix(framing))
        placed.sprite.blend_onto(frame, placed.x, placed.y)


class _Cutaway(_Drawer):
    """The product full frame, pushed in slowly about its centre, the selling point below."""

    def __init__(self, scene: ShotScene, placed: RenderedShot, title) -> None:
        self.scene, self.placed, self.title = scene, placed, title
        self.image, self.product = hero_image(scene.hero, scene.boxes.cutaway_product,
                                              scene.width, scene.height)
        self.start_s, self.end_s = placed.shot.start_s, placed.shot.end_s

    def draw(self, t_s: float, patch: np.ndarray | None) -> np.ndarray:
        span = max(1e-6, self.end_s - self.start_s)
        scale = 1.0 + PUSH_IN * min(1.0, max(0.0, (t_s - self.start_s) / span))
        cx, cy = _centre(self.product)
        m = np.array([[scale, 0.0, cx * (1 - scale)], [0.0, scale, cy * (1 - scale)]])
        frame = cv2.warpAffine(self.image, m, (self.scene.width, self.scene.height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if self.title is not None:
            sprite, box = self.title
            sprite.blend_onto(frame, box.x, box.y)
        return frame


def _fitted(cutout: Cutout, box: Box) -> Box:
    rgba = product_rgba(cutout)
    return fit_inside(rgba.shape[1], rgba.shape[0], box)


def _upper(face: Box) -> Box:
    """The eyes' band of a face box (its upper part, below the forehead)."""
    return Box(face.x, face.y + face.h // 5, face.w, face.h * 2 // 5)


def _centre(box: Box) -> tuple[float, float]:
    return (box.x + box.w / 2, box.y + box.h / 2)


def _scaled_about(box: Box, scale: float, centre: tuple[float, float]) -> Box:
    cx, cy = centre
    return Box(round(cx + (box.x - cx) * scale), round(cy + (box.y - cy) * scale),
               round(box.w * scale), round(box.h * scale))


def _shift(box: Box, offset: tuple[int, int]) -> Box:
    return Box(box.x + offset[0], box.y + offset[1], box.w, box.h)


def _shift_box(box: Box, dx: int, dy: int) -> Box:
    return Box(box.x + dx, box.y + dy, box.w, box.h)
