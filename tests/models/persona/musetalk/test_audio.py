"""The audio side of the MuseTalk recipe: 16 kHz resampling, whisper windows, silence gating."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.base import PhonemeTiming, Speech
from models.persona.musetalk.audio import (
    encode_speech,
    frame_tokens,
    positional_encoding,
    resample,
    speaking_weights,
)
from models.persona.musetalk.loader import load_release
from models.persona.musetalk.tiny import write_tiny_release


def _tone(hz: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * hz * np.arange(int(rate * seconds)) / rate).astype(np.float32)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples[200:-200], dtype=np.float64))))


def test_resampling_22050_to_16000_keeps_a_tone_its_pitch_level_and_length():
    out = resample(_tone(1000.0, 22050), 22050, 16000)
    assert out.dtype == np.float32 and len(out) == 16000
    assert _peak_hz(out, 16000) == pytest.approx(1000.0, abs=2.0)
    assert _rms(out) == pytest.approx(np.sqrt(0.5), rel=0.01)


def test_resampling_removes_what_the_new_rate_cannot_hold_instead_of_aliasing_it():
    out = resample(_tone(10_000.0, 22050), 22050, 16000)  # above the new 8 kHz Nyquist
    assert _rms(out) < 0.01


def test_a_voice_already_at_16_khz_is_left_as_it_is():
    tone = _tone(440.0, 16000)
    assert np.array_equal(resample(tone, 16000, 16000), tone)


def test_frame_windows_take_ten_steps_from_80_ms_before_each_frame():
    steps = torch.arange(100, dtype=torch.float32)[:, None, None].expand(100, 5, 384)
    tokens = frame_tokens(steps, fps=25, frames=[0, 10, 49])
    assert tokens.shape == (3, 50, 384)
    # Time-major: tokens 0-4 are the 5 hidden states of the first step, and so on.
    firsts = tokens[:, ::5, 0]
    assert firsts[1].tolist() == list(range(16, 26))  # frame 10 at 25 fps = step 20
    assert firsts[0].tolist() == [0.0] * 4 + list(range(0, 6))  # zeros before the audio
    assert firsts[2].tolist() == list(range(94, 100)) + [0.0] * 4  # and after it


def test_at_30_fps_the_window_stays_anchored_in_time():
    steps = torch.arange(300, dtype=torch.float32)[:, None, None].expand(300, 5, 8)
    tokens = frame_tokens(steps, fps=30, frames=[30, 45])  # 1.0 s and 1.5 s
    assert tokens[0, 0, 0].item() == 50 - 4 and tokens[1, 0, 0].item() == 75 - 4


def test_the_positional_encoding_is_the_fixed_sinusoidal_table():
    table = positional_encoding(50, 384)
    assert table.shape == (1, 50, 384)
    assert table[0, 0, 0] == 0.0 and table[0, 0, 1] == 1.0
    assert table[0, 3, 0].item() == pytest.approx(np.sin(3.0), abs=1e-6)
    assert table[0, 3, 3].item() == pytest.approx(np.cos(3.0 / 10000 ** (2 / 384)), abs=1e-6)


def _speech(rate: int = 16000) -> Speech:
    """0.5 s silence, 1 s of voice, 1 s silence, 0.15 s of voice, 0.5 s silence."""
    rng = np.random.default_rng(0)
    samples = np.zeros(int(3.15 * rate), np.float32)
    for start, end in ((0.5, 1.5), (2.5, 2.65)):
        span = slice(int(start * rate), int(end * rate))
        samples[span] = 0.3 * rng.standard_normal(span.stop - span.start)
    return Speech(samples, rate, ())


def test_silent_frames_get_weight_zero_and_speaking_frames_weight_one():
    weights = speaking_weights(_speech(), fps=30, frame_count=95)
    assert weights.dtype == np.float32 and weights.shape == (95,)
    assert np.all(weights[:10] == 0) and np.all(weights[55:70] == 0) and weights[-1] == 0
    assert np.all(weights[18:44] == 1) and np.all(weights[76:80] == 1)
    assert 0 < weights[12] < 1  # the mouth fades in before the voice starts


def test_short_pauses_inside_speech_stay_generated():
    speech = _speech()
    samples = speech.samples.copy()
    samples[int(1.0 * 16000):int(1.2 * 16000)] = 0.0  # a 200 ms breath
    weights = speaking_weights(Speech(samples, 16000, ()), fps=30, frame_count=95)
    assert np.all(weights[25:40] == 1)


def test_a_spoken_phone_counts_as_speech_even_when_quiet():
    quiet = Speech(np.zeros(32000, np.float32), 16000, (),
                   phonemes=(PhonemeTiming("m", 1.0, 1.2), PhonemeTiming(".", 1.2, 1.9)))
    weights = speaking_weights(quiet, fps=30, frame_count=60)
    assert weights[32] == 1 and weights[50] == 0 and weights[10] == 0


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return load_release(write_tiny_release(tmp_path_factory.mktemp("release")).root)


def test_whisper_features_have_all_hidden_states_at_50_steps_per_second(models):
    speech = Speech(_tone(300.0, 22050, 1.3), 22050, ())
    steps = encode_speech(models.whisper, models.features, speech, device="cpu")
    assert steps.shape == (65, 5, 384) and steps.dtype == torch.float32
    again = encode_speech(models.whisper, models.features, speech, device="cpu")
    assert torch.equal(steps, again)


def test_speech_longer_than_a_whisper_window_is_encoded_in_several(models):
    speech = Speech(np.zeros(16000 * 31, np.float32), 16000, ())
    assert encode_speech(models.whisper, models.features, speech, device="cpu").shape[0] == 1550
