"""The classical cut-out: alpha channel, plain-background flood fill, or the whole photo."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.image_decode import decode_product_image
from engine.settings import REPO_ROOT
from models.cutout.classical import ClassicalCutout

JOBS = REPO_ROOT / "configs" / "jobs"
BOTTLE_BOX = (140, 90, 261, 521)  # left, top, right, bottom (exclusive) of what draw_bottle draws
LABEL = (160, 300, 241, 421)


def draw_bottle(background: tuple[int, int, int]) -> np.ndarray:
    """A green bottle with a red cap and a white label that does not touch the border."""
    image = np.empty((600, 400, 3), np.uint8)
    image[:] = background
    cv2.rectangle(image, (140, 200), (260, 520), (30, 110, 60), -1)  # body
    cv2.rectangle(image, (175, 120), (225, 200), (30, 110, 60), -1)  # neck
    cv2.rectangle(image, (170, 90), (230, 120), (200, 40, 40), -1)  # cap
    cv2.rectangle(image, (LABEL[0], LABEL[1]), (LABEL[2] - 1, LABEL[3] - 1), (255, 255, 255), -1)
    noise = np.random.default_rng(3).integers(-3, 4, image.shape)  # sensor/JPEG-like grain
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def crop_offset(cut: np.ndarray, image: np.ndarray) -> tuple[int, int]:
    """Where `cut`'s opaque pixels sit in `image`, pixel for pixel (fails if resized)."""
    opaque = cut[..., 3] == 255
    scores = cv2.matchTemplate(image[..., :3], np.ascontiguousarray(cut[..., :3]), cv2.TM_SQDIFF,
                               mask=opaque.astype(np.uint8))
    left, top = cv2.minMaxLoc(scores)[2]
    window = image[top:top + cut.shape[0], left:left + cut.shape[1], :3]
    assert np.array_equal(window[opaque], cut[..., :3][opaque]), "not an unscaled crop"
    return top, left


@pytest.mark.parametrize("background", [(255, 255, 255), (40, 120, 200), (235, 225, 205)],
                         ids=["white", "studio-blue", "studio-beige"])
def test_a_product_on_a_plain_background_is_cut_out_with_its_label_kept(background):
    image = draw_bottle(background)
    cutout = ClassicalCutout().cut_out(image)
    rgba = cutout.rgba
    assert cutout.method == "plain-background"
    assert rgba.dtype == np.uint8 and rgba.shape[2] == 4
    alpha = rgba[..., 3]
    assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0
    top, left = crop_offset(rgba, image)
    label = alpha[LABEL[1] - top:LABEL[3] - top, LABEL[0] - left:LABEL[2] - left]
    assert (label == 255).all()
    visible_rows = np.flatnonzero((alpha > 128).any(axis=1)) + top
    visible_cols = np.flatnonzero((alpha > 128).any(axis=0)) + left
    found = (visible_cols[0], visible_rows[0], visible_cols[-1] + 1, visible_rows[-1] + 1)
    assert np.abs(np.subtract(found, BOTTLE_BOX)).max() <= 1
    assert rgba.shape[0] - (BOTTLE_BOX[3] - BOTTLE_BOX[1]) <= 24  # a small margin, not the frame
    assert rgba.shape[1] - (BOTTLE_BOX[2] - BOTTLE_BOX[0]) <= 24


def test_the_edge_is_feathered_over_a_pixel_or_two():
    cutout = ClassicalCutout().cut_out(draw_bottle((255, 255, 255)))
    row = cutout.rgba[cutout.rgba.shape[0] * 3 // 4, :, 3]  # across the bottle body
    soft = np.flatnonzero((row > 0) & (row < 255))
    assert 2 <= len(soft) <= 8  # both sides together


def test_an_opaque_rgba_image_is_treated_like_rgb():
    buffer = io.BytesIO()
    Image.fromarray(draw_bottle((255, 255, 255))).convert("RGBA").save(buffer, "PNG")
    rgba = decode_product_image(buffer.getvalue(), max_pixels=10**6)
    assert ClassicalCutout().cut_out(rgba).method == "plain-background"


def test_an_image_with_transparency_keeps_its_alpha():
    rgba = decode_product_image((JOBS / "espresso_cup.png").read_bytes(), max_pixels=10**7)
    cutout = ClassicalCutout().cut_out(rgba)
    assert cutout.method == "alpha"
    top, left = crop_offset(cutout.rgba, rgba)
    height, width = cutout.rgba.shape[:2]
    assert np.array_equal(cutout.rgba, rgba[top:top + height, left:left + width])


def test_a_real_product_photo_on_white_matches_its_true_outline():
    rgba = decode_product_image((JOBS / "espresso_cup.png").read_bytes(), max_pixels=10**7)
    weight = rgba[..., 3:4] / 255.0
    on_white = np.full((rgba.shape[0] + 120, rgba.shape[1] + 120, 3), 255, np.uint8)
    blended = rgba[..., :3] * weight + 255 * (1 - weight)
    on_white[60:-60, 60:-60] = blended.round().astype(np.uint8)
    cutout = ClassicalCutout().cut_out(on_white)
    assert cutout.method == "plain-background"
    found, truth = (cutout.rgba[..., 3] >= 128).sum(), (rgba[..., 3] >= 128).sum()
    assert abs(found - truth) / truth < 0.03


def test_a_busy_photo_is_kept_whole_as_a_card():
    photo = np.asarray(Image.open(JOBS / "coffee.png").convert("RGB"))
    cutout = ClassicalCutout().cut_out(photo)
    assert cutout.method == "none"
    assert cutout.rgba.shape == (*photo.shape[:2], 4)
    assert (cutout.rgba[..., 3] == 255).all() and np.array_equal(cutout.rgba[..., :3], photo)


def test_a_speck_on_white_falls_back_to_the_whole_image():
    image = np.full((300, 300, 3), 255, np.uint8)
    cv2.circle(image, (150, 150), 12, (20, 20, 20), -1)  # about 0.5 % of the image
    cutout = ClassicalCutout().cut_out(image)
    assert cutout.method == "none" and cutout.rgba.shape == (300, 300, 4)


def test_a_large_image_is_cut_at_full_resolution_without_distortion():
    image = cv2.resize(draw_bottle((255, 255, 255)), (1600, 2400), interpolation=cv2.INTER_NEAREST)
    cutout = ClassicalCutout().cut_out(image)
    assert cutout.method == "plain-background"
    alpha = cutout.rgba[..., 3]
    rows = np.flatnonzero((alpha > 128).any(axis=1))
    cols = np.flatnonzero((alpha > 128).any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert abs(height - 4 * (BOTTLE_BOX[3] - BOTTLE_BOX[1])) <= 3
    assert abs(width - 4 * (BOTTLE_BOX[2] - BOTTLE_BOX[0])) <= 3
