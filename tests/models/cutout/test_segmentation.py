"""The segmentation cut-out: a tiny random UperNet written in the real layout, loaded through
the real loader, and run inside a short draft render."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import yaml
from safetensors.torch import load_file, save_file

from engine.catalog import Catalog
from engine.settings import REPO_ROOT, Settings
from engine.spec import parse_job
from models.cutout.segmentation import (
    MatteOptions,
    SegmentationCutout,
    crop_to_product,
    foreground_ids,
    matte_from_probability,
)
from models.cutout.segmentation_tiny import ADE20K_LABELS, write_random_segmentation
from models.registry import Registry
from pipelines.render import RenderPipeline

BACKGROUND = ["wall", "floor", "table"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_random_segmentation(tmp_path_factory.mktemp("models") / "segmentation")


@pytest.fixture(scope="module")
def cutout(model_dir):
    return SegmentationCutout(model_dir=model_dir, device="cpu", background_labels=BACKGROUND)


def busy_photo(height=240, width=180, seed=0):
    """A product (a warm rounded box) on a noisy, colourful background: no plain border."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    cv2.rectangle(image, (50, 60), (130, 200), (200, 120, 40), thickness=-1)
    return image


def test_the_random_model_is_written_in_the_layout_from_pretrained_reads(model_dir):
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "config.json", "model.safetensors", "preprocessor_config.json"]
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["UperNetForSemanticSegmentation"]
    assert len(config["id2label"]) == len(ADE20K_LABELS) == 150


def test_a_busy_photo_goes_through_the_model_and_comes_back_as_a_cropped_rgba(cutout):
    image = busy_photo()
    result = cutout.cut_out(image)
    assert result.method == "segmentation"
    assert result.rgba.dtype == np.uint8 and result.rgba.ndim == 3 and result.rgba.shape[2] == 4
    assert result.rgba.shape[0] <= image.shape[0] and result.rgba.shape[1] <= image.shape[1]
    assert cutout.last_inference_s is not None and cutout.last_inference_s > 0


def test_the_probability_map_is_a_probability(cutout):
    probability = cutout.foreground_probability(busy_photo())
    assert probability.dtype == np.float32 and probability.ndim == 2
    assert 0.0 <= probability.min() and probability.max() <= 1.0


def test_a_photo_with_alpha_keeps_the_exact_classical_cut_out_without_running_the_model(
        model_dir):
    cutout = SegmentationCutout(model_dir=model_dir, device="cpu", background_labels=BACKGROUND)
    rgba = np.zeros((120, 100, 4), np.uint8)
    rgba[30:90, 20:80] = (10, 200, 30, 255)
    result = cutout.cut_out(rgba)
    assert result.method == "alpha"
    assert cutout.last_inference_s is None  # the model never ran


def test_a_matte_from_a_probability_disk_is_soft_at_the_edge_and_cropped_to_the_disk():
    yy, xx = np.mgrid[0:64, 0:64]
    probability = np.clip(1.2 - np.hypot(yy - 32, xx - 32) / 12, 0, 1).astype(np.float32)
    probability[2, 2] = 1.0  # a speck far from the product is dropped
    alpha = matte_from_probability(probability, (256, 256), MatteOptions())
    assert alpha.shape == (256, 256) and alpha[128, 128] == 255 and alpha[8, 8] == 0
    edge = alpha[128, 128:]
    assert ((edge > 0) & (edge < 255)).sum() >= 3  # a feathered ramp, not a hard step
    image = np.full((256, 256, 4), 255, np.uint8)
    result = crop_to_product(image, alpha, MatteOptions())
    assert result.method == "segmentation"
    # p >= 0.5 within r = 8.4 of 64 px, i.e. about 34 px at 256, plus the ramp and a margin
    assert 70 <= result.rgba.shape[0] <= 90 and result.rgba.shape[0] == result.rgba.shape[1]


def test_too_little_foreground_keeps_the_photo_whole_as_a_card():
    image = np.full((50, 40, 4), 255, np.uint8)
    result = crop_to_product(image, np.zeros((50, 40), np.uint8), MatteOptions())
    assert result.method == "none" and result.rgba.shape == (50, 40, 4)
    assert (result.rgba[..., 3] == 255).all()


def test_labels_are_matched_loosely_and_unknown_ones_are_refused():
    id2label = {"0": "background", "1": "Bottle", "2": "chest of  drawers"}
    assert foreground_ids(id2label, None, None) == [1, 2]  # everything but "background"
    assert foreground_ids(id2label, ["bottle"], None) == [1]
    assert foreground_ids(id2label, None, ["background", "Chest of drawers"]) == [1]
    with pytest.raises(ValueError, match="no label"):
        foreground_ids(id2label, ["teapot"], None)
    with pytest.raises(ValueError, match="not both"):
        foreground_ids(id2label, ["bottle"], ["background"])


def test_a_checkpoint_that_leaves_weights_unfilled_is_refused(tmp_path, model_dir):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "preprocessor_config.json"):
        (broken / name).write_text((model_dir / name).read_text())
    state = load_file(str(model_dir / "model.safetensors"))
    dropped = next(k for k in sorted(state) if k.startswith("decode_head."))
    save_file({k: v for k, v in state.items() if k != dropped}, str(broken / "model.safetensors"),
              metadata={"format": "pt"})
    with pytest.raises(RuntimeError, match="does not fill"):
        SegmentationCutout(model_dir=broken, device="cpu", background_labels=BACKGROUND)


def test_a_draft_render_with_a_profile_that_selects_it_cuts_out_with_the_model(
        tmp_path, model_dir):
    photo = tmp_path / "busy.png"
    cv2.imwrite(str(photo), cv2.cvtColor(busy_photo(400, 300), cv2.COLOR_RGB2BGR))
    profile = yaml.safe_load((REPO_ROOT / "configs" / "profiles" / "cpu.yaml").read_text())
    profile["device"] = "cpu"
    profile["cutout"] = {"backend": "segmentation", "options": {
        "model_dir": model_dir.name, "background_labels": BACKGROUND}}
    (tmp_path / "seg.yaml").write_text(yaml.safe_dump(profile))
    settings = Settings(cache_dir=tmp_path / "cache", work_root=tmp_path,
                        models_dir=model_dir.parent)
    registry = Registry.from_settings(settings, profile=str(tmp_path / "seg.yaml"))
    pipeline = RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                              settings=settings)
    job = parse_job({"product_name": "Busy Box", "product_image_url": str(photo),
                     "video_resolution": "draft", "segment_count": 1, "segment_duration": 3})
    result = pipeline.run(job, out_dir=tmp_path / "out", allow_local_files=True)
    report = result.report
    assert report["cutout_method"] == "segmentation"
    assert report["profile"]["cutout"]["backend"] == "segmentation"
    assert report["stages"]["prepare"]["wall_s"] > 0
    assert registry.cutout().last_inference_s > 0
    assert result.artifacts["final.mp4"].stat().st_size > 0
