"""GPU memory cleanup before and after every job (see engine/gpu_memory.py).

    GpuMemory()                      # in the worker's middleware list

Dramatiq holds a failed message's exception until after the last hook, so the cleanup runs
again before the next job starts.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Middleware

from engine.gpu_memory import free_gpu_memory


class GpuMemory(Middleware):
    def before_process_message(self, broker: Any, message: Any) -> None:
        free_gpu_memory()

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        free_gpu_memory()

    after_skip_message = after_process_message
