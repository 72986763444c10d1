"""MediaPipe's face mesh, run on LiteRT, finds the landmarks where the bundled photos have them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from models.persona import face_mesh
from models.persona.face_mesh import (
    INNER_LIP_LOWER,
    INNER_LIP_UPPER,
    LEFT_EYE,
    LEFT_IRIS,
    RIGHT_EYE,
    RIGHT_IRIS,
    FaceMesh,
    detect_face_mesh,
)

PERSONAS = Path(__file__).resolve().parents[3] / "configs" / "personas"


def _portrait(name: str) -> np.ndarray:
    return np.asarray(Image.open(PERSONAS / name).convert("RGB"))


@pytest.fixture(scope="module")
def grace() -> FaceMesh:
    return detect_face_mesh(_portrait("grace_hopper.jpg"))


def test_grace_hoppers_mesh_has_478_points_on_her_face(grace):
    assert grace.points.shape == (478, 2) and grace.points.dtype == np.float32
    # Measured by eye on the 512x600 photo: face about x 160-370, y 130-335, lips meet at
    # y ~275, eyes at y ~188.
    x, y, w, h = grace.box
    assert 150 < x < 190 and 120 < y < 150 and 170 < w < 230 and 180 < h < 230
    assert 170 < grace.face_width_px < 215
    lips = grace.points[list(INNER_LIP_UPPER + INNER_LIP_LOWER)]
    assert np.all(np.abs(lips[:, 1] - 275) < 12)
    for eye in (LEFT_EYE, RIGHT_EYE):
        assert np.all(np.abs(grace.points[list(eye), 1] - 188) < 14)


def test_her_closed_mouth_measures_a_gap_of_about_nothing(grace):
    assert grace.inner_lip_gap_px < 0.03 * grace.face_width_px


def test_eileen_collins_smile_shows_her_lips_apart():
    mesh = detect_face_mesh(_portrait("eileen_collins.png"))
    assert mesh is not None
    assert mesh.inner_lip_gap_px > 0.05 * mesh.face_width_px  # her teeth show in the photo
    assert mesh.points[:, 0].mean() < 256 and mesh.points[:, 1].mean() < 200  # upper left


def test_each_iris_centre_lies_inside_its_eye_on_the_image_side_the_name_says(grace):
    for iris, eye in ((LEFT_IRIS, LEFT_EYE), (RIGHT_IRIS, RIGHT_EYE)):
        contour = grace.points[list(eye)].astype(np.float32)
        centre = tuple(float(v) for v in grace.points[iris[0]])
        assert cv2.pointPolygonTest(contour, centre, False) >= 0
    assert grace.points[LEFT_IRIS[0], 0] < grace.points[RIGHT_IRIS[0], 0]


def test_the_mesh_follows_the_face_when_the_image_is_scaled(grace):
    big = cv2.resize(_portrait("grace_hopper.jpg"), None, fx=1.5, fy=1.5,
                     interpolation=cv2.INTER_CUBIC)
    mesh = detect_face_mesh(big)
    error = np.linalg.norm(mesh.points[:468] / 1.5 - grace.points[:468], axis=1)
    assert np.median(error) < 0.01 * grace.face_width_px


def test_an_image_without_a_face_gives_none():
    rng = np.random.default_rng(0)
    noise = (rng.random((300, 240, 3)) * 40 + 100).astype(np.uint8)
    assert detect_face_mesh(noise) is None


def test_a_grey_or_float_image_is_refused_with_value_error():
    with pytest.raises(ValueError, match="uint8 RGB"):
        detect_face_mesh(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="uint8 RGB"):
        detect_face_mesh(np.zeros((64, 64, 3), np.float32))


def test_the_models_come_from_the_installed_wheel_without_importing_mediapipe():
    import sys

    folder = face_mesh.model_dir()
    for name in ("face_detection/face_detection_short_range.tflite",
                 "face_landmark/face_landmark.tflite", "iris_landmark/iris_landmark.tflite",
                 "selfie_segmentation/selfie_segmentation.tflite"):
        assert (folder / name).is_file()
    assert "mediapipe" not in sys.modules


def test_tracking_a_moving_face_skips_the_detector_and_lands_where_detection_does(grace):
    """A face shifted and turned a little between frames, as in a video: tracked from the
    previous mesh it needs one mesh pass and no detector, and agrees with a fresh detection."""
    image = _portrait("grace_hopper.jpg")
    h, w = image.shape[:2]
    moved = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 3.0, 1.0) +
                           np.float64([[0, 0, 9], [0, 0, -6]]), (w, h),
                           borderMode=cv2.BORDER_REPLICATE)
    before = dict(face_mesh.RUNS)
    tracked = face_mesh.track_face_mesh(moved, grace, irises=False)
    runs = {k: face_mesh.RUNS[k] - before[k] for k in before}
    assert runs == {"detector": 0, "mesh": 1, "iris": 0}
    assert tracked.points.shape == (468, 2)
    fresh = detect_face_mesh(moved)
    error = np.linalg.norm(tracked.points - fresh.points[:468], axis=1)
    assert np.median(error) < 0.02 * fresh.face_width_px
    assert abs(tracked.inner_lip_gap_px - fresh.inner_lip_gap_px) < 0.02 * fresh.face_width_px


def test_tracking_falls_back_to_the_detector_when_the_face_is_gone(grace):
    rng = np.random.default_rng(1)
    noise = (rng.random((600, 512, 3)) * 40 + 100).astype(np.uint8)
    before = face_mesh.RUNS["detector"]
    assert face_mesh.track_face_mesh(noise, grace) is None
    assert face_mesh.RUNS["detector"] > before
    assert face_mesh.track_face_mesh(_portrait("grace_hopper.jpg"), None).points.shape == (478, 2)
