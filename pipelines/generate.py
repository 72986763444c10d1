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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.compositor import Scene
from pipelines.encoder import FrameEncoder, VideoCodec
from pipelines.lookahead import Lookahead

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
