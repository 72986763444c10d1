"""Wan2.2 image-to-video from tiny random releases in the official layout, on the CPU."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from models.base import MotionRequest
from models.motion.random_layout import release, write_random_layout
from models.motion.wan import WanMotion

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def ti2v_dir(tmp_path_factory):
    return write_random_layout(tmp_path_factory.mktemp("models") / "wan2.2-ti2v-5b")


@pytest.fixture(scope="module")
def motion(ti2v_dir):
    return WanMotion(model_dir=ti2v_dir, device="cpu", steps=2, guidance_scale=1.0)


def _keyframe():
    return np.random.default_rng(0).integers(0, 256, (128, 64, 3), dtype=np.uint8)


def test_the_tiny_release_names_the_official_components(ti2v_dir):
    index = json.loads((ti2v_dir / "model_index.json").read_text())
    official = release("ti2v-5b")["model_index"]
    assert {k: index[k] for k in official if not k.startswith("_")} == \
        {k: v for k, v in official.items() if not k.startswith("_")}


def test_frame_counts_are_4k_plus_1_and_last_at_least_the_duration(motion):
    assert motion.fps == 24.0
    for duration in (0.2, 1.0, 3.0, 5.0):
        count = motion.frame_count(duration)
        assert (count - 1) % 4 == 0 and count / motion.fps >= duration - 1 / motion.fps
    assert motion.frame_count(5.0) == 121  # the release's native 5 s clip


def test_a_clip_has_the_asked_length_size_and_the_models_frame_rate(motion):
    clip = motion.animate(MotionRequest(_keyframe(), "a person talking to the camera",
                                        width=64, height=128, duration_s=1.0, seed=3))
    assert clip.frames.shape == (25, 128, 64, 3) and clip.frames.dtype == np.uint8
    assert clip.fps == 24.0 and clip.duration_s >= 1.0
    again = motion.animate(MotionRequest(_keyframe(), "a person talking to the camera",
                                         width=64, height=128, duration_s=1.0, seed=3))
    assert np.array_equal(clip.frames, again.frames)


def test_the_a14b_release_loads_both_experts_at_16_fps(tmp_path):
    root = write_random_layout(tmp_path / "wan2.2-i2v-a14b", variant="i2v-a14b")
    motion = WanMotion(model_dir=root, device="cpu", steps=2, guidance_scale=1.0)
    assert motion.fps == 16.0 and motion.pipeline.transformer_2 is not None
    assert motion.pipeline.config.boundary_ratio == 0.9
    clip = motion.animate(MotionRequest(_keyframe(), "talking", width=64, height=128,
                                        duration_s=0.5, seed=1))
    assert clip.frames.shape[1:] == (128, 64, 3) and (len(clip.frames) - 1) % 4 == 0


def test_a_missing_second_expert_names_its_path(tmp_path):
    root = write_random_layout(tmp_path / "a14b", variant="i2v-a14b")
    shutil.rmtree(root / "transformer_2")
    assert WanMotion.check_requirements(model_dir=root, device="cpu") == [
        f"motion: {root / 'transformer_2'} is missing (WanTransformer3DModel)"]


def test_warm_up_runs_a_small_clip_and_keeps_the_profiles_steps(motion):
    motion.warm_up()
    assert motion.steps == 2  # the fixture's own setting, restored
    assert motion.frame_count(4 / motion.fps) == 5
