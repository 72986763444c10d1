"""Worker processes for the tests: the real `dramatiq` command line, in its own process group.

    worker = WorkerProcess(env, log_path).start()      # returns once it consumes and serves metrics
    worker.kill()          # SIGKILL to the whole group: Dramatiq's parent, its child, ffmpeg
    worker.terminate()     # SIGTERM to Dramatiq's parent, which forwards it
    worker.wait(timeout_s=30)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from engine.settings import REPO_ROOT

READY = "Worker process is ready for action"


def start_logged(argv: list[str], *, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """A process in its own session (so its group can be killed), output appended to a file."""
    with log_path.open("ab") as log:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def await_ready(process: subprocess.Popen, ready, *, timeout_s: float, what: str, log, stop) -> None:
    """Poll `ready()` until true; if the process dies or time runs out, `stop()` it and fail
    with the tail of its `log()`."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            raise AssertionError(f"{what} did not start:\n{log()[-4000:]}")
        time.sleep(0.1)


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout_s: float = 90) -> WorkerProcess:
        # The console entry, which execs the documented dramatiq command line.
        self.process = start_logged([sys.executable, "-m", "engine.worker"],
                                    env={**self.env, "PYTHONUNBUFFERED": "1"}, log_path=self.log_path)
        await_ready(self.process, lambda: READY in self.log() and self._serving_metrics(), timeout_s=timeout_s,
                    what="worker", log=self.log, stop=self.kill)
        return self

    def _serving_metrics(self) -> bool:
        """The metrics server starts a moment after the worker processes (a Dramatiq fork)."""
        port = int(self.env.get("UGEN_METRICS_PORT") or 0)
        if not port:
            return True
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, *, timeout_s: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

