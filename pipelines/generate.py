"""The `generation` stage: animate the persona, compose every frame, stream it to the encoder.

    video = generate_video(scene, patches, out_path=work / "video.mp4", width=1080,
                           height=1920, fps=30, frame_count=720, still_times_s=[1.0, 12.0],
                           on_fraction=report)
    video.stills[1.0]          # the composed frame at 1 s

Frames flow persona -> compositor -> encoder one at a time; the only frames kept are the few
stills asked for (thumbnail, storyboard), copied as they pass.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

import numpy as np

from pipelines.compose.compositor import Scene
from pipelines.encode.encoder import FrameEncoder, VideoCodec

REPORT_EVERY_FRAMES = 15


@dataclass(frozen=True)
class GeneratedVideo:
    stills: dict[float, np.ndarray]  # the frames nearest each requested time
    encoder_peak_rss_mb: float | None


def generate_video(scene: Scene, patches: Iterator[np.ndarray], *, out_path: Path, width: int,
                   height: int, fps: int, frame_count: int, still_times_s: Sequence[float],
                   on_fraction: Callable[[float], None], codec: VideoCodec = VideoCodec(),
                   lookahead_frames: int = 0, timeout_s: float = 600.0) -> GeneratedVideo:
    """Encode `frame_count` frames, keeping the frames nearest `still_times_s`.

    `lookahead_frames` > 0 computes the persona patches that far ahead in a thread (for a
    batched animator: one batch), so animation overlaps composing and encoding."""
    wanted: dict[int, list[float]] = {}
    for t in still_times_s:
        wanted.setdefault(min(frame_count - 1, round(t * fps)), []).append(t)
    stills: dict[float, np.ndarray] = {}
    with contextlib.ExitStack() as stack:
        if lookahead_frames > 0:
            patches = stack.enter_context(
                Lookahead(patches, frames=lookahead_frames, timeout_s=timeout_s))
        encoder = stack.enter_context(FrameEncoder(out_path, width=width, height=height, fps=fps,
                                                   codec=codec, timeout_s=timeout_s))
        for index in range(frame_count):
            frame = scene.compose(index / fps, next(patches, None))
            for t in wanted.get(index, ()):
                stills[t] = frame  # composed fresh each frame, so keeping it is safe
            encoder.write(frame)
            if index % REPORT_EVERY_FRAMES == 0:
                on_fraction(index / frame_count)
    on_fraction(1.0)
    return GeneratedVideo(stills, encoder.peak_rss_mb)


# --- running the persona ahead of the compositor ------------------------------------------

T = TypeVar("T")
_ITEM, _END, _ERROR = "item", "end", "error"
POLL_S = 0.1  # how often a blocked producer checks whether the consumer has gone


class Lookahead(Generic[T]):
    """Run a frame source ahead of its consumer, in a thread, at most `frames` items ahead.

        with Lookahead(animator.animate(prepared, speech, ...), frames=16, timeout_s=600) as patches:
            for patch in patches:       # batch k is composed and encoded while batch k+1 computes

    For a batched lip-sync backend on a GPU: without it, the GPU idles while a batch is composed
    and handed to the encoder, and composing waits while the GPU works. torch and OpenCV release
    the GIL during their work, so the two overlap. An error in the source is raised to the
    consumer at the frame where it happened; leaving the `with` block stops the thread.
    """

    def __init__(self, source: Iterator[T], *, frames: int, timeout_s: float) -> None:
        if frames < 1:
            raise ValueError(f"frames must be at least 1, got {frames}")
        self.timeout_s = timeout_s
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=frames)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(source,), daemon=True,
                                         name="ugen-lookahead")
        self._thread.start()

    def _produce(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put((_ERROR, exc))

    def _put(self, message: tuple[str, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Lookahead[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        try:
            kind, value = self._queue.get(timeout=self.timeout_s)
        except queue.Empty:
            raise TimeoutError(f"the frame source produced nothing for {self.timeout_s:.0f} s") from None
        if kind == _ITEM:
            return value  # type: ignore[return-value]
        self._finished = True
        if kind == _ERROR:
            raise value  # type: ignore[misc]
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def __enter__(self) -> Lookahead[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
