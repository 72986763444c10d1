"""The delivered file as the QA checks see it: its streams, its boxes, sampled frames, its sound.

    media = read_media(out / "final.mp4", timeout_s=120)
    media.video["width"], media.top_level_boxes[:3]     # ['ftyp', 'moov', 'mdat'] with faststart
    media.frames[0].t_s, media.frames[0].rgb.shape      # 0.0, (640, 360, 3)
    media.envelope(media.frames[5].t_s)                  # the sound's RMS about that time

One decode of the file: every frame is decoded (H.264 cannot skip), but only every
SAMPLE_EVERY-th frame is converted, scaled down to ANALYSIS_SHORT_PX on its short side, and
kept. Each kept frame also records how much it differs from the previous kept one and how dark
it is. The audio is decoded once to mono at ENVELOPE_RATE for the lip-sync measure, by ffmpeg
while the video decodes.

The decoder runs on its own thread (libavcodec and the scaler let go of the GIL), a few frames
ahead of the caller: `on_sample` sees each kept frame as it arrives, so work on one frame (the
persona's face mesh, pipelines/qa/persona.py) runs while the next ones decode.

    media = read_media(path, on_sample=faces.add)

`crops` asks for parts of chosen frames at full resolution (frame index -> box in frame
pixels): the captions' contrast is measured there, since scaling blends a thin outline into
what lies behind it.

    media = read_media(path, crops={90: (120, 1300, 840, 260)})
    media.crops[90]                        # ((x, y, w, h) clipped to the frame, (h, w, 3) uint8)
"""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipelines.contract import FPS
from pipelines.encode.ffmpeg import decode_audio

SAMPLE_EVERY = 3  # 10 analysis frames per second at 30 fps
ANALYSIS_SHORT_PX = 360
ENVELOPE_RATE = 16000
LOOKAHEAD = 8  # decoded samples waiting for the caller at most

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels


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
    crops: dict[int, tuple[Box, np.ndarray]] = field(repr=False, default_factory=dict)

    def envelope(self, t_s: float) -> float:
        """RMS of the sound in an 80 ms window about `t_s` (the lips lead the sound a little)."""
        lo, hi = int((t_s - 0.02) * ENVELOPE_RATE), int((t_s + 0.06) * ENVELOPE_RATE)
        chunk = self.sound[max(0, lo):max(0, hi)]
        return float(np.sqrt(np.mean(chunk ** 2))) if len(chunk) else 0.0


def read_media(path: Path, *, timeout_s: float = 120,
               on_sample: Callable[[Sample], None] | None = None,
               crops: dict[int, Box] | None = None) -> Media:
    import av

    boxes = top_level_boxes(path)
    with av.open(str(path)) as container, ThreadPoolExecutor(1, "ugen-qa-audio") as pool:
        video, audio = _streams(container)
        sound = pool.submit(decode_audio, path, sample_rate=ENVELOPE_RATE, channels=1,
                            timeout_s=timeout_s) if audio else None  # ffmpeg, beside the video
        cut: dict[int, tuple[Box, np.ndarray]] = {}
        frames, count, errors, scale = _sample(container, video, on_sample or (lambda s: None),
                                               crops or {}, cut)
        mono = sound.result()[:, 0] if sound else np.zeros(0, np.float32)
    return Media(path, video, audio, boxes, frames, count, errors, scale, mono, cut)


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


@dataclass(frozen=True)
class _Decoded:
    """The decoder's last word: how many frames it decoded, and what stopped it."""

    frame_count: int
    error: str | None = None  # an FFmpeg error: what decoded so far is judged
    failure: BaseException | None = None  # anything else: raised on the caller's thread


def _sample(container, video: dict[str, Any], on_sample: Callable[[Sample], None],
            crops: dict[int, Box], cut: dict[int, tuple[Box, np.ndarray]],
            ) -> tuple[list[Sample], int, list[str], float]:
    """Decode on a thread, LOOKAHEAD kept frames ahead; the caller's thread converts and
    measures each kept frame and runs `on_sample`, so the decode alone holds the other core.
    The frames `crops` names have their box cut out at full resolution into `cut`."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    w, h = video["width"], video["height"]
    scale = ANALYSIS_SHORT_PX / min(w, h)
    size = (max(2, round(w * scale)) // 2 * 2, max(2, round(h * scale)) // 2 * 2)
    ready: queue.Queue[tuple[int, Any] | _Decoded] = queue.Queue(maxsize=LOOKAHEAD)
    stop = threading.Event()

    def decode() -> None:
        import av

        count, end = 0, None
        try:
            for frame in container.decode(stream):
                if stop.is_set():
                    break
                if count % SAMPLE_EVERY == 0 or count in crops:
                    ready.put((count, frame))
                count += 1
        except av.error.FFmpegError as exc:
            end = _Decoded(count, error=str(exc))
        except BaseException as exc:
            end = _Decoded(count, failure=exc)
        ready.put(end or _Decoded(count))

    decoder = threading.Thread(target=decode, name="ugen-qa-decode", daemon=True)
    decoder.start()
    frames: list[Sample] = []
    previous = None
    try:
        while not isinstance(item := ready.get(), _Decoded):
            index, frame = item
            box = _clipped(crops[index], w, h) if index in crops else None
            if box is not None:
                x, y, bw, bh = box
                cut[index] = box, frame.to_ndarray(format="rgb24")[y:y + bh, x:x + bw].copy()
            if index % SAMPLE_EVERY:
                continue
            rgb = frame.to_ndarray(width=size[0], height=size[1], format="rgb24",
                                   interpolation="FAST_BILINEAR")
            frames.append(_measured(index, rgb, previous))
            previous = rgb
            on_sample(frames[-1])
    finally:
        stop.set()
        while decoder.is_alive():  # let a decoder blocked on a full queue see the stop
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                pass
        decoder.join()
    if item.failure is not None:
        raise item.failure
    return frames, item.frame_count, [item.error] if item.error else [], scale


def _clipped(box: Box, width: int, height: int) -> Box | None:
    x, y, w, h = box
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


LUMA = np.float32([[0.2126, 0.7152, 0.0722]])  # BT.709, of R, G, B


def _measured(index: int, rgb: np.ndarray, previous: np.ndarray | None) -> Sample:
    mean, std = cv2.meanStdDev(cv2.transform(rgb, LUMA))
    change = float(np.mean(cv2.mean(cv2.absdiff(rgb, previous))[:3])) if previous is not None \
        else float("inf")
    return Sample(index, index / FPS, rgb, change, float(mean[0, 0]), float(std[0, 0]))


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
