"""The face locator finds face parts with the mesh in the bundled portraits, caches them per image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.settings import REPO_ROOT
from models.base import Box
from models.persona import face_locator
from models.persona.face_locator import detect_landmarks, forget_meshes, locate_face, locate_mesh

PERSONAS = REPO_ROOT / "configs" / "personas"


def _portrait(name: str) -> np.ndarray:
    return np.asarray(Image.open(PERSONAS / name).convert("RGB"))


def _inside(inner: Box, outer: Box) -> bool:
    cx, cy = inner.centre
    return outer.x <= cx <= outer.x + outer.w and outer.y <= cy <= outer.y + outer.h


def test_grace_hopper_face_eyes_and_mouth_are_where_the_photo_has_them():
    lm = detect_landmarks(_portrait("grace_hopper.jpg"), persona_id="grace")
    # Measured by eye on the 512x600 photo: face about x 160-370, y 130-335, eyes at y ~188,
    # lips meet at y ~275.
    assert abs(lm.face.centre[0] - 265) < 25 and abs(lm.face.centre[1] - 232) < 25
    assert lm.left_eye.centre[0] < lm.face.centre[0] < lm.right_eye.centre[0]
    for eye in (lm.left_eye, lm.right_eye):
        assert abs(eye.centre[1] - 188) < 12
    assert abs(lm.mouth.centre[0] - 265) < 20 and 265 < lm.mouth.centre[1] < 290
    assert all(_inside(part, lm.face) for part in (lm.left_eye, lm.right_eye, lm.mouth))
    assert lm.eye_source == "mesh" and lm.mouth_source == "mesh"


def test_eileen_collins_face_is_found_upper_left_of_centre_above_the_spacesuit():
    lm = detect_landmarks(_portrait("eileen_collins.png"), persona_id="eileen")
    fx, fy = lm.face.centre
    assert fx < 256 and fy < 256  # upper-left of the 512x512 frame
    assert abs(fx - 225) < 15 and abs(fy - 123) < 15
    assert 35 < lm.eye_distance < 60  # her eyes are ~46 px apart
    assert lm.left_eye.centre[1] < lm.mouth.centre[1] - 25
    assert abs(lm.mouth.centre[1] - 146) < 12  # her smile, not the suit's neck ring


def test_a_portrait_without_a_face_raises_value_error_naming_the_persona(tmp_path):
    rng = np.random.default_rng(0)
    noise = (rng.random((300, 240, 3)) * 40 + 100).astype(np.uint8)
    with pytest.raises(ValueError, match="'faceless'"):
        locate_face(noise, persona_id="faceless", cache_dir=tmp_path)
    assert not list(tmp_path.glob("*.json"))


def test_the_mesh_is_cached_on_disk_and_a_fresh_process_does_not_run_it_again(tmp_path,
                                                                               monkeypatch):
    image = _portrait("eileen_collins.png")
    first = locate_mesh(image, persona_id="eileen-disk", cache_dir=tmp_path)
    (entry,) = tmp_path.glob("mesh-eileen-disk-*.json")
    assert len(json.loads(entry.read_text())["points"]) == 478

    def no_mesh(*args, **kwargs):
        raise AssertionError("the mesh ran although the result was cached")

    monkeypatch.setattr(face_locator, "detect_face_mesh", no_mesh)
    assert locate_mesh(image, persona_id="eileen-disk", cache_dir=tmp_path) is first  # process
    forget_meshes()  # as a new worker process would start
    again = locate_mesh(image, persona_id="eileen-disk", cache_dir=tmp_path)
    assert np.allclose(again.points, first.points, atol=1e-3)
    assert not list(tmp_path.glob(".tmp-*"))  # written atomically, nothing left behind


def test_a_changed_image_gets_its_own_cache_entry(tmp_path):
    image = _portrait("eileen_collins.png")
    locate_face(image, persona_id="eileen", cache_dir=tmp_path)
    brighter = np.clip(image.astype(np.int16) + 8, 0, 255).astype(np.uint8)
    locate_face(brighter, persona_id="eileen", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("mesh-eileen-*.json"))) == 2


def test_a_damaged_cache_entry_is_detected_again_and_replaced(tmp_path):
    image = _portrait("grace_hopper.jpg")
    good = locate_face(image, persona_id="grace-damaged", cache_dir=tmp_path)
    (entry,) = tmp_path.glob("mesh-grace-damaged-*.json")
    entry.write_text("{not json")
    forget_meshes()
    assert locate_face(image, persona_id="grace-damaged", cache_dir=tmp_path) == good
    assert json.loads(entry.read_text())["version"] == face_locator.CACHE_VERSION


def test_landmarks_scale_into_panel_coordinates():
    lm = detect_landmarks(_portrait("eileen_collins.png"), persona_id="eileen")
    moved = lm.scaled(2.0, dx=-100, dy=-10)
    assert moved.face == Box(lm.face.x * 2 - 100, lm.face.y * 2 - 10, lm.face.w * 2, lm.face.h * 2)
    assert moved.eye_distance == pytest.approx(2 * lm.eye_distance, abs=2)
