"""Which torch device and dtype a backend runs on, and what is wrong with a request.

    device = resolve_device("auto")            # "cuda" when a GPU is visible, else "cpu"
    dtype = resolve_dtype(device, "auto")      # "float16" on CUDA, "float32" on the CPU
    device_problems("segmentation cut-out", device="cuda", dtype="auto")   # [] or messages

"auto" is the default everywhere. An explicit "cuda" on a machine without one is not quietly
turned into "cpu": `device_problems` names it so the worker refuses to start, and
`resolve_device` raises. Half precision on the CPU is refused the same way. Torch is imported
only when a question needs it (an "auto" or "cuda" device); "cpu" needs nothing.
"""

from __future__ import annotations

import importlib.util

DTYPES = ("auto", "float16", "bfloat16", "float32")
DTYPE_ALIASES = {"fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp32": "float32",
                 "float": "float32"}


def is_cuda(device: str) -> bool:
    return device == "cuda" or device.startswith("cuda:")


def cuda_available() -> bool:
    """False without torch, or with a CPU-only torch, or with no visible GPU."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(requested: str | None) -> str:
    """"auto"/None: "cuda" when available, else "cpu"; anything else as given, if usable."""
    requested = requested or "auto"
    if requested == "auto":
        return "cuda" if cuda_available() else "cpu"
    problems = _device_problems(requested)
    if problems:
        raise RuntimeError(problems[0])
    return requested


def canonical_dtype(requested: str | None) -> str:
    name = str(requested or "auto").lower()
    return DTYPE_ALIASES.get(name, name)


def resolve_dtype(device: str, requested: str | None = "auto") -> str:
    """"auto": float16 on CUDA, float32 on the CPU; an explicit dtype as given, if usable."""
    dtype = canonical_dtype(requested)
    if dtype == "auto":
        return "float16" if is_cuda(device) else "float32"
    problems = _dtype_problems(device, dtype)
    if problems:
        raise ValueError(problems[0])
    return dtype


def device_problems(backend: str, *, device: str | None, dtype: str | None = "auto") -> list[str]:
    """Human-readable reasons why `backend` cannot run on `device` in `dtype` here."""
    device = device or "auto"
    problems = [f"{backend}: {p}" for p in _device_problems(device)]
    dtype = canonical_dtype(dtype)
    if problems or dtype in ("auto", "float32"):  # nothing more to ask torch about
        return problems
    effective = device if device != "auto" else ("cuda" if cuda_available() else "cpu")
    return [f"{backend}: {p}" for p in _dtype_problems(effective, dtype)]


def _device_problems(device: str) -> list[str]:
    if device in ("auto", "cpu"):
        return []
    if not is_cuda(device):
        return [f"device must be auto, cpu, cuda or cuda:N, not {device!r}"]
    if not cuda_available():
        return [(f"device {device!r} was asked for but no CUDA device is available here "
                 "(set device: auto or cpu, or run on a GPU machine with a CUDA build of torch)")]
    index = device.partition(":")[2]
    if index:
        import torch

        count = torch.cuda.device_count()
        if not index.isdigit() or int(index) >= count:
            return [(f"device {device!r} was asked for but this machine has {count} CUDA "
                     "device(s)")]
    return []


def _dtype_problems(device: str, dtype: str) -> list[str]:
    if dtype not in DTYPES:
        return [f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}"]
    if dtype in ("float16", "bfloat16") and not is_cuda(device):
        return [f"dtype {dtype} needs a CUDA device; on {device!r} use float32 or auto"]
    return []
