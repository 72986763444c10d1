"""Which H.264 encoder a process uses: libx264, or NVENC where the GPU and its driver offer it.

    codec = codec_for_profile("nvenc")   # probes h264_nvenc once per process; libx264 if absent
    codec.argv()                         # ["-c:v", "h264_nvenc", "-preset", "p5", ...]
    active(codec)                        # its fallback once it failed mid-video in this process

`UGEN_ENCODER` overrides the profile: `libx264`; `nvenc` (used without a probe: a job whose
NVENC cannot start still falls back, see FrameEncoder); `auto` (NVENC when the probe passes).
Both encoders get the same frames through the same BT.709 conversion filter (FrameEncoder), so
both meet one contract: H.264 High, yuv420p, BT.709 limited range tagged, constant 30 fps.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace
from typing import Any

from pipelines.encode.ffmpeg import encoder_error

log = logging.getLogger(__name__)

ENCODER_CHOICES = ("libx264", "nvenc", "auto")
PROBE_TIMEOUT_S = 20.0  # CUDA's first context on a cold driver takes a few seconds


@dataclass(frozen=True)
class VideoCodec:
    """One encoder's settings. `crf` is the constant-quality target: libx264's -crf or NVENC's
    -cq (lower is better); `preset` trades speed for size at that quality. `queue_frames` is how
    many composed frames may wait for the encoder. `fallback` takes over when this encoder
    cannot start (NVENC: no device, no driver, no free session)."""

    name: str = "libx264"
    preset: str = "veryfast"
    crf: int = 20
    queue_frames: int = 6
    fallback: VideoCodec | None = None

    def argv(self) -> list[str]:
        if self.name == "h264_nvenc":
            # Constant quality like x264's CRF: VBR with a CQ target and no bitrate cap; spatial
            # AQ moves bits into flat areas (backdrops, caption plates) where NVENC bands first.
            rate = ["-tune", "hq", "-rc", "vbr", "-cq", str(self.crf), "-b:v", "0",
                    "-spatial-aq", "1", "-rc-lookahead", "20"]
        else:
            rate = ["-crf", str(self.crf)]
        return ["-c:v", self.name, "-preset", self.preset, *rate,
                "-profile:v", "high", "-pix_fmt", "yuv420p"]

    def with_burst(self, frames: int) -> VideoCodec:
        """Room for a whole burst of frames (a lip-sync batch), so the producer hands a batch
        over without waiting and goes back to the GPU while the encoder works through it."""
        return replace(self, queue_frames=max(self.queue_frames, frames),
                       fallback=self.fallback.with_burst(frames) if self.fallback else None)


LIBX264 = VideoCodec()
# p5 ("slow, good quality"): about 2/3 of p4's speed, still several hundred fps at 1080x1920
# on one NVENC engine, far above the 30 fps a render needs (research/encoding.md 2.4).
NVENC = VideoCodec(name="h264_nvenc", preset="p5", crf=21, fallback=LIBX264)


@dataclass(frozen=True)
class Probe:
    ok: bool
    reason: str


_lock = threading.Lock()
_probe: Probe | None = None
_failed: dict[str, str] = {}  # codec name -> why it stopped mid-video in this process


def probe_nvenc(*, timeout_s: float = PROBE_TIMEOUT_S) -> Probe:
    """Encode three tiny frames with NVENC's real settings; once per process, then cached."""
    global _probe
    with _lock:
        if _probe is None:
            args = ["-f", "lavfi", "-i", "color=c=gray:s=256x256:r=30", "-frames:v", "3",
                    *NVENC.argv(), "-f", "null", "-"]
            error = encoder_error(args, timeout_s=timeout_s)
            _probe = Probe(False, error) if error else Probe(True, "h264_nvenc encoded 3 frames")
        return _probe


def codec_for_profile(entry: str | dict[str, Any], *, override: str | None = None) -> VideoCodec:
    """The codec for a profile's `encoder` entry (a name, or {backend: NAME}), after the
    `UGEN_ENCODER` override (`override` wins over the environment when given)."""
    name = str(entry["backend"]) if isinstance(entry, dict) else str(entry)
    if isinstance(entry, dict) and entry.get("options"):
        raise ValueError("encoder options are not read from profiles: the encoders' settings "
                         "are fixed so that both meet one output contract")
    choice = (override if override is not None else os.environ.get("UGEN_ENCODER", "")).strip()
    if choice and choice not in ENCODER_CHOICES:
        raise ValueError(f"UGEN_ENCODER must be one of {', '.join(ENCODER_CHOICES)}, not {choice!r}")
    if (choice or name) not in ENCODER_CHOICES:
        raise ValueError(f"unknown encoder {name!r}: the profile may name libx264 or nvenc")
    return _choose(choice or name, forced=choice == "nvenc")


def _choose(wanted: str, *, forced: bool) -> VideoCodec:
    if wanted == "libx264":
        return LIBX264
    if forced:
        log.info("encoder: h264_nvenc (UGEN_ENCODER=nvenc, not probed)")
        return NVENC
    probe = probe_nvenc()
    if probe.ok:
        log.info("encoder: h264_nvenc (probe passed)")
        return NVENC
    log.warning("encoder: h264_nvenc is not available here (%s); using libx264", probe.reason)
    return LIBX264


def active(codec: VideoCodec) -> VideoCodec:
    """`codec`, or its fallback when that encoder already failed mid-video in this process."""
    with _lock:
        return codec.fallback if codec.fallback and codec.name in _failed else codec


def mark_failed(codec: VideoCodec, reason: str) -> None:
    """After a mid-video failure: this process stops using `codec` where it has a fallback."""
    with _lock:
        _failed[codec.name] = reason
    log.warning("encoder: %s failed mid-video (%s); this process uses %s from now on",
                codec.name, reason, codec.fallback.name if codec.fallback else "nothing else")


def forget_failures() -> None:
    """Use every encoder again (tests; or an operator who fixed the driver without a restart)."""
    with _lock:
        _failed.clear()
