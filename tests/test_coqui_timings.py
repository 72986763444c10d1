"""What the Coqui backend decides without loading a model: word spans from token durations,
and the requirement messages (runs in the main environment, which has no coqui-tts)."""

from __future__ import annotations

import importlib.util

from models.coqui_voice import CoquiVoiceBackend, words_from_durations

HOP = 0.01


def _tokens(text: str, frames: int = 5, blank: str = "<BLNK>") -> list[tuple[str, int]]:
    out = [(blank, 2)]
    for char in text.lower():
        out += [(char, frames), (blank, 2)]
    return out


def test_token_durations_become_one_span_per_written_word():
    words = words_from_durations("Hi there, you!".split(), _tokens("hi there, you!"), hop_s=HOP)
    assert [w.text for w in words] == ["Hi", "there,", "you!"]
    # "hi": blank 2 + h 5 + blank 2 + i 5 -> starts after the first blank, ends after the i
    assert (words[0].start_s, words[0].end_s) == (0.02, 0.14)
    assert all(a.end_s < b.start_s for a, b in zip(words, words[1:]))


def test_a_token_stream_with_other_words_than_the_script_is_refused():
    assert words_from_durations(["I", "have", "3"], _tokens("i have three cats"), hop_s=HOP) is None


def test_missing_model_directory_and_library_are_reported(tmp_path):
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path / "xtts", device="cpu")
    assert any("has no config.json" in p and "fetch_models.py --coqui" in p for p in problems)
    if importlib.util.find_spec("TTS") is None:
        assert any("coqui voice needs TTS" in p and "make test-coqui" in p for p in problems)


def test_a_cuda_device_on_a_machine_without_one_is_reported(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path, device="cuda")
    assert any("coqui voice" in p and "cuda" in p.lower() for p in problems)
