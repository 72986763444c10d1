"""Stream RGB frames into an ffmpeg subprocess, and mux the result with its audio.

    with FrameEncoder(Path("video.mp4"), width=1080, height=1920, fps=30) as enc:
        for frame in frames:
            enc.write(frame)          # (h, w, 3) uint8; blocks when the queue is full
    mux(Path("video.mp4"), Path("audio.wav"), Path("final.mp4"), timeout_s=120)

Frames go through a bounded queue to a writer thread, so composing the next frame (or a GPU
computing the next batch) overlaps the pipe write and the encode, and at most `queue_frames`
frames wait (docs/encoding.md sizes it). RGB is converted to BT.709 limited-range yuv420p inside
ffmpeg and the stream is tagged as such, whichever encoder runs (pipelines/encode/codecs.py).

The video is written beside `out_path` under a hidden partial name and renamed on success, so a
failed or aborted encode leaves no half-written file. A codec with a fallback (NVENC) that cannot
start (no driver, no free session) is replaced for this video by its fallback: the frames sent
before the encoder opened are kept and sent again, so the caller notices nothing but a log line.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType

import numpy as np

from engine.errors import EncoderError
from engine.measure import process_peak_mb
from pipelines.contract import AUDIO_RATE
from pipelines.encode.codecs import LIBX264, VideoCodec, active, mark_failed
from pipelines.encode.ffmpeg import error_lines, ffmpeg_exe, run_ffmpeg

__all__ = ["FrameEncoder", "VideoCodec", "encode_audio", "mux"]

log = logging.getLogger(__name__)

BT709_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
              "-color_range", "tv"]
QUEUE_BYTES_MAX = 256 * 2**20  # 43 frames at 1080x1920 rgb24: a 32-frame batch fits
REPLAY_EXTRA_FRAMES = 8  # frames ffmpeg may read ahead of an encoder that is still opening
# ffmpeg prints its output header once every encoder has opened on the first frame.
_OUTPUT_HEADER = re.compile(r"\[info\] Output #0")


class _Session:
    """One ffmpeg process: a bounded queue of frames, a writer thread, a stderr reader."""

    def __init__(self, argv: list[str], *, queue_frames: int) -> None:
        self.queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=queue_frames)
        self.error: BaseException | None = None
        self.piped = 0  # frames fully written into ffmpeg's stdin
        self.started = threading.Event()  # the encoder opened (ffmpeg wrote its output header)
        self.settled = threading.Event()  # started, or ffmpeg closed its stderr (it is exiting)
        self.stderr: deque[str] = deque(maxlen=200)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.writer = threading.Thread(target=self._write_loop, daemon=True)
        self.writer.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self.stderr.append(line)
            if not self.started.is_set() and _OUTPUT_HEADER.search(line):
                self.started.set()
                self.settled.set()
        self.settled.set()

    def _write_loop(self) -> None:
        assert self.proc.stdin is not None
        try:
            while (frame := self.queue.get()) is not None:
                self.proc.stdin.write(memoryview(frame).cast("B"))
                self.piped += 1
        except (BrokenPipeError, OSError) as exc:
            self.error = exc
            while self.queue.get() is not None:  # let the producer finish without blocking
                pass

    @property
    def dead(self) -> bool:
        return self.error is not None or self.proc.poll() is not None

    def errors(self) -> list[str]:
        return error_lines(list(self.stderr))

    def finish(self, deadline: float) -> tuple[int, float | None]:
        """Send end of stream; (exit code, ffmpeg's peak RSS in MiB). Raises TimeoutExpired."""
        self.queue.put(None)
        self.writer.join(max(1.0, deadline - time.monotonic()))
        peak = process_peak_mb(self.proc.pid)
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            return self.proc.wait(timeout=max(1.0, deadline - time.monotonic())), peak
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        try:
            self.queue.put(None, timeout=5)  # the writer drains after a broken pipe
        except queue.Full:
            pass


class FrameEncoder:
    def __init__(self, out_path: Path, *, width: int, height: int, fps: int,
                 codec: VideoCodec = LIBX264, timeout_s: float = 600.0) -> None:
        self.out_path, self.size, self.fps = out_path, (width, height), fps
        self.codec = active(codec)  # the fallback if this encoder failed mid-video before
        self._partial = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
        self._deadline = time.monotonic() + timeout_s
        self.queue_frames = max(1, min(codec.queue_frames, QUEUE_BYTES_MAX // (width * height * 3)))
        # Frames sent before the encoder opened, kept for a fallback to send again.
        self._replay: list[np.ndarray] | None = [] if self.codec.fallback else None
        self.frames_written = 0
        self.stalls = 0  # writes that had to wait for the encoder (its queue was full)
        self.fallback_reason: str | None = None  # why this video's first encoder was replaced
        self.peak_rss_mb: float | None = None  # ffmpeg's own peak, read just before it exits
        self._session = self._start()

    @property
    def frames_piped(self) -> int:
        """Frames the encoder has taken so far (written into ffmpeg's stdin)."""
        return self._session.piped

    @property
    def _proc(self) -> subprocess.Popen:
        return self._session.proc

    def _start(self) -> _Session:
        return _Session(self._argv(self.codec), queue_frames=self.queue_frames)

    def _argv(self, codec: VideoCodec) -> list[str]:
        w, h = self.size
        scale = (
            "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic,format=yuv420p,"
            "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv")
        return [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "level+info", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(self.fps),
                "-i", "pipe:0", "-an", "-vf", scale, *codec.argv(), *BT709_TAGS,
                "-r", str(self.fps), "-fps_mode", "cfr", str(self._partial)]

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be {self.size[1]}x{self.size[0]}x3 uint8, got "
                             f"{frame.shape} {frame.dtype}")
        frame = np.ascontiguousarray(frame)
        self._ensure_alive()
        if self._replay is not None:
            self._hold(frame)
        self._put(frame)
        self.frames_written += 1

    def _put(self, frame: np.ndarray) -> None:
        try:
            self._session.queue.put_nowait(frame)
            return
        except queue.Full:
            self.stalls += 1
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._fail("encoding took longer than its deadline")
        try:
            self._session.queue.put(frame, timeout=remaining)
        except queue.Full:
            raise self._fail("encoder stalled: no frame accepted before the deadline") from None

    def _hold(self, frame: np.ndarray) -> None:
        """Keep `frame` until the encoder has opened; wait for that when enough are kept."""
        session = self._session
        if len(self._replay) >= self.queue_frames + REPLAY_EXTRA_FRAMES:
            if not session.settled.wait(max(0.0, self._deadline - time.monotonic())):
                raise self._fail(f"{self.codec.name} did not open before the deadline")
            if not session.started.is_set():  # stderr closed without the header: exiting
                try:
                    session.proc.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    session.kill()
            self._ensure_alive()
        if self._replay is not None and self._session.started.is_set():
            self._replay = None  # it runs: nothing will be sent again
        elif self._replay is not None:
            self._replay.append(frame)

    def _ensure_alive(self) -> None:
        session = self._session
        if not session.dead:
            return
        session.settled.wait(5.0)  # let the reader see all that ffmpeg said before exiting
        if self._can_fall_back():
            self._fall_back()
            return
        raise self._fail("ffmpeg stopped accepting frames")

    def _can_fall_back(self) -> bool:
        return (self._replay is not None and self.codec.fallback is not None
                and not self._session.started.is_set())

    def _fall_back(self) -> None:
        """The encoder could not open: start the fallback and send it every frame so far."""
        failed, fallback = self._session, self.codec.fallback
        assert fallback is not None
        why = next(iter(failed.errors()), f"ffmpeg exited with code {failed.proc.returncode}")
        log.warning("%s could not start (%s); encoding %s with %s instead", self.codec.name, why,
                    self.out_path.name, fallback.name)
        failed.kill()
        self._partial.unlink(missing_ok=True)
        self.fallback_reason, self.codec = why, fallback
        replay, self._replay = self._replay or [], [] if fallback.fallback else None
        self._session = self._start()
        for frame in replay:
            if self._replay is not None:
                self._replay.append(frame)
            self._put(frame)

    def close(self) -> None:
        session = self._session
        try:
            code, self.peak_rss_mb = session.finish(self._deadline)
        except subprocess.TimeoutExpired:
            raise self._fail("ffmpeg did not finish before the deadline") from None
        if code != 0 or session.error is not None:
            session.settled.wait(5.0)
            if self._can_fall_back():
                self._fall_back()
                return self.close()
            raise self._fail(f"ffmpeg exited with code {code}")
        os.replace(self._partial, self.out_path)

    def abort(self) -> None:
        """Stop ffmpeg now (on an error elsewhere) and delete the partial file."""
        self._session.kill()
        self._partial.unlink(missing_ok=True)

    def _fail(self, reason: str) -> EncoderError:
        """Stop, delete the partial file, and describe the failure (raise what this returns)."""
        session = self._session
        died = session.dead  # on its own, rather than stopped here for a deadline
        if session.proc.poll() is None:
            session.kill()
        self._partial.unlink(missing_ok=True)
        errors = session.errors()
        if died and self.codec.fallback is not None and session.started.is_set():
            mark_failed(self.codec, errors[0] if errors else reason)
        tail = "\n".join(errors[-8:])
        return EncoderError(f"video encoding failed: {reason}" + (f": {errors[0]}" if errors else ""),
                            details={"stderr_tail": tail, "frames_written": self.frames_written,
                                     "codec": self.codec.name})

    def __enter__(self) -> FrameEncoder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def encode_audio(wav: Path, out_path: Path, *, timeout_s: float, bitrate: str = "192k") -> Path:
    """AAC-LC 48 kHz stereo in an .m4a, made while the video is still being encoded.

    ffmpeg's default `twoloop` coder: the `fast` one takes a third of the CPU time but lost
    3 LU on a dense, noise-like mix (a random-weight voice), which the loudness check caught."""
    run_ffmpeg(["-i", str(wav), "-c:a", "aac", "-b:a", bitrate, "-ar", str(AUDIO_RATE), "-ac", "2",
                str(out_path)], timeout_s=timeout_s)
    return out_path


def mux(video: Path, audio: Path, out_path: Path, *, timeout_s: float) -> None:
    """Both streams copied as they are (audio already AAC), moov atom first."""
    run_ffmpeg(["-i", str(video), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
                "-c", "copy", "-movflags", "+faststart", str(out_path)], timeout_s=timeout_s)
