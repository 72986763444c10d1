"""The voices derived from Joe: a woman's pitch and formants, Joe's timings to the sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import parselmouth
import pytest

from engine.catalog import Catalog
from models.registry import Registry
from models.voice.transform import TransformedVoice, VoiceTransform, transform_samples

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
TEXT = ("Honestly, this serum changed my skin in two weeks. I use it every morning, and my "
        "friends keep asking what I did. Grab yours today, the link is below.")
# Typical adult female speaking F0 (the brief's range) and the vowel-averaged formants of
# Hillenbrand et al. (1995): women's F2 and F3 sit about 15-20 % above men's.
FEMALE_F0_HZ = (165.0, 255.0)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return Registry.from_profile(CONFIGS / "profiles" / "cpu.yaml",
                                 cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def voices(registry):
    catalog = Catalog(CONFIGS)
    return {vid: registry.voice(e.model_path, voice_id=e.id, transform=e.transform)
            for vid, e in ((v, catalog.voice(v)) for v in ("joe", "ava", "ruth"))}


@pytest.fixture(scope="module")
def spoken(voices):
    return {vid: voice.synthesize(TEXT) for vid, voice in voices.items()}


def pitch_and_formants(speech) -> tuple[float, list[float]]:
    """Median F0 of the voiced frames and median F1-F3 over the same frames (Praat)."""
    sound = parselmouth.Sound(speech.samples.astype(np.float64), speech.sample_rate)
    pitch = sound.to_pitch_ac(time_step=0.01, pitch_floor=60, pitch_ceiling=500)
    f0 = pitch.selected_array["frequency"]
    voiced = pitch.xs()[f0 > 0]
    formant = sound.to_formant_burg(time_step=0.01, max_number_of_formants=5,
                                    maximum_formant=5500)
    formants = [float(np.nanmedian([formant.get_value_at_time(k, t) for t in voiced]))
                for k in (1, 2, 3)]
    return float(np.median(f0[f0 > 0])), formants


def envelope_lag_ms(a: np.ndarray, b: np.ndarray, rate: int, start: float, end: float) -> int:
    """Shift of b's loudness envelope against a's over one word (5 ms frames, +-40 ms)."""
    hop, reach = rate // 200, 8
    lo, hi = max(0, int((start - 0.05) * rate)), int((end + 0.05) * rate)
    frames = (hi - lo) // hop

    def env(x):
        return np.sqrt((x[lo:lo + frames * hop].reshape(frames, hop) ** 2).mean(axis=1))

    ea, eb = env(a), env(b)
    core = slice(reach, frames - reach)
    score = {k: np.corrcoef(ea[core], eb[reach + k:frames - reach + k])[0, 1]
             for k in range(-reach, reach + 1)}
    return 5 * max(score, key=score.get)


def test_the_persona_voices_are_transformed_joe(voices):
    assert not isinstance(voices["joe"], TransformedVoice)
    assert isinstance(voices["ava"], TransformedVoice) and isinstance(voices["ruth"], TransformedVoice)
    assert voices["ava"].transform.pitch_median_hz == 210


@pytest.mark.parametrize("voice_id, target_hz", [("ava", 210), ("ruth", 185)])
def test_the_derived_voice_has_a_womans_pitch_and_higher_formants(spoken, voice_id, target_hz):
    joe_f0, joe_formants = pitch_and_formants(spoken["joe"])
    f0, formants = pitch_and_formants(spoken[voice_id])
    assert joe_f0 < 120  # the source is a low male voice
    assert FEMALE_F0_HZ[0] <= f0 <= FEMALE_F0_HZ[1] and abs(f0 - target_hz) < 10
    for joe_f, f in zip(joe_formants[1:], formants[1:]):
        assert f > 1.07 * joe_f  # F2 and F3 move up with the vocal tract made shorter
    assert formants[2] > 2700  # F3 in the adult female range


@pytest.mark.parametrize("voice_id", ["ava", "ruth"])
def test_the_derived_voice_keeps_every_word_time_and_sample(spoken, voice_id):
    joe, derived = spoken["joe"], spoken[voice_id]
    assert len(derived.samples) == len(joe.samples) and derived.sample_rate == joe.sample_rate
    assert derived.words == joe.words and derived.phonemes == joe.phonemes
    lags = [envelope_lag_ms(joe.samples, derived.samples, joe.sample_rate, w.start_s, w.end_s)
            for w in joe.words]
    assert np.median(np.abs(lags)) <= 5 and max(np.abs(lags)) <= 25, lags


def test_the_transform_is_deterministic_and_stays_in_range(spoken):
    joe = spoken["joe"]
    transform = VoiceTransform(pitch_median_hz=210, formant_shift=1.2)
    once = transform_samples(joe.samples, joe.sample_rate, transform)
    assert np.array_equal(once, transform_samples(joe.samples, joe.sample_rate, transform))
    assert once.dtype == np.float32 and np.abs(once).max() <= 1.0


def test_silence_stays_silence():
    silence = np.zeros(22050, np.float32)
    out = transform_samples(silence, 22050, VoiceTransform(pitch_median_hz=200))
    assert len(out) == len(silence) and not out.any()


@pytest.mark.parametrize("settings, message", [
    ({"pitch_median_hz": 210, "method": "world"}, "unknown voice transform"),
    ({"pitch_median_hz": 900}, "pitch_median_hz"),
    ({"pitch_median_hz": 210, "formant_shift": 3.0}, "formant_shift"),
])
def test_impossible_transform_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        VoiceTransform.from_catalog(settings)
