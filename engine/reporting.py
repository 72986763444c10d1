"""Progress events for the API: their bodies, their signature, and a throttled reporter.

    reporter = ProgressReporter(emit=lambda stage, percent, message: ..., interval_s=1.0)
    pipeline.run(spec, out_dir=..., on_progress=reporter.update)   # never blocks the render
    reporter.update("complete", 97.0, message="QA ... rendering again")   # sent, not coalesced
    reporter.close()                                                 # the last update goes out

    body = completed_event(job_id="j1", attempt=1, objects=uploaded, report=result.report)
    headers = signed_headers(secret, encode(body))     # X-UGen-Timestamp, X-UGen-Signature

The event contract is in ARCHITECTURE.md. `seq` (per job, across attempts and workers) and the
never-decreasing `progress_percent` are assigned when an event enters the outbox
(engine/worker/outbox.py), which delivers it. The signature is hex HMAC-SHA256(secret,
timestamp + "." + raw body), the timestamp being Unix seconds, as U-Gen signs its webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.errors import UGenError

log = logging.getLogger(__name__)

STAGE_MESSAGES = {
    "prepare": "Preparing the product image and persona",
    "agents": "Writing the script",
    "init": "Synthesizing the voice and laying out the scene",
    "generation": "Rendering the video",
    "concat": "Joining video and audio",
    "audio": "Checking the audio mix",
    "captions": "Writing captions",
    "complete": "Finishing up",
}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256).hexdigest()


def signed_headers(secret: str | None, raw_body: bytes, *, now_s: float | None = None) -> dict[str, str]:
    timestamp = str(int(now_s if now_s is not None else time.time()))
    headers = {"Content-Type": "application/json", "X-UGen-Timestamp": timestamp}
    if secret:  # like U-Gen's webhooks: no secret, no signature
        headers["X-UGen-Signature"] = sign(secret, timestamp, raw_body)
    return headers


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(job_id: str, attempt: int, status: str, stage: str, percent: float, message: str) -> dict[str, Any]:
    return {"job_id": job_id, "attempt": attempt, "status": status, "current_stage": stage,
            "progress_percent": round(percent, 1), "message": message, "timestamp": _now_iso()}


def processing_event(*, job_id: str, attempt: int, stage: str, percent: float,
                     message: str | None = None) -> dict[str, Any]:
    return _event(job_id, attempt, "processing", stage, percent, message or STAGE_MESSAGES.get(stage, stage))


def completed_event(*, job_id: str, attempt: int, objects: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """`objects`: artifact name -> StoredObject (url, size_bytes) from engine.worker.storage."""
    video, thumb, vtt = (objects.get(n) for n in ("final.mp4", "thumbnail.jpg", "captions.vtt"))
    body = _event(job_id, attempt, "completed", "complete", 100.0, "Video ready")
    body.update(final_video_url=video.url if video else None, thumbnail_url=thumb.url if thumb else None,
                captions_url=vtt.url if vtt else None, size_bytes=video.size_bytes if video else None,
                duration_s=report.get("video_duration_s"), width=report.get("width"),
                height=report.get("height"), qa_score=(report.get("qa") or {}).get("score"),
                objects={name: {"bucket": o.bucket, "key": o.key} for name, o in objects.items()})
    return body


def failed_event(*, job_id: str, attempt: int, error: UGenError, stage: str, percent: float) -> dict[str, Any]:
    """The error as its owner may see it (`UGenError.public`): no internal hosts, paths or stderr."""
    public = error.public()
    body = _event(job_id, attempt, "failed", stage, percent, public["message"])
    body["error"] = public
    return body


class ProgressReporter:
    """Coalesces `update(stage, percent)` calls into at most one event per interval, plus one
    at every stage change and one for every update with a `message` (in the order made), and
    hands them to `emit(stage, percent, message)` from its own thread; `message` is None for a
    plain update (the stage's own message)."""

    def __init__(self, emit: Callable[[str, float, str | None], None], *,
                 interval_s: float = 1.0) -> None:
        self._emit, self.interval_s = emit, interval_s
        self._updates: deque[tuple[str, float, str | None]] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._sent_stage: str | None = None
        self._sent_at = 0.0
        self._pending: tuple[str, float] | None = None
        self._thread = threading.Thread(target=self._run, name="ugen-progress", daemon=True)
        self._thread.start()

    def update(self, stage: str, percent: float, message: str | None = None) -> None:
        """Called on the render thread: records the update and returns at once."""
        with self._wake:
            self._updates.append((stage, percent, message))
            self._wake.notify()

    def close(self, *, timeout_s: float = 10.0) -> None:
        """Sends what is still pending, then stops the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._updates and not self._closed:
                    self._wake.wait(timeout=self._wait_s())
                batch, closed = list(self._updates), self._closed
                self._updates.clear()
            self._handle(batch, final=closed)
            if closed:
                return

    def _wait_s(self) -> float | None:
        if self._pending is None:
            return None
        return max(0.0, self._sent_at + self.interval_s - time.monotonic())

    def _handle(self, batch: list[tuple[str, float, str | None]], *, final: bool) -> None:
        for stage, percent, message in batch:
            if message is not None:  # a notice goes out as made, after what came before it
                if self._pending is not None:
                    self._send(*self._pending)
                self._send(stage, percent, message)
            elif stage != self._sent_stage:
                self._send(stage, percent)  # every stage change goes out at once
            else:
                self._pending = (stage, percent)
        due = time.monotonic() >= self._sent_at + self.interval_s
        if self._pending is not None and (due or final):
            self._send(*self._pending)

    def _send(self, stage: str, percent: float, message: str | None = None) -> None:
        self._pending = None
        self._sent_stage, self._sent_at = stage, time.monotonic()
        try:
            self._emit(stage, percent, message)
        except Exception:  # noqa: BLE001 - a progress event is best effort; the render goes on
            log.warning("progress event for %s %.1f%% not queued", stage, percent, exc_info=True)
