"""Loudness normalisation of a premix: one linear gain to the target, checked, corrected if off.

    opts = MixOptions(count=16 * 48000, sample_rate=48000, target_lufs=-14.0, true_peak_db=-1.5,
                      timeout_s=120)
    level = normalise_loudness(work / "premix.wav", work / "audio.wav", work_dir=work, opts=opts)
    level.integrated_lufs, level.true_peak_db, level.normalization   # -14.0, -3.4, "linear"

A mix keeps its dynamics only under a pure gain, so the premix is measured with ebur128 (the
meter the output is checked with), first gained and peak-limited if a linear gain to the target
would overshoot the true-peak target, then gained to the target in one pass. (That is what
ffmpeg's two-pass loudnorm does in linear mode, without its 0.6 CPU s measuring pass, whose
meter also reads up to ~1.2 LU lower than ebur128 on voice-overs with music-only pauses.) The
result is measured again: one that is off the target gets a gain-and-limiter correction
instead of being shipped at the wrong level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EncoderError
from pipelines.contract import LOUDNESS_TOLERANCE_LU, TRUE_PEAK_CEILING_DB
from pipelines.encode.ffmpeg import measure_loudness, run_ffmpeg

AIM_TOLERANCE_LU = 0.4  # further than this from the target by ebur128: correction pass
LINEAR_MARGIN_DB = 0.05
LIMITER_HEADROOM_DB = 0.7  # the mix limiter's ceiling under true_peak_db (inter-sample peaks)
LIMITER_ATTACK_MS = 5
LIMITER_RELEASE_MS = 80
LIMIT_TRIES = 2


@dataclass(frozen=True)
class MixOptions:
    """The mix to produce: its length, rate and loudness target, and the ffmpeg time limit."""

    count: int  # output length in samples
    sample_rate: int
    target_lufs: float
    true_peak_db: float
    timeout_s: float


@dataclass(frozen=True)
class Loudness:
    """What the finished file measured (ffmpeg ebur128) and how it got there."""

    integrated_lufs: float
    true_peak_db: float
    normalization: str  # how the level was reached: "linear" (one gain, dynamics kept)
    corrected: bool  # a final gain + limiter pass was needed to land on target


def normalise_loudness(premix: Path, out_path: Path, *, work_dir: Path,
                       opts: MixOptions) -> Loudness:
    """`premix` brought to `opts.target_lufs` under `opts.true_peak_db`, as 16-bit stereo WAV
    at `out_path`. Raises EncoderError if the level cannot be brought on target."""
    premix, measured = _fit_for_linear(premix, work_dir, opts)
    _apply_gain(premix, out_path, gain_db=opts.target_lufs - measured, opts=opts)
    integrated, peak = measure_loudness(out_path, timeout_s=opts.timeout_s)
    corrected = not _on_target(integrated, peak, opts, tolerance_lu=AIM_TOLERANCE_LU)
    if corrected:
        integrated, peak = _correct(out_path, work_dir, integrated, opts)
    return Loudness(integrated, peak, "linear", corrected)


def exact_length(opts: MixOptions) -> str:
    """The ffmpeg filters that pad or trim audio to exactly `opts.count` samples."""
    return f"apad=whole_len={opts.count},atrim=end_sample={opts.count}"


def _on_target(integrated: float, peak: float, opts: MixOptions, *,
               tolerance_lu: float = LOUDNESS_TOLERANCE_LU) -> bool:
    return abs(integrated - opts.target_lufs) <= tolerance_lu and peak <= TRUE_PEAK_CEILING_DB


def _linear_overshoots(integrated: float, peak: float, opts: MixOptions) -> bool:
    """Whether a linear gain to the target would push the true peak past its target."""
    return peak + (opts.target_lufs - integrated) > opts.true_peak_db - LINEAR_MARGIN_DB


def _fit_for_linear(premix: Path, work_dir: Path, opts: MixOptions) -> tuple[Path, float]:
    """The premix, or a gained and limited copy, that a linear gain can bring to target; and
    its integrated loudness (LUFS).

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
    return source, integrated


def _measure_ebur128(path: Path, opts: MixOptions) -> tuple[float, float]:
    integrated, peak = measure_loudness(path, timeout_s=opts.timeout_s)
    if not math.isfinite(integrated):
        raise EncoderError("the mix measured no loudness (silent)")
    return integrated, peak


def _limit(source: Path, dest: Path, *, gain_db: float, opts: MixOptions,
           codec: str = "pcm_f32le") -> Path:
    """Apply `gain_db`, then a limiter (at 4x rate, so it sees inter-sample peaks) whose
    ceiling sits LIMITER_HEADROOM_DB under the true-peak target."""
    ceiling = 10 ** ((opts.true_peak_db - LIMITER_HEADROOM_DB) / 20)
    chain = (f"volume={gain_db:.2f}dB,aresample={4 * opts.sample_rate},"
             f"alimiter=limit={ceiling:.4f}:level=false:attack={LIMITER_ATTACK_MS}:"
             f"release={LIMITER_RELEASE_MS},aresample={opts.sample_rate},{exact_length(opts)}")
    run_ffmpeg(["-i", str(source), "-af", chain, "-ac", "2", "-c:a", codec, str(dest)],
               timeout_s=opts.timeout_s)
    return dest


def _apply_gain(source: Path, out_path: Path, *, gain_db: float, opts: MixOptions) -> None:
    """`source` times `gain_db`, as 16-bit stereo at the mix rate, exactly `opts.count` long."""
    chain = f"volume={gain_db:.2f}dB,aresample={opts.sample_rate},{exact_length(opts)}"
    run_ffmpeg(["-i", str(source), "-af", chain, "-ar", str(opts.sample_rate), "-ac", "2",
                "-c:a", "pcm_s16le", str(out_path)], timeout_s=opts.timeout_s)


def _correct(out_path: Path, work_dir: Path, integrated: float,
             opts: MixOptions) -> tuple[float, float]:
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
