"""Worker processes for the tests: the real `dramatiq` command line, in its own process group.

    worker = WorkerProcess(env, log_path).start()      # returns once it consumes
    worker.kill()          # SIGKILL to the whole group: Dramatiq's parent, its child, ffmpeg
    worker.terminate()     # SIGTERM to Dramatiq's parent, which forwards it
    worker.wait(timeout_s=30)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.settings import REPO_ROOT

READY = "Worker process is ready for action"


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout_s: float = 90) -> WorkerProcess:
        # The console entry, which execs the documented dramatiq command line.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "engine.worker"], cwd=REPO_ROOT,
                                            env={**self.env, "PYTHONUNBUFFERED": "1"}, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while READY not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"worker did not start:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        return self

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

