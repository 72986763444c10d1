"""Where each kind of shot puts the product, its on-screen text and the captions.

    boxes = shot_boxes(1080, 1920)
    boxes.cutaway_product, boxes.cutaway_title, boxes.split_seam
    held = held_product_box(face, width=1080, height=1920)   # beside the chin, from below
    dx, dy = caption_offset(style.box, keep_out=[mouth, product], width=1080, height=1920,
                            avoid=[eyes])

Captions never cover the product or the mouth, and keep off the eyes where they can: per shot,
the caption box slides (vertically, and on 16:9 also sideways) to the free place nearest where
the caption style put it, inside the platforms' safe rows, and never across a seam between two
panels. Everything is fractions
of the frame, so a 360x640 draft is a shrunken 1080x1920 render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.base import Box

# Rows a caption may use, as fractions of the height (TikTok/Reels: ~13 % top, ~20 % bottom).
CAPTION_ROWS = {"portrait": (0.10, 0.80), "square": (0.06, 0.95), "landscape": (0.06, 0.94)}
KEEP_OUT_MARGIN = 0.012  # of the frame height, around the mouth and the product


@dataclass(frozen=True)
class ShotBoxes:
    """Frame boxes per shot kind; a split is two views on either side of `split_seam`."""

    cutaway_product: Box
    cutaway_title: Box
    split_persona: Box
    split_product: Box
    split_vertical: bool  # True: persona above product; False: side by side
    title: Box  # the hook's title on the first shot


def shape_of(width: int, height: int) -> str:
    ratio = width / height
    return "portrait" if ratio < 0.8 else "landscape" if ratio > 1.25 else "square"


def _box(w: int, h: int, x0: float, y0: float, x1: float, y1: float) -> Box:
    x, y = round(w * x0), round(h * y0)
    return Box(x, y, round(w * x1) - x, round(h * y1) - y)


def shot_boxes(width: int, height: int) -> ShotBoxes:
    w, h = width, height
    shape = shape_of(w, h)
    if shape == "portrait":
        return ShotBoxes(_box(w, h, 0.12, 0.14, 0.88, 0.47), _box(w, h, 0.08, 0.49, 0.84, 0.57),
                         _box(w, h, 0, 0, 1, 0.5), _box(w, h, 0, 0.5, 1, 1), True,
                         _box(w, h, 0.06, 0.08, 0.88, 0.19))
    if shape == "square":
        # A square's face is too tall for half its height: its split is side by side.
        return ShotBoxes(_box(w, h, 0.22, 0.06, 0.78, 0.52), _box(w, h, 0.08, 0.54, 0.92, 0.64),
                         _box(w, h, 0, 0, 0.5, 1), _box(w, h, 0.5, 0, 1, 1), False,
                         _box(w, h, 0.06, 0.04, 0.94, 0.17))
    return ShotBoxes(_box(w, h, 0.06, 0.10, 0.48, 0.90), _box(w, h, 0.52, 0.14, 0.94, 0.40),
                     _box(w, h, 0, 0, 0.5, 1), _box(w, h, 0.5, 0, 1, 1), False,
                     _box(w, h, 0.06, 0.04, 0.94, 0.22))


def split_product_area(boxes: ShotBoxes, width: int, height: int) -> Box:
    """Where the product stands inside the split's product view (frame pixels): the top part
    of it on a vertical split, leaving the rows below for the captions."""
    v = boxes.split_product
    if boxes.split_vertical:
        return Box(v.x + round(0.15 * v.w), v.y + round(0.05 * v.h), round(0.7 * v.w),
                   round(0.55 * v.h))
    return Box(v.x + round(0.1 * v.w), v.y + round(0.08 * v.h), round(0.8 * v.w),
               round(0.52 * v.h))


def held_product_box(face: Box, *, width: int, height: int, zoom: float = 1.0) -> Box:
    """The held product's box: hand scale, at the persona's side, below the chin (never over
    the cheek), rising into the frame from its lower edge; its side stays inside the frame
    in a shot `zoom` times tighter about the face."""
    shape = shape_of(width, height)
    side = {"portrait": 0.30 * width, "square": 0.28 * width, "landscape": 0.20 * width}[shape]
    size = round(min(side, 1.1 * face.h))
    fx = face.centre[0]
    room_right = width - (fx + 0.5 * face.w)
    centre_x = fx + 0.75 * face.w if room_right >= 0.5 * size else fx - 0.75 * face.w
    left = max(0.04 * width, fx - (fx - 0.04 * width) / zoom)
    right = min(0.96 * width, fx + (0.96 * width - fx) / zoom)
    x = round(min(max(centre_x - size / 2, left), right - size))
    top = max(face.y + face.h + 0.04 * height, {"portrait": 0.58, "square": 0.66,
                                                 "landscape": 0.55}[shape] * height)
    top = round(min(top, height - 0.8 * size))  # at most a fifth below the frame's edge
    return Box(x, top, size, size)


def grow(box: Box, px: int) -> Box:
    return Box(box.x - px, box.y - px, box.w + 2 * px, box.h + 2 * px)


def union(boxes: Sequence[Box]) -> Box:
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    x1, y1 = max(b.x + b.w for b in boxes), max(b.y + b.h for b in boxes)
    return Box(x0, y0, x1 - x0, y1 - y0)


def overlap(a: Box, b: Box) -> int:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(0, w) * max(0, h)


def caption_offset(box: Box, *, keep_out: Sequence[Box], width: int, height: int,
                   seams_x: Sequence[int] = (), seams_y: Sequence[int] = (),
                   avoid: Sequence[Box] = ()) -> tuple[int, int]:
    """How far to move the caption `box` so it covers none of `keep_out` and crosses no seam:
    the free place nearest its own rows and the frame's centre line, or the least-covering one
    when none is free. `avoid` (the eyes) is kept clear only where that costs `keep_out`
    nothing: a caption may sit over the nose and eyes of a close-up, never over its mouth."""
    top, bottom = (round(f * height) for f in CAPTION_ROWS[shape_of(width, height)])
    margin = round(KEEP_OUT_MARGIN * height)
    blocked, soft = ([grow(b, margin) for b in boxes if b.w > 0 and b.h > 0]
                     for boxes in (keep_out, avoid))
    xs = _x_candidates(box, width, seams_x)
    centred = (width - box.w) // 2  # captions read best centred, where that is free
    step = max(1, height // 200)
    best, best_key = (0, 0), None
    for x in xs:
        for y in range(top, max(top, bottom - box.h) + 1, step):
            moved = Box(x, y, box.w, box.h)
            crossing = any(y < s < y + box.h for s in seams_y) or \
                any(x < s < x + box.w for s in seams_x)
            covered = sum(overlap(moved, b) for b in blocked) + (box.w * box.h if crossing else 0)
            key = (covered, sum(overlap(moved, b) for b in soft),
                   abs(y - box.y) + abs(x - centred))
            if best_key is None or key < best_key:
                best, best_key = (x - box.x, y - box.y), key
    return best


def _x_candidates(box: Box, width: int, seams_x: Sequence[int]) -> list[int]:
    """The box where it is, centred in the frame, at either side, and centred in each panel
    between seams."""
    edges = [0, *sorted(seams_x), width]
    side = round(0.04 * width)
    xs = [box.x, (width - box.w) // 2, side, width - side - box.w]
    for left, right in zip(edges, edges[1:]):
        if right - left >= box.w:
            xs.append(left + (right - left - box.w) // 2)
    return xs
