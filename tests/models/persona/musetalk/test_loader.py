"""The MuseTalk release loader: tiny random weights in the official layout, loaded strictly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch

from engine.settings import REPO_ROOT
from models.persona.musetalk import MuseTalkAnimator, ReleaseError, load_release
from models.persona.musetalk.config import ReleaseLayout, default_model_dir
from models.persona.musetalk.tiny import write_tiny_release
from models.registry import Registry


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> ReleaseLayout:
    return write_tiny_release(tmp_path_factory.mktemp("release") / "musetalk", seed=0)


@pytest.fixture
def copy(release, tmp_path) -> ReleaseLayout:
    """A private copy of the tiny release that a test may damage."""
    shutil.copytree(release.root, tmp_path / "musetalk")
    return ReleaseLayout(tmp_path / "musetalk")


def _edit_unet(layout: ReleaseLayout, edit) -> None:
    state = torch.load(layout.unet_weights, weights_only=True)
    edit(state)
    torch.save(state, layout.unet_weights)


def test_the_tiny_release_loads_into_the_library_classes_with_every_tensor_filled(release):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    models = load_release(release.root)
    assert isinstance(models.unet, UNet2DConditionModel)
    assert isinstance(models.vae, AutoencoderKL)
    assert isinstance(models.whisper, WhisperEncoder)
    assert isinstance(models.features, WhisperFeatureExtractor)
    for model in (models.unet, models.vae, models.whisper):
        assert not model.training
        assert not any(t.is_meta for t in (*model.parameters(), *model.buffers()))
    assert models.unet.config.in_channels == 8 and models.unet.config.out_channels == 4
    assert models.unet.config.cross_attention_dim == models.whisper.config.d_model == 384
    assert models.vae.config.scaling_factor == pytest.approx(0.18215)


def test_the_loaded_weights_are_the_ones_in_the_files(release):
    models = load_release(release.root)
    saved = torch.load(release.unet_weights, weights_only=True)
    for key, value in models.unet.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_a_missing_unet_key_is_a_startup_error_naming_the_file_and_the_key(copy):
    _edit_unet(copy, lambda state: state.pop("conv_in.weight"))
    with pytest.raises(ReleaseError, match=r"unet\.pth does not match the UNet.*1 missing key "
                                           r"\(conv_in\.weight\)"):
        MuseTalkAnimator(cache_dir=copy.root.parent / "cache", model_dir=copy.root, device="cpu")


def test_an_unexpected_key_is_refused_rather_than_ignored(copy):
    _edit_unet(copy, lambda state: state.__setitem__("extra.weight", torch.zeros(2)))
    with pytest.raises(ReleaseError, match=r"1 unexpected key \(extra\.weight\)"):
        load_release(copy.root)


def test_a_weight_of_the_wrong_shape_names_both_shapes(copy):
    def shrink(state):
        state["conv_in.weight"] = state["conv_in.weight"][:, :4].clone()

    _edit_unet(copy, shrink)
    with pytest.raises(ReleaseError, match=r"1 shape mismatch \(conv_in\.weight: file "
                                           r"\(32, 4, 3, 3\), model \(32, 8, 3, 3\)\)"):
        load_release(copy.root)


def test_a_missing_whisper_encoder_weight_is_refused(copy):
    from safetensors.torch import load_file, save_file

    path = copy.whisper_dir / "model.safetensors"
    state = load_file(str(path))
    state.pop("encoder.layer_norm.weight")
    save_file(state, str(path))
    with pytest.raises(ReleaseError, match=r"whisper encoder.*missing key "
                                           r"\(layer_norm\.weight\)"):
        load_release(copy.root)


def test_an_incomplete_release_lists_every_missing_file(copy):
    copy.unet_weights.unlink()
    (copy.whisper_dir / "model.safetensors").unlink()
    with pytest.raises(ReleaseError) as caught:
        load_release(copy.root)
    message = str(caught.value)
    assert "musetalkV15/unet.pth" in message
    assert "whisper/model.safetensors or pytorch_model.bin" in message
    assert "scripts/fetch_models.py" in message


def test_a_torn_checkpoint_is_a_clear_error(copy):
    data = copy.unet_weights.read_bytes()
    copy.unet_weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReleaseError, match="cannot read the checkpoint"):
        load_release(copy.root)


def test_a_unet_config_that_is_not_musetalks_is_refused(copy):
    config = json.loads(copy.unet_config.read_text())
    config["in_channels"] = 4
    copy.unet_config.write_text(json.dumps(config))
    with pytest.raises(ReleaseError, match="not a MuseTalk UNet config"):
        load_release(copy.root)


def test_parts_that_do_not_fit_together_are_refused(copy):
    path = copy.whisper_dir / "preprocessor_config.json"
    config = json.loads(path.read_text())
    config["sampling_rate"] = 22050
    path.write_text(json.dumps(config))
    with pytest.raises(ReleaseError, match="does not fit together: feature rate 22050 Hz"):
        load_release(copy.root)


def test_importing_the_registry_and_the_backend_package_loads_no_ml_library():
    code = ("import sys, models.registry, models.persona.musetalk; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_without_a_model_dir_the_error_says_how_to_provide_one(monkeypatch):
    monkeypatch.delenv("UGEN_MODELS_DIR", raising=False)
    with pytest.raises(ReleaseError, match="set UGEN_MODELS_DIR"):
        default_model_dir()


def test_the_registry_builds_the_backend_from_UGEN_MODELS_DIR(release, monkeypatch, tmp_path):
    monkeypatch.setenv("UGEN_MODELS_DIR", str(release.root.parent))
    monkeypatch.setenv("UGEN_MUSETALK_DEVICE", "cpu")
    registry = Registry(profile={"animator": "musetalk"}, cache_dir=tmp_path)
    animator = registry.animator()
    assert isinstance(animator, MuseTalkAnimator) and animator.name == "musetalk"
    assert animator.model_dir == release.root
    assert registry.animator() is animator
