"""The selfie framing: eyes near the upper third, chest at the bottom edge, face big enough."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.persona.analysis import analyse_persona
from models.persona.framing import EYE_LINE, MAX_UPSCALE, eye_centre, plan_framing, render_framed

PERSONAS = Path(__file__).resolve().parents[3] / "configs" / "personas"
BUNDLED = [("grace_hopper.jpg", "grace"), ("eileen_collins.png", "eileen")]


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    cache = tmp_path_factory.mktemp("personas")
    out = {}
    for name, pid in BUNDLED:
        image = np.asarray(Image.open(PERSONAS / name).convert("RGB"))
        out[pid] = (image, analyse_persona(image, persona_id=pid, cache_dir=cache))
    return out


@pytest.mark.parametrize("pid", ["grace", "eileen"])
def test_a_9_16_close_up_has_the_eyes_near_the_upper_third_and_the_chest_at_the_bottom(found,
                                                                                       pid):
    image, analysis = found[pid]
    layout = plan_framing(image.shape, analysis.mesh, panel_w=1080, panel_h=1920)
    mesh = analysis.mesh.scaled(layout.scale, dx=layout.dx, dy=layout.dy)
    ex, ey = eye_centre(mesh)
    assert abs(ey / 1920 - EYE_LINE["tall"]) < 0.005 and abs(ex / 1080 - 0.5) < 0.005
    assert image.shape[0] * layout.scale + layout.dy >= 1920 - 1  # the photo reaches the bottom
    assert mesh.face_width_px >= 0.30 * 1080
    assert layout.scale <= max(MAX_UPSCALE, (1920 - ey) / (image.shape[0] - eye_centre(
        analysis.mesh)[1])) + 1e-6


@pytest.mark.parametrize("pid", ["grace", "eileen"])
def test_a_punch_in_zooms_about_the_eyes(found, pid):
    image, analysis = found[pid]
    base = plan_framing(image.shape, analysis.mesh, panel_w=1080, panel_h=1920)
    punch = plan_framing(image.shape, analysis.mesh, panel_w=1080, panel_h=1920, zoom=1.15)
    assert punch.scale == pytest.approx(1.15 * base.scale)
    eyes = [eye_centre(analysis.mesh.scaled(L.scale, dx=L.dx, dy=L.dy)) for L in (base, punch)]
    assert np.allclose(eyes[0], eyes[1], atol=0.5)


def test_a_wider_shot_lowers_the_eyes_to_keep_the_chest_at_the_bottom(found):
    image, analysis = found["grace"]
    wide = plan_framing(image.shape, analysis.mesh, panel_w=1080, panel_h=1920, zoom=0.85)
    _, ey = eye_centre(analysis.mesh.scaled(wide.scale, dx=wide.dx, dy=wide.dy))
    assert ey / 1920 > EYE_LINE["tall"] + 0.02
    assert image.shape[0] * wide.scale + wide.dy >= 1920 - 1


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1080)])
def test_wide_and_square_frames_put_the_face_left_of_centre_for_the_product(found, size):
    width, height = size
    image, analysis = found["eileen"]
    layout = plan_framing(image.shape, analysis.mesh, panel_w=width, panel_h=height)
    ex, ey = eye_centre(analysis.mesh.scaled(layout.scale, dx=layout.dx, dy=layout.dy))
    assert 0.3 < ex / width < 0.45 and 0.3 < ey / height < 0.45


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (1080, 1080)])
def test_the_framed_panel_is_the_sharp_photo_on_the_person_and_blurred_behind(found, size):
    width, height = size
    image, analysis = found["grace"]
    layout = plan_framing(image.shape, analysis.mesh, panel_w=width, panel_h=height)
    panel = render_framed(image, layout, alpha=analysis.alpha, plate=analysis.plate)
    assert panel.shape == (height, width, 3) and panel.dtype == np.uint8
    mesh = analysis.mesh.scaled(layout.scale, dx=layout.dx, dy=layout.dy)
    x, y, w, h = mesh.box
    expected = np.asarray(Image.fromarray(image).resize(
        (round(image.shape[1] * layout.scale), round(image.shape[0] * layout.scale)),
        Image.LANCZOS), np.float32)
    cy, cx = y + h // 2, x + w // 2  # the face is the photo, not the backdrop
    src = expected[round(cy - layout.dy) - 10:round(cy - layout.dy) + 10,
                   round(cx - layout.dx) - 10:round(cx - layout.dx) + 10]
    assert np.abs(panel[cy - 10:cy + 10, cx - 10:cx + 10] - src).mean() < 12
    # No band of the frame is one flat colour: every column strip has detail or gradient.
    gray = panel.mean(axis=2)
    for x0 in range(0, width, width // 6):
        assert gray[:, x0:x0 + width // 6].std() > 4.0
