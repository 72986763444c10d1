"""The delivered file as the QA checks see it: its streams, its boxes, sampled frames, its sound.

    media = read_media(out / "final.mp4", timeout_s=120)
    media.video["width"], media.top_level_boxes[:3]     # ['ftyp', 'moov', 'mdat'] with faststart
    media.frames[0].t_s, media.frames[0].rgb.shape      # 0.0, (640, 360, 3)
    media.envelope(media.frames[5].t_s)                  # the sound's RMS about that time

One decode of the file: every frame is decoded (H.264 cannot skip), but only every
SAMPLE_EVERY-th frame is converted, scaled down to ANALYSIS_SHORT_PX on its short side, and
kept. Each kept frame also records how much it differs from the previous kept one and how dark
it is. The audio is decoded once to mono at ENVELOPE_RATE for the lip-sync measure.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.contract import FPS
from pipelines.encode.ffmpeg import decode_audio

SAMPLE_EVERY = 3  # 10 analysis frames per second at 30 fps
ANALYSIS_SHORT_PX = 360
ENVELOPE_RATE = 16000


@dataclass(frozen=True)
class Sample:
    index: int  # frame number in the file
    t_s: float
    rgb: np.ndarray  # (h, w, 3) uint8 at analysis size
    change: float  # mean absolute difference from the previous sample, 0-255
    luma: float  # mean luma, 0-255
    luma_std: float


@dataclass
class Media:
    path: Path
    video: dict[str, Any]
    audio: dict[str, Any] | None
    top_level_boxes: list[str]
    frames: list[Sample]
    frame_count: int
    decode_errors: list[str]
    scale: float  # analysis pixels per frame pixel
    sound: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.float32))

    def envelope(self, t_s: float) -> float:
        """RMS of the sound in an 80 ms window about `t_s` (the lips lead the sound a little)."""
        lo, hi = int((t_s - 0.02) * ENVELOPE_RATE), int((t_s + 0.06) * ENVELOPE_RATE)
        chunk = self.sound[max(0, lo):max(0, hi)]
        return float(np.sqrt(np.mean(chunk ** 2))) if len(chunk) else 0.0


def read_media(path: Path, *, timeout_s: float = 120) -> Media:
    import av

    boxes = top_level_boxes(path)
    with av.open(str(path)) as container:
        video, audio = _streams(container)
        frames, count, errors, scale = _sample(container, video)
    sound = decode_audio(path, sample_rate=ENVELOPE_RATE, channels=1, timeout_s=timeout_s)[:, 0] \
        if audio else np.zeros(0, np.float32)
    return Media(path, video, audio, boxes, frames, count, errors, scale, sound)


def _streams(container) -> tuple[dict[str, Any], dict[str, Any] | None]:
    v = container.streams.video[0]
    cc = v.codec_context
    video = {"codec": cc.name, "profile": cc.profile, "pix_fmt": cc.pix_fmt,
             "width": cc.width, "height": cc.height,
             "avg_fps": float(v.average_rate) if v.average_rate else None,
             "duration_s": float(v.duration * v.time_base) if v.duration else None,
             "colorspace": _colour(cc, "colorspace"), "color_range": _colour(cc, "color_range"),
             "color_primaries": _colour(cc, "color_primaries"),
             "color_trc": _colour(cc, "color_trc")}
    if not container.streams.audio:
        return video, None
    a = container.streams.audio[0]
    audio = {"codec": a.codec_context.name, "profile": a.codec_context.profile,
             "sample_rate": a.codec_context.sample_rate, "channels": a.codec_context.channels,
             "duration_s": float(a.duration * a.time_base) if a.duration else None}
    return video, audio


def _colour(cc, name: str) -> int | None:
    value = getattr(cc, name, None)
    return None if value is None else int(value)


def _sample(container, video: dict[str, Any]) -> tuple[list[Sample], int, list[str], float]:
    import av

    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    w, h = video["width"], video["height"]
    scale = ANALYSIS_SHORT_PX / min(w, h)
    size = (max(2, round(w * scale)) // 2 * 2, max(2, round(h * scale)) // 2 * 2)
    frames: list[Sample] = []
    errors: list[str] = []
    count, previous = 0, None
    try:
        for frame in container.decode(stream):
            if count % SAMPLE_EVERY == 0:
                rgb = frame.to_ndarray(width=size[0], height=size[1], format="rgb24")
                frames.append(_measured(count, rgb, previous))
                previous = rgb
            count += 1
    except av.error.FFmpegError as exc:  # a corrupt stream: what decoded so far is judged
        errors.append(str(exc))
    return frames, count, errors, scale


def _measured(index: int, rgb: np.ndarray, previous: np.ndarray | None) -> Sample:
    luma = rgb @ np.float32([0.2126, 0.7152, 0.0722])
    change = float(np.mean(np.abs(rgb.astype(np.int16) - previous))) if previous is not None \
        else float("inf")
    return Sample(index, index / FPS, rgb, change, float(luma.mean()), float(luma.std()))


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (reads only the box headers)."""
    kinds: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as f:
        offset = 0
        while offset + 8 <= size_total and len(kinds) < 64:
            f.seek(offset)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
            elif size == 0:
                size = size_total - offset
            kinds.append(kind.decode("latin-1"))
            if size < 8:
                break
            offset += size
    return kinds
