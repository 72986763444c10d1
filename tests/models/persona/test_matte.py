"""The selfie-segmentation matte covers the persona and leaves their background out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.persona.face_mesh import detect_face_mesh
from models.persona.matte import guided_filter, person_matte

PERSONAS = Path(__file__).resolve().parents[3] / "configs" / "personas"


def _portrait(name: str) -> np.ndarray:
    return np.asarray(Image.open(PERSONAS / name).convert("RGB"))


@pytest.mark.parametrize("name", ["grace_hopper.jpg", "eileen_collins.png"])
def test_the_matte_is_one_on_the_face_and_zero_in_the_top_corners(name):
    image = _portrait(name)
    alpha = person_matte(image)
    assert alpha.shape == image.shape[:2] and alpha.dtype == np.float32
    x, y, w, h = detect_face_mesh(image).box
    assert alpha[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4].min() > 0.95
    corner = max(8, image.shape[1] // 12)
    assert alpha[:corner, :corner].max() < 0.05 and alpha[:corner, -corner:].max() < 0.05
    assert 0.25 < float((alpha > 0.5).mean()) < 0.75  # a head-and-shoulders portrait


def test_grace_hoppers_matte_follows_the_edge_of_her_cap_against_the_sky():
    # Her cap's right edge meets the plain blue background near x 368 at y 120 (by eye).
    alpha = person_matte(_portrait("grace_hopper.jpg"))
    row = alpha[120]
    assert row[330] > 0.9 and row[400] < 0.1
    edge = np.argmax(row[330:420] < 0.5) + 330
    assert abs(int(edge) - 368) < 14
    assert int(np.sum((row[330:420] > 0.1) & (row[330:420] < 0.9))) <= 8  # a crisp edge


def test_the_guided_filter_keeps_a_step_that_the_guide_has():
    guide = np.zeros((40, 40), np.float32)
    guide[:, 20:] = 1.0
    noisy = guide + np.random.default_rng(1).normal(0, 0.2, guide.shape).astype(np.float32)
    out = guided_filter(guide, noisy, radius=4, eps=1e-3)
    assert np.abs(out[:, :18]).mean() < 0.05 and np.abs(out[:, 22:] - 1).mean() < 0.05


def test_a_float_image_is_refused_with_value_error():
    with pytest.raises(ValueError, match="uint8 RGB"):
        person_matte(np.zeros((32, 32, 3), np.float32))
