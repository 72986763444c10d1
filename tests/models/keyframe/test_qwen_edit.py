"""Qwen-Image-Edit keyframes from a tiny random release in the official layout, on the CPU."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from models.base import KeyframeRequest
from models.diffusers_layout import LayoutError
from models.keyframe.processor import ImageTextProcessor, expand_image_tokens
from models.keyframe.qwen_edit import QwenEditKeyframes
from models.keyframe.random_layout import byte_tokenizer, configs, release, write_random_layout

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    return write_random_layout(tmp_path_factory.mktemp("models") / "qwen-image-edit-2509")


@pytest.fixture(scope="module")
def keyframes(release_dir):
    return QwenEditKeyframes(model_dir=release_dir, device="cpu", steps=2, true_cfg_scale=1.0)


def _portrait(seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (96, 64, 3), dtype=np.uint8)


def test_the_tiny_release_has_the_official_layout(release_dir):
    index = json.loads((release_dir / "model_index.json").read_text())
    assert index == release()["model_index"]
    for name in ("transformer", "vae", "text_encoder"):
        assert (release_dir / name / "config.json").is_file()
    assert (release_dir / "processor" / "preprocessor_config.json").is_file()
    assert (release_dir / "scheduler" / "scheduler_config.json").is_file()
    tiny = json.loads((release_dir / "transformer" / "config.json").read_text())
    assert tiny["_class_name"] == "QwenImageTransformer2DModel"
    assert (tiny["num_layers"], tiny["patch_size"]) == (2, configs("full")["transformer"]["patch_size"])


def test_one_seed_gives_one_keyframe_of_the_asked_size(keyframes):
    request = KeyframeRequest("the person from Picture 1 holding the cup from Picture 2",
                              (_portrait(1), _portrait(2)), width=64, height=96, seed=5)
    first = keyframes.generate(request)
    assert first.shape == (96, 64, 3) and first.dtype == np.uint8
    assert first.std() > 0  # a decoded picture, not a constant fill
    assert np.array_equal(first, keyframes.generate(request))


def test_a_checkpoint_missing_a_weight_is_refused_with_its_folder_and_key(release_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = shutil.copytree(release_dir, tmp_path / "broken")
    weights = broken / "transformer" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(weights)
    dropped = sorted(tensors)[0]
    del tensors[dropped]
    save_file(tensors, weights)
    with pytest.raises(LayoutError, match="missing keys") as error:
        QwenEditKeyframes(model_dir=broken, device="cpu")
    assert str(broken / "transformer") in str(error.value) and dropped in str(error.value)


def test_a_missing_component_names_its_path_before_anything_loads(release_dir, tmp_path):
    broken = shutil.copytree(release_dir, tmp_path / "no-vae")
    shutil.rmtree(broken / "vae")
    problems = QwenEditKeyframes.check_requirements(model_dir=broken, device="cpu")
    assert problems == [f"keyframes: {broken / 'vae'} is missing (AutoencoderKLQwenImage)"]
    assert QwenEditKeyframes.check_requirements(model_dir=release_dir, device="cpu") == []


def test_each_image_placeholder_becomes_one_token_per_merged_vision_patch():
    assert expand_image_tokens("a<|image_pad|>b<|image_pad|>c", iter([2, 3])) == \
        "a" + "<|image_pad|>" * 2 + "b" + "<|image_pad|>" * 3 + "c"
    from models.keyframe.random_layout import image_processor

    processor = ImageTextProcessor(image_processor(configs("tiny")), byte_tokenizer())
    image = np.zeros((56, 84, 3), np.uint8)  # 4 x 6 patches of 14 px, merged 2 x 2 -> 6 tokens
    out = processor(text=["Picture 1: <|vision_start|><|image_pad|><|vision_end|>"], images=[image])
    pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((out["input_ids"] == pad).sum()) == int(out["image_grid_thw"].prod()) // 4 == 6


def test_warm_up_makes_one_small_keyframe_and_keeps_the_profiles_steps(release_dir):
    keyframes = QwenEditKeyframes(model_dir=release_dir, device="cpu", steps=7, true_cfg_scale=1.0)
    keyframes.warm_up()
    assert keyframes.steps == 7
