"""The audio stage: one voice track on the video timeline, a music bed, one normalised mix.

    voice = build_voice_track(utterances, starts_s=[0.3, 8.3], duration_s=16.0)
    bed = load_music_file(Path("configs/music/bed.mp3"), duration_s=16.0, sample_rate=48000)
    mix = mix_audio(voice, bed, music_volume=0.15, out_path=work / "audio.wav", work_dir=work)
    mix.integrated_lufs, mix.true_peak_db    # -14.0, -3.4 (by ebur128)

The mix is one ffmpeg filter graph (voice levelled, compressed and peak-limited, music levelled
and ducked under the voice by a sidechain compressor), then two-pass linear loudnorm, then a
measurement with ebur128: a result off the target gets a gain-and-limiter correction instead of
being shipped at the wrong level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import EncoderError, MusicNotFound
from models.base import PhonemeTiming, Speech, WordTiming
from pipelines.ffmpeg import (decode_audio, loudnorm_measure, loudnorm_stats, measure_loudness,
                              run_ffmpeg, write_wav)

LOOP_CROSSFADE_S = 0.5  # a music file shorter than the video loops with this crossfade
MUSIC_FADE_OUT_S = 1.5
LOUDNESS_RANGE_LU = 11.0
MAX_LOUDNESS_RANGE_LU = 50.0  # loudnorm's upper bound
LOUDNESS_TOLERANCE_LU = 1.0  # what the output contract allows
TRUE_PEAK_CEILING_DB = -1.0  # what the output contract allows; we aim lower (true_peak_db)
AIM_TOLERANCE_LU = 0.4  # further than this from the target by ebur128: correction pass
# Before mixing, speech (while speaking) and music are brought to these RMS levels, so that
# music_volume means the same for every voice and every music file: at 0.15 the music's
# loudness sits about 13 LU under the voice's, and ducking takes 9-12 dB more off while
# someone speaks (measured with the Piper voice and the synth beds).
VOICE_RMS_DB = -20.0
MUSIC_RMS_DB = -22.5
# Ducking: the voice (the key) is ~10 dB over this threshold while speaking.
DUCK_THRESHOLD = 0.02
DUCK_RATIO = 8
DUCK_ATTACK_MS = 20
DUCK_RELEASE_MS = 350
# Speech from a TTS model peaks ~19 dB over its loudness; -14 LUFS under a -1.5 dBTP ceiling
# leaves room for 12.5. A gentle compressor (its makeup restoring the loudness) and a fast
# limiter about 8 dB under the voice's peaks bring the voice alone to ~11, leaving the music
# untouched. A limiter on the whole mix takes what is left only when loudnorm's linear gain
# would still overshoot, so loudnorm stays in linear mode.
VOICE_CHAIN = ("acompressor=threshold=0.1:ratio=3:attack=5:release=120:knee=4:makeup=2,"
               "alimiter=limit=0.3:level=false:attack=2:release=40")
LINEAR_MARGIN_DB = 0.05
LIMITER_HEADROOM_DB = 0.7  # the mix limiter's ceiling under true_peak_db (inter-sample peaks)
LIMITER_ATTACK_MS = 5
LIMITER_RELEASE_MS = 80
LIMIT_TRIES = 2


@dataclass(frozen=True)
class AudioMix:
    """The finished mix and what was measured on it (ffmpeg ebur128)."""

    out_path: Path  # stereo 16-bit WAV at sample_rate
    duration_s: float
    sample_rate: int
    integrated_lufs: float
    true_peak_db: float
    ducked: bool  # music present and ducked under the voice
    normalization: str  # loudnorm's pass-2 mode: "linear" or "dynamic"
    corrected: bool  # a final gain + limiter pass was needed to land on target


# --- voice track -----------------------------------------------------------------------------

def build_voice_track(speeches: Sequence[Speech], starts_s: Sequence[float], *,
                      duration_s: float) -> Speech:
    """Place each utterance at its start on one silent timeline of exactly `duration_s`.

    Utterances at another sample rate than the first are resampled to it. Words and phonemes
    move to timeline time. Overlapping utterances or one running past the end are caller errors.
    """
    if not speeches or len(speeches) != len(starts_s):
        raise ValueError(f"need one start per utterance, got {len(speeches)} utterances and "
                         f"{len(starts_s)} starts")
    rate = speeches[0].sample_rate
    track = np.zeros(round(duration_s * rate), np.float32)
    words: list[WordTiming] = []
    phonemes: list[PhonemeTiming] = []
    previous_end, order = 0, sorted(range(len(speeches)), key=lambda i: starts_s[i])
    for i in order:
        samples = _resample(speeches[i].samples, speeches[i].sample_rate, rate)
        first = round(starts_s[i] * rate)
        _check_slot(i, first, len(samples), previous_end, len(track), rate)
        track[first:first + len(samples)] = samples
        previous_end = first + len(samples)
        offset_s = first / rate
        words += [WordTiming(w.text, w.start_s + offset_s, w.end_s + offset_s)
                  for w in speeches[i].words]
        phonemes += [PhonemeTiming(p.phoneme, p.start_s + offset_s, p.end_s + offset_s)
                     for p in speeches[i].phonemes]
    backends = dict.fromkeys(s.backend for s in speeches)
    return Speech(track, rate, tuple(words), tuple(phonemes), backend="+".join(backends))


def _check_slot(index: int, first: int, length: int, previous_end: int, total: int,
                rate: int) -> None:
    if first < 0:
        raise ValueError(f"utterance {index} starts before the track ({first / rate:.3f} s)")
    if first < previous_end:
        raise ValueError(f"utterance {index} starts at {first / rate:.3f} s, before the previous "
                         f"one ends at {previous_end / rate:.3f} s")
    if first + length > total:
        raise ValueError(f"utterance {index} ends at {(first + length) / rate:.3f} s, after the "
                         f"track's {total / rate:.3f} s")


def _resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling by FFT (ideal low-pass); speech has silence at both ends."""
    if source_rate == target_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    count = round(len(samples) * target_rate / source_rate)
    out = np.fft.irfft(np.fft.rfft(samples), count) * (count / len(samples))
    return np.clip(out, -1.0, 1.0).astype(np.float32)


# --- music file ------------------------------------------------------------------------------

def load_music_file(path: Path, *, duration_s: float, sample_rate: int,
                    timeout_s: float = 120) -> np.ndarray:
    """A music file as an (n, 2) float32 bed of exactly `duration_s`.

    Shorter files loop with a LOOP_CROSSFADE_S equal-power crossfade; the tail fades out.
    """
    music = decode_audio(path, sample_rate=sample_rate, channels=2, timeout_s=timeout_s)
    if len(music) < sample_rate // 10:
        raise MusicNotFound(f"music file {path.name} holds no usable audio",
                            details={"file": path.name, "samples": len(music)})
    count = round(duration_s * sample_rate)
    bed = _loop(music, count, round(LOOP_CROSSFADE_S * sample_rate))[:count].copy()
    fade = min(round(MUSIC_FADE_OUT_S * sample_rate), count // 3)
    bed[count - fade:] *= (np.linspace(1.0, 0.0, fade) ** 2)[:, None]
    return bed.astype(np.float32)


def _loop(music: np.ndarray, count: int, crossfade: int) -> np.ndarray:
    """Repeat `music` until it is at least `count` long; each seam is a crossfade."""
    if len(music) >= count:
        return music
    crossfade = min(crossfade, len(music) // 4)
    if crossfade == 0:
        return np.tile(music, (math.ceil(count / len(music)), 1))
    ramp = np.linspace(0.0, np.pi / 2, crossfade)[:, None]
    seam = music[-crossfade:] * np.cos(ramp) + music[:crossfade] * np.sin(ramp)
    unit = np.concatenate([seam, music[crossfade:-crossfade]])  # what each repeat adds
    repeats = math.ceil((count - (len(music) - crossfade)) / len(unit))
    return np.concatenate([music[:-crossfade], np.tile(unit, (repeats, 1))])


# --- the mix ---------------------------------------------------------------------------------

def mix_audio(voice: Speech, music: np.ndarray | None, *, music_volume: float, out_path: Path,
              work_dir: Path, sample_rate: int = 48000, target_lufs: float = -14.0,
              true_peak_db: float = -1.5, timeout_s: float = 120) -> AudioMix:
    """Mix the voice track with a music bed into a loudness-normalised WAV.

    `music` is (n, 2) at `sample_rate` (any length: it is trimmed or padded); None, or a
    `music_volume` (0-1) of 0, mixes the voice alone. The output is stereo 16-bit at
    `sample_rate`, exactly as long as the voice track. Raises EncoderError if the level
    cannot be brought on target.
    """
    if not 0.0 <= music_volume <= 1.0:
        raise ValueError(f"music_volume must be within 0-1, got {music_volume}")
    if len(voice.samples) == 0 or not np.any(voice.samples):
        raise ValueError("the voice track is empty or silent")
    if music is not None and (music.ndim != 2 or music.shape[1] != 2):
        raise ValueError(f"music must be stereo, shape (n, 2); got {music.shape}")
    opts = _MixOptions(round(voice.duration_s * sample_rate), sample_rate, target_lufs,
                       true_peak_db, timeout_s)
    premix = work_dir / "premix.wav"
    ducked = _premix(voice, music, music_volume=music_volume, out_path=premix, work_dir=work_dir,
                     opts=opts)
    premix, measured = _fit_for_linear(premix, work_dir, opts)
    mode = _loudnorm(premix, out_path, measured, opts)
    integrated, peak = measure_loudness(out_path, timeout_s=timeout_s)
    corrected = not _on_target(integrated, peak, opts, tolerance_lu=AIM_TOLERANCE_LU)
    if corrected:
        integrated, peak = _correct(out_path, work_dir, integrated, opts)
    return AudioMix(out_path, opts.count / sample_rate, sample_rate, integrated, peak, ducked,
                    mode, corrected)


@dataclass(frozen=True)
class _MixOptions:
    count: int  # output length in samples
    sample_rate: int
    target_lufs: float
    true_peak_db: float
    timeout_s: float


def _on_target(integrated: float, peak: float, opts: _MixOptions, *,
               tolerance_lu: float = LOUDNESS_TOLERANCE_LU) -> bool:
    return abs(integrated - opts.target_lufs) <= tolerance_lu and peak <= TRUE_PEAK_CEILING_DB


def _premix(voice: Speech, music: np.ndarray | None, *, music_volume: float, out_path: Path,
            work_dir: Path, opts: _MixOptions) -> bool:
    """Voice (and ducked music) summed into a float WAV of exactly `opts.count` samples.

    Returns whether music was mixed (and so ducked).
    """
    voice_wav = work_dir / "voice.wav"
    write_wav(voice_wav, _levelled(voice.samples, voice.sample_rate, VOICE_RMS_DB, gated=True),
              sample_rate=voice.sample_rate)
    inputs = ["-i", str(voice_wav)]
    graph = (f"[0:a]aresample={opts.sample_rate},{VOICE_CHAIN},pan=stereo|c0=c0|c1=c0,"
             f"aformat=sample_fmts=fltp:channel_layouts=stereo")
    with_music = music is not None and music_volume > 0.0
    if with_music:
        music_wav = work_dir / "music.wav"
        bed = _fit(_levelled(music, opts.sample_rate, MUSIC_RMS_DB, gated=False), opts.count)
        write_wav(music_wav, bed, sample_rate=opts.sample_rate)
        inputs += ["-i", str(music_wav)]
        graph += (f",asplit=2[voice][key];"
                  f"[1:a]aformat=sample_fmts=fltp:channel_layouts=stereo,"
                  f"volume={music_volume:.4f}[bed];"
                  f"[bed][key]sidechaincompress=threshold={DUCK_THRESHOLD}:ratio={DUCK_RATIO}:"
                  f"attack={DUCK_ATTACK_MS}:release={DUCK_RELEASE_MS}[ducked];"
                  f"[voice][ducked]amix=inputs=2:duration=first:dropout_transition=0:normalize=0")
    graph += f",{_exact_length(opts)}[out]"
    run_ffmpeg([*inputs, "-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_f32le",
                str(out_path)], timeout_s=opts.timeout_s)
    return with_music


def _exact_length(opts: _MixOptions) -> str:
    return f"apad=whole_len={opts.count},atrim=end_sample={opts.count}"


def _linear_overshoots(integrated: float, peak: float, opts: _MixOptions) -> bool:
    """Whether a linear gain to the target would push the true peak past its target (loudnorm
    would then fall back to dynamic mode, which rides the gain and often misses)."""
    return peak + (opts.target_lufs - integrated) > opts.true_peak_db - LINEAR_MARGIN_DB


def _fit_for_linear(premix: Path, work_dir: Path,
                    opts: _MixOptions) -> tuple[Path, dict[str, str]]:
    """The premix, or a gained and limited copy, that loudnorm can bring to target linearly;
    and the pass-1 measurement for it.

    Limiting lowers the loudness a little, so the gain is topped up and the limiter rerun from
    the premix (not stacked) until the remaining linear gain fits under the true-peak target.
    """
    integrated, peak = _measure_ebur128(premix, opts)
    source, gain = premix, 0.0
    for _ in range(LIMIT_TRIES):
        if not _linear_overshoots(integrated, peak, opts):
            break
        gain += opts.target_lufs - integrated
        source = _limit(premix, work_dir / "premix-limited.wav", gain_db=gain, opts=opts)
        integrated, peak = _measure_ebur128(source, opts)
    return source, _pass_one(source, integrated, peak, opts)


def _measure_ebur128(path: Path, opts: _MixOptions) -> tuple[float, float]:
    integrated, peak = measure_loudness(path, timeout_s=opts.timeout_s)
    if not math.isfinite(integrated):
        raise EncoderError("the mix measured no loudness (silent)")
    return integrated, peak


def _pass_one(path: Path, integrated: float, peak: float, opts: _MixOptions) -> dict[str, str]:
    """loudnorm's pass-1 measurement, with integrated loudness and true peak from ebur128.

    loudnorm's own meter reads up to ~1.2 LU lower than ebur128 (the meter the output is
    checked with) on voice-overs with music-only pauses; a linear gain computed from
    ebur128's reading lands on the target by that meter.
    """
    measured = loudnorm_measure(path, target_lufs=opts.target_lufs, true_peak_db=opts.true_peak_db,
                                lra=LOUDNESS_RANGE_LU, timeout_s=opts.timeout_s)
    return {**measured, "input_i": f"{integrated:.2f}", "input_tp": f"{peak:.2f}"}


def _limit(source: Path, dest: Path, *, gain_db: float, opts: _MixOptions,
           codec: str = "pcm_f32le") -> Path:
    """Apply `gain_db`, then a limiter (at 4x rate, so it sees inter-sample peaks) whose
    ceiling sits LIMITER_HEADROOM_DB under the true-peak target."""
    ceiling = 10 ** ((opts.true_peak_db - LIMITER_HEADROOM_DB) / 20)
    chain = (f"volume={gain_db:.2f}dB,aresample={4 * opts.sample_rate},"
             f"alimiter=limit={ceiling:.4f}:level=false:attack={LIMITER_ATTACK_MS}:"
             f"release={LIMITER_RELEASE_MS},aresample={opts.sample_rate},{_exact_length(opts)}")
    run_ffmpeg(["-i", str(source), "-af", chain, "-ac", "2", "-c:a", codec, str(dest)],
               timeout_s=opts.timeout_s)
    return dest


def _loudnorm(premix: Path, out_path: Path, measured: dict[str, str], opts: _MixOptions) -> str:
    """loudnorm pass 2 (linear, from pass 1's measurement); returns the mode it used.

    loudnorm also leaves linear mode when the source's loudness range exceeds the target's,
    as a video whose pauses between segments carry only the ducked-up music does (15-20 LU),
    so the range target is widened to the measured one: a pure gain never changes the range.
    """
    lra = min(MAX_LOUDNESS_RANGE_LU, max(LOUDNESS_RANGE_LU, float(measured["input_lra"]) + 1.0))
    chain = (f"loudnorm=I={opts.target_lufs}:TP={opts.true_peak_db}:LRA={lra:.1f}"
             f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
             f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
             f":offset={measured['target_offset']}:linear=true:print_format=json,"
             f"aresample={opts.sample_rate},{_exact_length(opts)}")
    stderr = run_ffmpeg(["-i", str(premix), "-af", chain, "-ar", str(opts.sample_rate), "-ac", "2",
                         "-c:a", "pcm_s16le", str(out_path)], timeout_s=opts.timeout_s)
    return loudnorm_stats(stderr).get("normalization_type", "unknown")


def _correct(out_path: Path, work_dir: Path, integrated: float,
             opts: _MixOptions) -> tuple[float, float]:
    """Gain to the target plus the limiter, re-measured; at most two tries, then an error."""
    peak = math.inf
    for _ in range(2):
        source = out_path.replace(work_dir / "uncorrected.wav")
        _limit(source, out_path, gain_db=opts.target_lufs - integrated, opts=opts,
               codec="pcm_s16le")
        integrated, peak = measure_loudness(out_path, timeout_s=opts.timeout_s)
        if _on_target(integrated, peak, opts):
            return integrated, peak
    raise EncoderError(f"mix could not be brought to {opts.target_lufs} LUFS / "
                       f"{TRUE_PEAK_CEILING_DB} dBTP: measured {integrated:.1f} LUFS / "
                       f"{peak:.1f} dBTP",
                       details={"integrated_lufs": integrated, "true_peak_db": peak})


def _fit(music: np.ndarray, count: int) -> np.ndarray:
    """Exactly `count` frames: trimmed, or padded with silence."""
    if len(music) >= count:
        return music[:count]
    return np.concatenate([music, np.zeros((count - len(music), music.shape[1]), music.dtype)])


def _levelled(samples: np.ndarray, sample_rate: int, rms_db: float, *, gated: bool) -> np.ndarray:
    """`samples` scaled to an RMS of `rms_db` dBFS, never past a peak of 0.99.

    Gated: the RMS counts only 50 ms frames within 30 dB of the loudest (speech, not pauses).
    """
    frame = max(1, sample_rate // 20)
    usable = len(samples) // frame * frame
    if usable == 0:
        return samples
    squares = np.asarray(samples[:usable], np.float64) ** 2
    power = squares.reshape(usable // frame, -1).mean(axis=1)
    if power.max() <= 0:
        return samples
    active = power[power >= power.max() * 1e-3] if gated else power
    gain = 10 ** (rms_db / 20) / math.sqrt(active.mean())
    gain = min(gain, 0.99 / float(np.abs(samples).max()))
    return (samples * gain).astype(np.float32)
