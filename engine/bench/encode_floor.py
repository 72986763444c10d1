"""The encode floor: the job's own frames, already in memory, through the pipeline's encoder.

    python -m engine.bench.encode_floor BUNDLE OUT.json [--ring-frames 90]

What it measures: `FrameEncoder` with the pipeline's `VideoCodec` (same ffmpeg argv, same
queue and writer thread), fed `frame_count` frames with no other work per frame. A render
cannot encode faster than this on the same machine, so render wall / floor wall says how much
of a render is something other than encoding.

Which frames: a 1080x1920 job has 720 frames of 6.2 MB (4.5 GB), too many to hold. The floor
keeps the first `ring_frames` real frames (default 90, 560 MB at 1080x1920; a job shorter than
that is kept whole) and plays them forward then backward until it has sent `frame_count`
frames. Playing back and forth keeps every step between two frames a real step of the video,
so no artificial cuts add keyframes. Checked once on the 24 s demo against all 720 real frames
held in memory, alternating twice: wall 20.6 / 23.7 s (ring) vs 21.3 / 23.7 s (all frames),
ffmpeg CPU within 2 %; the ring's stream is 9 % smaller (it holds no end card or pauses).

While the ring is captured, the persona animator and the compositor are timed per frame too:
that is the lip-sync rate and the compose rate the report prints next to the encoder rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.bench.reference_scene import ReferenceJob, load, rebuild, write_result
from engine.measure import gpu_memory, measured
from pipelines.compose.compositor import Scene
from pipelines.compose.shots import ShotScene
from pipelines.encode.encoder import FrameEncoder

RING_FRAMES = 90


def ping_pong(count: int, ring: int) -> list[int]:
    """Ring indices for `count` frames: 0, 1, .., ring-1, ring-2, .., 1, 0, 1, ..."""
    if ring <= 1:
        return [0] * count
    period = 2 * ring - 2
    return [j if j < ring else period - j for j in (n % period for n in range(count))]


def capture_ring(scene: Scene | ShotScene, patches: Any, *, fps: int, frames: int, width: int,
                 height: int) -> tuple[np.ndarray, dict[str, float]]:
    """The first `frames` frames as one array, with per-frame animate and compose times.

    Wall and CPU per frame both: CPU (this process, helper threads included) is what a busy
    machine distorts least.
    """
    ring = np.empty((frames, height, width, 3), np.uint8)
    spent = np.zeros((2, 2))  # rows animate, compose; columns wall s, CPU s
    for index in range(frames):
        t0, c0 = time.perf_counter(), time.process_time()
        patch = next(patches, None)
        t1, c1 = time.perf_counter(), time.process_time()
        frame = scene.compose(index / fps, patch)
        spent += [[t1 - t0, c1 - c0], [time.perf_counter() - t1, time.process_time() - c1]]
        ring[index] = frame
    ms = 1000 * spent / frames
    return ring, {"animate_ms_per_frame": ms[0, 0], "animate_cpu_ms_per_frame": ms[0, 1],
                  "compose_ms_per_frame": ms[1, 0], "compose_cpu_ms_per_frame": ms[1, 1]}


def encode_floor(job: ReferenceJob, ring: np.ndarray, order: list[int], out: Path) -> dict:
    """Pipe the ring's frames in `order` into the pipeline's encoder; measured."""
    height, width = ring.shape[1:3]
    with measured() as record:
        with FrameEncoder(out, width=width, height=height, fps=job.fps, codec=job.codec,
                          timeout_s=3600) as encoder:
            for index in order:
                encoder.write(ring[index])
    record.update(frames=len(order), fps=len(order) / record["wall_s"],
                  size_bytes=out.stat().st_size)
    return record


def run(bundle: Path, *, ring_frames: int = RING_FRAMES) -> dict[str, Any]:
    job = load(bundle)
    built = rebuild(job)
    width, height = job.spec.frame_size
    count = job.track.frame_count
    kept = max(1, min(count, ring_frames))
    ring, rates = capture_ring(built.edit or built.scene, built.patches, fps=job.fps, frames=kept,
                               width=width, height=height)
    result = encode_floor(job, ring, ping_pong(count, kept), job.work / "encode_floor.mp4")
    result.update(rates, ring_frames=kept, ring_mb=ring.nbytes / 2**20, width=width,
                  height=height, codec=job.codec.argv(),
                  lipsync_fps=1000 / max(rates["animate_ms_per_frame"], 1e-9),
                  compose_fps=1000 / max(rates["compose_ms_per_frame"], 1e-9),
                  gpu=gpu_memory())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Encode floor of a captured job.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--ring-frames", type=int, default=RING_FRAMES)
    args = parser.parse_args(argv)
    write_result(args.out, run(args.bundle, ring_frames=args.ring_frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
