"""GPU memory release and torch out-of-memory errors as a retryable code; no Dramatiq here.

    free_gpu_memory()                # collect garbage, return the CUDA allocator's cache
    as_out_of_memory(exc)            # OutOfMemory (OUT_OF_MEMORY, transient) or None

An exception's traceback keeps its frames' locals, and so their CUDA tensors, alive until a
garbage collection runs; a long-lived worker must not carry one job's tensors into the next.
A torch out-of-memory error in any backend becomes OUT_OF_MEMORY, which is retried: with the
failed job's tensors collected and the allocator's cache emptied, the retry (or the next job)
starts from a clean GPU. Torch is never imported here: if no backend loaded it, there is
nothing on a GPU to free. The worker's `GpuMemory` middleware and `scripts/render_one.py` use
these.
"""

from __future__ import annotations

import gc
import sys

from engine.errors import OutOfMemory

MESSAGE_CHARS = 300  # torch's OOM text is long (allocator advice); its first part says enough


def free_gpu_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()  # returns cached blocks, so the next job's peak fits


def out_of_memory_types() -> tuple[type[BaseException], ...]:
    """torch.OutOfMemoryError (torch.cuda.OutOfMemoryError is the same class), if loaded."""
    torch = sys.modules.get("torch")
    if torch is None:
        return ()
    found = {getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None)}
    return tuple(t for t in found if isinstance(t, type))


def as_out_of_memory(error: BaseException) -> OutOfMemory | None:
    """The transient OUT_OF_MEMORY error for a torch allocator failure; None for anything else."""
    types = out_of_memory_types()
    if not types or not isinstance(error, types):
        return None
    text = " ".join(str(error).split())[:MESSAGE_CHARS]
    return OutOfMemory("the GPU ran out of memory during the render; it is retried once the "
                       "memory is released", details={"error": type(error).__name__, "message": text})
