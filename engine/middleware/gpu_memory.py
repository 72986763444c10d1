"""GPU memory cleanup after every job.

    GpuMemory()   # in the worker's middleware list

An exception's traceback keeps its frames' locals, and so their CUDA tensors, alive until a
garbage collection runs; a long-lived worker must not carry one job's tensors into the next.
Dramatiq holds a failed message's exception until after the last hook, so the cleanup runs
again before the next job starts. Torch is never imported here: if no backend loaded it, there
is nothing on a GPU to free.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from dramatiq import Middleware


def free_gpu_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()  # returns cached blocks, so the next job's peak fits


class GpuMemory(Middleware):
    def before_process_message(self, broker: Any, message: Any) -> None:
        free_gpu_memory()

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        free_gpu_memory()

    after_skip_message = after_process_message
