"""The procedural music bed: exact shape, determinism, and that it is music (pulse and pitch)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from models.music.synth import MOODS, SynthMusic

RATE = 48000
TEMPO = {"upbeat": 112.0, "chill": 84.0, "inspiring": 96.0}


@pytest.fixture(scope="module")
def synth() -> SynthMusic:
    return SynthMusic()


@pytest.fixture(scope="module")
def beds(synth) -> dict[str, np.ndarray]:
    return {mood: synth.compose(mood=mood, duration_s=20.0, sample_rate=RATE, seed=11)
            for mood in MOODS}


def _onset_envelope(bed: np.ndarray, hop: int = 512,
                    window: int = 1024) -> tuple[np.ndarray, float]:
    """Spectral flux of the mono mix, lightly smoothed; and its frame rate."""
    frames = np.lib.stride_tricks.sliding_window_view(bed.mean(axis=1), window)[::hop]
    magnitude = np.log1p(100 * np.abs(np.fft.rfft(frames * np.hanning(window), axis=1)))
    flux = np.maximum(np.diff(magnitude, axis=0), 0.0).sum(axis=1)
    return np.convolve(flux - flux.mean(), np.hanning(7), "same"), RATE / hop


def _tempo_bpm(bed: np.ndarray) -> float:
    """The strongest periodicity of the onsets between 0.3 s and 1 s, as beats per minute."""
    envelope, frame_rate = _onset_envelope(bed)
    autocorrelation = np.correlate(envelope, envelope, "full")[len(envelope) - 1:]
    low, high = int(0.3 * frame_rate), int(1.0 * frame_rate)
    return 60 * frame_rate / (low + np.argmax(autocorrelation[low:high]))


def _spectral_peaks_hz(bed: np.ndarray, count: int = 12) -> tuple[np.ndarray, float]:
    """The strongest local maxima of the spectrum in 100-1500 Hz, at least 30 cents apart,
    and how far the strongest stands above the median (dB)."""
    mono = bed[4 * RATE:12 * RATE].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    freqs = np.fft.rfftfreq(len(mono), 1 / RATE)
    band = np.flatnonzero((freqs > 100) & (freqs < 1500))
    local = band[(spectrum[band] > spectrum[band - 1]) & (spectrum[band] > spectrum[band + 1])]
    chosen: list[int] = []
    for index in local[np.argsort(spectrum[local])[::-1]]:
        if all(abs(1200 * np.log2(freqs[index] / freqs[c])) > 30 for c in chosen):
            chosen.append(index)
        if len(chosen) == count:
            break
    prominence = 20 * np.log10(spectrum[chosen[0]] / np.median(spectrum[band]))
    return freqs[chosen], prominence


@pytest.mark.parametrize("mood", MOODS)
def test_a_bed_is_exactly_as_long_as_asked_stereo_float32_and_peaks_within_full_scale(synth, mood):
    bed = synth.compose(mood=mood, duration_s=7.3, sample_rate=44100, seed=3)
    assert bed.shape == (round(7.3 * 44100), 2) and bed.dtype == np.float32
    assert 0.5 < np.abs(bed).max() <= 1.0
    assert not np.allclose(bed[:, 0], bed[:, 1])  # a real stereo image, not two copies


def test_an_unknown_mood_is_refused_naming_the_choices(synth):
    with pytest.raises(ValueError, match="upbeat"):
        synth.compose(mood="gloomy", duration_s=5.0, sample_rate=RATE, seed=0)


def test_the_same_seed_gives_the_same_bed_and_another_seed_a_different_one(synth, beds):
    again = synth.compose(mood="upbeat", duration_s=20.0, sample_rate=RATE, seed=11)
    assert np.array_equal(again, beds["upbeat"])
    other = synth.compose(mood="upbeat", duration_s=20.0, sample_rate=RATE, seed=12)
    assert np.abs(other - beds["upbeat"]).mean() > 0.02


@pytest.mark.parametrize("mood", MOODS)
def test_each_mood_pulses_at_its_own_tempo(beds, mood):
    bpm, found = TEMPO[mood], _tempo_bpm(beds[mood])
    # the strongest pulse may be the beat, the half-beat or the two-beat
    assert any(abs(found - bpm * k) / (bpm * k) < 0.04 for k in (0.5, 1, 2)), (mood, found)


def test_the_moods_have_different_tempos(beds):
    tempos = {mood: _tempo_bpm(bed) for mood, bed in beds.items()}
    for mood, found in tempos.items():
        others = [TEMPO[m] * k for m in MOODS if m != mood for k in (0.5, 1, 2)]
        assert all(abs(found - other) / other > 0.05 for other in others), tempos


@pytest.mark.parametrize("mood", MOODS)
def test_the_spectrum_peaks_on_equal_tempered_pitches(beds, mood):
    peaks, prominence = _spectral_peaks_hz(beds[mood])
    cents_off = np.abs((1200 * np.log2(peaks / 440.0) + 50) % 100 - 50)
    assert prominence > 30, prominence  # tones, not noise
    assert np.mean(cents_off < 20) >= 0.75, (peaks, cents_off)


@pytest.mark.parametrize("mood", MOODS)
def test_the_energy_moves_with_the_music_and_fades_at_both_ends(beds, mood):
    bed = beds[mood]
    frames = bed[: len(bed) // 2400 * 2400].reshape(-1, 2400, 2)  # 50 ms frames
    level_db = 10 * np.log10(np.square(frames, dtype=np.float64).mean(axis=(1, 2)) + 1e-12)
    body = level_db[40:-40]
    assert np.std(body) > 0.8, np.std(body)  # notes and hits, not a drone
    assert level_db[0] < body.mean() - 12 and level_db[-1] < body.mean() - 20


def test_thirty_seconds_at_48_khz_composes_in_well_under_a_second(synth):
    start = time.perf_counter()
    bed = synth.compose(mood="inspiring", duration_s=30.0, sample_rate=RATE, seed=5)
    elapsed = time.perf_counter() - start
    assert len(bed) == 30 * RATE
    assert elapsed < 1.0, elapsed  # about 0.3 s on two cores
