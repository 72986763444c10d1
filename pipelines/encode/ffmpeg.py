"""Every ffmpeg call goes through here: argv as a list, a timeout, stderr mapped to a clear error.

    run_ffmpeg(["-i", "in.wav", "-ar", "48000", "out.wav"], timeout_s=60)
    samples = decode_audio(Path("song.mp3"), sample_rate=48000, channels=2)

The binary is the static build that the imageio-ffmpeg wheel ships (libx264, libass, loudnorm,
NVENC), so no system ffmpeg is needed.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import numpy as np

from engine.errors import EncoderError


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _tail(stderr: str, lines: int = 8) -> str:
    kept = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def run_ffmpeg(args: list[str], *, timeout_s: float, stdin: bytes | None = None) -> str:
    """Run ffmpeg with `args` (no binary name); return its stderr. Raises EncoderError."""
    argv = [ffmpeg_exe(), "-hide_banner", "-y", *(["-nostdin"] if stdin is None else []), *args]
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise EncoderError(f"ffmpeg did not finish within {timeout_s:.0f} s",
                           details={"timeout_s": timeout_s}) from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise EncoderError(
            f"ffmpeg failed (exit {done.returncode}): {_tail(stderr, 2)}",
            details={"returncode": done.returncode, "stderr_tail": _tail(stderr)},
        )
    return stderr


_LEVEL_TAG = re.compile(r"\[(error|fatal|panic)\] ")
_CONTEXT = re.compile(r"^(?:\[[^\]]*\] )+")


def error_lines(stderr_lines: list[str]) -> list[str]:
    """The error lines of a `-loglevel level+...` log, without their `[context @ 0x..]` tags."""
    return [_CONTEXT.sub("", _LEVEL_TAG.sub("", ln)).strip() for ln in stderr_lines
            if _LEVEL_TAG.search(ln)]


def encoder_error(args: list[str], *, timeout_s: float) -> str | None:
    """Run a short ffmpeg command (a probe); None when it succeeds, else its first error line
    (the cause; ffmpeg's later lines are consequences like "Conversion failed")."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+error", *args]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"no answer within {timeout_s:.0f} s"
    if done.returncode == 0:
        return None
    errors = error_lines(done.stderr.decode("utf-8", "replace").splitlines())
    return errors[0] if errors else f"ffmpeg exited with code {done.returncode}"


def decode_audio(path: Path, *, sample_rate: int, channels: int, timeout_s: float = 120,
                 max_s: float | None = None) -> np.ndarray:
    """Decode any audio file to float32 samples, shape (n, channels); the first `max_s` only if given."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
            *(["-t", f"{max_s:g}"] if max_s is not None else []), "-f", "f32le", "-ac", str(channels), "-ar", str(sample_rate), "pipe:1"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise EncoderError(f"decoding {path.name} took longer than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        raise EncoderError(f"could not decode audio {path.name}: "
                           f"{_tail(done.stderr.decode('utf-8', 'replace'), 2)}")
    return np.frombuffer(done.stdout, dtype=np.float32).reshape(-1, channels).copy()


def write_wav(path: Path, samples: np.ndarray, *, sample_rate: int) -> None:
    """Write float32 samples, shape (n,) or (n, channels), as 16-bit PCM WAV (pure Python)."""
    import wave

    data = samples if samples.ndim == 2 else samples[:, None]
    pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(data.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())


_EBUR128_I = re.compile(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS")
_EBUR128_TP = re.compile(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS")


def measure_loudness(path: Path, *, timeout_s: float = 120) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's audio, by ffmpeg's ebur128 filter."""
    stderr = run_ffmpeg(["-i", str(path), "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"],
                        timeout_s=timeout_s)
    summary = stderr[stderr.rfind("Summary:"):]
    integrated, peak = _EBUR128_I.search(summary), _EBUR128_TP.search(summary)
    if not integrated or not peak:
        raise EncoderError("ebur128 printed no summary", details={"stderr_tail": _tail(stderr)})
    return float(integrated.group(1)), float(peak.group(1))
