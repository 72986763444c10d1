"""Liveness from the age of the last progress, for a container probe.

    Liveness(Path("/tmp/ugen-worker"), stall_s=300)   # in the worker's middleware list
    ugen-worker check                                  # the probe: exit 0 alive, 1 not

Each worker process keeps `<dir>/<pid>.json` up to date: idle, or busy with a job and the time
of its last progress. A render stuck in native code (a hung CUDA call, a wedged ffmpeg pipe)
stops reporting progress while the process still answers signals; the probe sees a busy
process whose last progress is older than `stall_s` and the orchestrator restarts the container.
The job is not lost: its message was never acked and its lease expires.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from dramatiq import Middleware

from engine.worker.middleware.job_context import current_job

log = logging.getLogger(__name__)
TICK_S = 5.0


class Liveness(Middleware):
    def __init__(self, directory: Path, *, stall_s: float) -> None:
        self.directory, self.stall_s = directory, stall_s
        self.state: dict[str, Any] = {"busy": False, "job_id": None, "last_progress": time.time()}
        self._lock = threading.Lock()
        self._written_at = 0.0

    @property
    def path(self) -> Path:
        return self.directory / f"{os.getpid()}.json"

    def after_process_boot(self, broker: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self._tick, name="ugen-liveness", daemon=True).start()

    def before_process_message(self, broker: Any, message: Any) -> None:
        context = current_job()
        self._update(busy=True, job_id=context.job_id if context else None)
        if context is not None:
            context.listen(lambda stage, percent: self._update())

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        self._update(busy=False, job_id=None)

    after_skip_message = after_process_message

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self.path.unlink(missing_ok=True)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self.state.update(changes, last_progress=time.time())
            if changes or time.monotonic() - self._written_at >= 1.0:  # progress comes per frame
                self._write()

    def _tick(self) -> None:
        while True:  # an idle worker is alive: refresh its file so the probe can tell it exists
            with self._lock:
                if not self.state["busy"]:
                    self.state["last_progress"] = time.time()
                self._write()
            time.sleep(TICK_S)

    def _write(self) -> None:
        partial = self.path.with_suffix(".partial")
        try:
            partial.write_text(json.dumps({**self.state, "pid": os.getpid(), "stall_s": self.stall_s}))
            os.replace(partial, self.path)
            self._written_at = time.monotonic()
        except OSError as exc:
            log.warning("cannot write liveness file %s: %s", self.path, exc)


def check_liveness(directory: Path, *, now: float | None = None) -> tuple[bool, str]:
    """(alive, why): every live worker process is idle or made progress within its stall_s."""
    now = time.time() if now is None else now
    live = 0
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced right now
        if not pid_alive(int(state.get("pid", 0))):
            continue
        live += 1
        age = now - float(state["last_progress"])
        if state.get("busy") and age > float(state["stall_s"]):
            return False, f"pid {state['pid']} busy with {state.get('job_id')}: no progress for {age:.0f} s"
        if not state.get("busy") and age > 6 * TICK_S:
            return False, f"pid {state['pid']} idle but its heartbeat is {age:.0f} s old"
    return (True, "ok") if live else (False, f"no live worker has reported in {directory}")


def pid_alive(pid: int) -> bool:
    """True for a running process; a zombie (killed, not yet reaped) counts as dead."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal check
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
