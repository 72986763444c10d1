"""The persona camera and the caption place of each shot (no rendering)."""

import numpy as np
import pytest

from models.base import Box
from pipelines.compose.camera import PersonaCamera
from pipelines.compose.shot_layout import caption_offset, held_product_box, overlap


def _stage(h=320, w=180):
    rng = np.random.default_rng(3)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def _camera(stage):
    return PersonaCamera(stage, roi=Box(40, 30, 100, 90), face=Box(50, 40, 80, 80),
                         mouth=Box(70, 95, 40, 15))


@pytest.mark.parametrize("kind", ["medium", "closeup", "split"])
def test_a_fixed_framing_paints_the_patch_exactly_as_a_whole_resampled_view(kind):
    stage = _stage()
    camera = _camera(stage)
    size = (180, 160) if kind == "split" else (180, 320)
    framing = camera.framing(kind, out_w=size[0], out_h=size[1])
    patch = np.full((90, 100, 3), 200, np.uint8)
    frame = camera.still(framing)
    camera.paint(frame, patch, framing)
    whole = _camera(stage).view(patch, framing)
    assert np.array_equal(frame, whole)  # no seam where the patch meets the still


def test_a_zoomed_view_stays_covered_by_the_stage_and_maps_boxes_with_it():
    stage = _stage()
    camera = _camera(stage)
    framing = camera.framing("closeup", out_w=180, out_h=320, zoom=1.6)
    m = camera.matrix(framing)
    assert m[0, 2] <= 0 and m[1, 2] <= 0
    assert m[0, 2] + 1.6 * 180 >= 180 and m[1, 2] + 1.6 * 320 >= 320
    mouth = camera.box(camera.mouth, framing)
    assert mouth.w == round(40 * 1.6) and mouth.x == round(70 * 1.6 + m[0, 2])


def test_captions_move_off_the_product_and_the_mouth_to_the_nearest_free_rows():
    box = Box(90, 1150, 810, 300)
    product = Box(560, 1110, 330, 330)
    mouth = Box(420, 600, 240, 90)
    dx, dy = caption_offset(box, keep_out=[product, mouth], width=1080, height=1920)
    moved = Box(box.x + dx, box.y + dy, box.w, box.h)
    assert overlap(moved, product) == 0 and overlap(moved, mouth) == 0
    assert moved.x == (1080 - box.w) // 2  # centred
    assert 0.10 * 1920 <= moved.y and moved.y + moved.h <= 0.80 * 1920


def test_where_only_the_eyes_are_free_of_the_mouth_captions_cover_the_eyes_not_the_mouth():
    # A 9:16 close-up at draft size: the title on top, the face filling the frame, the held
    # product below the chin; no row band is free of all three.
    box = Box(30, 383, 270, 100)
    title, mouth, product = Box(22, 51, 295, 71), Box(166, 307, 96, 32), Box(201, 400, 151, 165)
    eyes = Box(60, 170, 240, 90)
    dx, dy = caption_offset(box, keep_out=[title, mouth, product], avoid=[eyes], width=360,
                            height=640)
    moved = Box(box.x + dx, box.y + dy, box.w, box.h)
    assert overlap(moved, mouth) == overlap(moved, product) == overlap(moved, title) == 0
    dx, dy = caption_offset(box, keep_out=[title, mouth, product], avoid=[Box(0, 0, 0, 0)],
                            width=360, height=640)
    free = Box(box.x + dx, box.y + dy, box.w, box.h)
    assert overlap(moved, eyes) < overlap(free, eyes)  # no more of the eyes than it must


def test_captions_never_straddle_a_seam_between_panels():
    box = Box(96, 475, 845, 260)
    dx, dy = caption_offset(box, keep_out=[], width=1920, height=1080, seams_x=[960])
    moved = Box(box.x + dx, box.y + dy, box.w, box.h)
    assert moved.x + moved.w <= 960 or moved.x >= 960


def test_the_held_product_sits_below_the_chin_never_over_the_cheek():
    for width, height, face in ((1080, 1920, Box(330, 330, 390, 390)),
                                (1080, 1080, Box(315, 210, 490, 490))):
        held = held_product_box(face, width=width, height=height)
        assert held.y >= face.y + face.h  # below the face box: the cheek stays clear
        assert held.x + held.w <= width and held.y + 0.8 * held.h <= height
