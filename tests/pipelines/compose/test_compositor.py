import numpy as np

from models.base import Box
from pipelines.compose.compositor import EndCard, Placement, Scene, Sprite
from pipelines.compose.layout import fit_inside, layout_for


def _reference_blend(frame, rgba, x, y):
    out = frame.astype(np.float64).copy()
    h, w = rgba.shape[:2]
    a = rgba[..., 3:4] / 255.0
    out[y:y + h, x:x + w] = out[y:y + h, x:x + w] * (1 - a) + rgba[..., :3] * a
    return out


def test_sprite_blend_matches_float_alpha_compositing_within_one_level():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    rgba[0, 0, 3] = 255  # keep the crop box the full sprite
    rgba[-1, -1, 3] = 255
    expected = _reference_blend(frame, rgba, 10, 15)
    Sprite(rgba).blend_onto(frame, 10, 15)
    assert np.abs(frame.astype(np.float64) - expected).max() <= 1.0


def test_opaque_pixels_replace_and_transparent_pixels_keep_the_frame():
    frame = np.full((10, 10, 3), 50, np.uint8)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, :] = (200, 100, 0, 255)
    Sprite(rgba).blend_onto(frame, 3, 3)
    assert (frame[3:5, 3:7] == (200, 100, 0)).all()
    assert (frame[5:7, 3:7] == 50).all()


def test_sprites_are_clipped_at_every_frame_edge():
    frame = np.zeros((10, 10, 3), np.uint8)
    rgba = np.full((6, 6, 4), 255, np.uint8)
    for x, y in ((-3, -3), (7, 7), (-3, 7), (20, 20)):
        Sprite(rgba).blend_onto(frame, x, y)
    assert frame[0, 0].tolist() == [255, 255, 255]
    assert frame[9, 9].tolist() == [255, 255, 255]
    assert frame[5, 5].tolist() == [0, 0, 0]


def test_scene_draws_persona_patch_layers_and_fades_into_the_end_card():
    base = np.zeros((40, 30, 3), np.uint8)
    card = np.full((40, 30, 3), 200, np.uint8)
    dot = np.full((2, 2, 4), 255, np.uint8)
    layer = lambda t: Placement(Sprite(dot), 0, 0)  # noqa: E731
    scene = Scene(base=base, persona_roi=Box(10, 10, 5, 5), layers=[layer],
                  end_card=EndCard(card, start_s=2.0, fade_s=0.5))
    frame = scene.compose(0.0, np.full((5, 5, 3), 90, np.uint8))
    assert frame[12, 12].tolist() == [90, 90, 90] and frame[0, 0].tolist() == [255, 255, 255]
    assert base.max() == 0  # the base is never drawn on
    halfway = scene.compose(2.25, np.zeros((5, 5, 3), np.uint8))
    assert 90 <= halfway[30, 25, 0] <= 110
    assert (scene.compose(3.0, None) == card).all()


def test_fit_inside_keeps_the_aspect_ratio_and_centres():
    box = fit_inside(400, 200, Box(0, 0, 100, 100))
    assert (box.w, box.h) == (100, 50) and box.y == 25


def test_every_layout_keeps_product_and_end_card_inside_the_frame():
    for w, h in ((1080, 1920), (1920, 1080), (1080, 1080), (360, 640)):
        layout = layout_for(w, h)
        for box in (layout.panel, layout.product, layout.card, layout.end_product, layout.end_text):
            assert box.x >= 0 and box.y >= 0 and box.x + box.w <= w and box.y + box.h <= h
