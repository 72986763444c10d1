"""The clean plate removes the persona; the backdrop extends and blurs it without flat bands."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from models.persona.backdrop import clean_plate, portrait_blur
from models.persona.face_mesh import detect_face_mesh
from models.persona.matte import person_matte

PERSONAS = Path(__file__).resolve().parents[3] / "configs" / "personas"


def _grace():
    image = np.asarray(Image.open(PERSONAS / "grace_hopper.jpg").convert("RGB"))
    return image, person_matte(image)


def test_the_plate_keeps_the_background_and_paints_the_face_with_background_colours():
    image, alpha = _grace()
    plate = clean_plate(image, alpha)
    assert plate.shape == image.shape and plate.dtype == np.uint8
    far = cv2.erode((alpha < 0.02).astype(np.uint8), np.ones((61, 61), np.uint8)) > 0
    assert np.array_equal(plate[far], image[far])  # background away from her is untouched
    x, y, w, h = detect_face_mesh(image).box
    face = np.s_[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4]
    skin = image[face].reshape(-1, 3).mean(axis=0)
    filled = plate[face].reshape(-1, 3).mean(axis=0)
    sky = image[40:120, 420:500].reshape(-1, 3).mean(axis=0)  # the blue backdrop, top right
    assert np.linalg.norm(filled - skin) > 60  # no face left in the plate
    assert filled[2] > filled[0]  # bluish like the sky and flag around her, not skin


def test_the_backdrop_fills_a_frame_wider_than_the_photo_with_texture_in_every_band():
    image, alpha = _grace()
    plate = clean_plate(image, alpha)
    frame = portrait_blur(plate, scale=1.8, dx=200.0, dy=-300.0, width=1920, height=1080)
    assert frame.shape == (1080, 1920, 3)
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    for x0 in range(0, 1920, 320):  # mirrored past the photo's edges: no flat colour band
        assert gray[:, x0:x0 + 320].std() > 4.0


def test_the_backdrop_is_blurred_like_a_portrait_lens():
    image, alpha = _grace()
    plate = clean_plate(image, alpha)
    sharp = cv2.resize(plate, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)
    frame = portrait_blur(plate, scale=2.0, dx=0.0, dy=0.0, width=sharp.shape[1],
                          height=sharp.shape[0])
    assert _detail(frame) < 0.3 * _detail(sharp)


def _detail(rgb: np.ndarray) -> float:
    """Fine detail: what a 3-pixel blur takes away, in grey levels."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(gray - cv2.GaussianBlur(gray, (0, 0), 3.0)).mean())
