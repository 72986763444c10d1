"""Bursty frame production (a lip-sync backend yields whole batches) overlaps the encode when
the encoder's queue holds a batch: evidence from event order, not from timings."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import av
import numpy as np

from pipelines.encode.codecs import LIBX264
from pipelines.encode.encoder import QUEUE_BYTES_MAX, FrameEncoder

BATCH, BATCHES = 16, 4
WIDTH, HEIGHT = 720, 1280  # a frame (2.7 MB) is far larger than a pipe's buffer


def _wait_until(condition, what):
    deadline = time.monotonic() + 60  # a hang guard, not a speed requirement
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.002)


def _stopped(pid: int) -> bool:
    """Every thread of `pid` is in the stopped state (T) according to /proc."""
    states = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
        except (FileNotFoundError, IndexError):
            continue
    return bool(states) and all(state in ("T", "t") for state in states)


def test_the_encoder_drains_one_batch_while_the_next_is_computed_and_the_producer_never_waits(
        tmp_path):
    out = tmp_path / "video.mp4"
    enc = FrameEncoder(out, width=WIDTH, height=HEIGHT, fps=30, codec=LIBX264.with_burst(BATCH),
                       timeout_s=120)
    events = []

    def bursty_source():
        """Per batch: a "GPU step" that runs while ffmpeg may work, then the whole batch at once,
        handed over while ffmpeg is frozen (SIGSTOP), so no frame can slip through early."""
        for k in range(BATCHES):
            events.append(("gpu_start", k, enc.frames_piped))
            os.kill(enc._proc.pid, signal.SIGCONT)
            # The step ends once the encoder took every frame of the previous batch.
            _wait_until(lambda k=k: enc.frames_piped == k * BATCH, f"batch {k - 1} encoded")
            events.append(("gpu_end", k, enc.frames_piped))
            os.kill(enc._proc.pid, signal.SIGSTOP)
            # A stop takes effect asynchronously: until every ffmpeg thread is stopped, one can
            # still read a frame or two of the next batch from the pipe.
            _wait_until(lambda: _stopped(enc._proc.pid), "ffmpeg stopped")
            for i in range(BATCH):
                yield np.full((HEIGHT, WIDTH, 3), 3 * (k * BATCH + i), np.uint8)

    with enc:
        for frame in bursty_source():
            enc.write(frame)
        os.kill(enc._proc.pid, signal.SIGCONT)

    assert enc.stalls == 0  # each batch went into the queue at once, the encoder frozen
    starts = {k: piped for kind, k, piped in events if kind == "gpu_start"}
    ends = {k: piped for kind, k, piped in events if kind == "gpu_end"}
    for k in range(1, BATCHES):
        # Nothing of batch k-1 was encoded before its successor's GPU step began; all of it
        # was encoded during that step, by the writer thread and ffmpeg, not the producer.
        assert (starts[k], ends[k]) == ((k - 1) * BATCH, k * BATCH)
    with av.open(str(out)) as container:
        means = [f.to_ndarray(format="rgb24").mean() for f in container.decode(video=0)]
    assert np.allclose(means, [3 * i for i in range(BATCHES * BATCH)], atol=2.5)  # in order


def test_the_queue_grows_to_a_burst_but_never_past_its_byte_budget(tmp_path):
    assert LIBX264.with_burst(32).queue_frames == 32
    assert LIBX264.with_burst(2).queue_frames == LIBX264.queue_frames
    full_hd = 1080 * 1920 * 3
    enc = FrameEncoder(tmp_path / "v.mp4", width=1080, height=1920, fps=30,
                       codec=LIBX264.with_burst(32))
    big = FrameEncoder(tmp_path / "w.mp4", width=1080, height=1920, fps=30,
                       codec=LIBX264.with_burst(128))
    try:
        assert enc.queue_frames == 32 and 32 * full_hd <= QUEUE_BYTES_MAX  # 199 MB
        assert big.queue_frames == QUEUE_BYTES_MAX // full_hd == 43
    finally:
        enc.abort()
        big.abort()
    assert list(tmp_path.iterdir()) == []
