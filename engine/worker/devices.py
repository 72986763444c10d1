"""One GPU per worker process: `ugen-worker --processes N` gives process i the i-th GPU.

    claim_slot(Path("/tmp/ugen-worker-x/slots"), processes=2)   # 0 in one process, 1 in the other
    device_for(slot=1, processes=2, visible="4,5")               # "5"
    too_few_devices(processes=4, visible="0,1")                  # the one-line refusal, or None
    pinned_device(processes=2, device="cuda:1")                  # refused too: each process sees one GPU

Dramatiq does not tell a worker process its index, so each one claims the lowest free slot
file in the run directory ugen-worker made empty at start (O_EXCL: exactly one process gets
each). With more than one process, each then sees only its GPU through CUDA_VISIBLE_DEVICES,
set before anything touches CUDA: the i-th entry of the CUDA_VISIBLE_DEVICES ugen-worker was
started with, else GPU i. One process (the default, one container per GPU) keeps the
environment as it is.
"""

from __future__ import annotations

import os
from pathlib import Path


def claim_slot(slots_dir: Path, *, processes: int) -> int:
    for slot in range(processes):
        try:
            os.close(os.open(slots_dir / str(slot), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        return slot
    raise RuntimeError(f"all {processes} worker slots in {slots_dir} are taken")


def device_for(*, slot: int, processes: int, visible: str | None) -> str | None:
    """The CUDA_VISIBLE_DEVICES of process `slot`; None: leave it as it is."""
    if processes <= 1:
        return None
    listed = [d.strip() for d in (visible or "").split(",") if d.strip()]
    return listed[slot] if listed else str(slot)


def too_few_devices(*, processes: int, visible: str | None) -> str | None:
    listed = [d for d in (visible or "").split(",") if d.strip()]
    if processes > 1 and visible is not None and len(listed) < processes:
        return (f"--processes {processes} needs one GPU per process, but CUDA_VISIBLE_DEVICES={visible!r} "
                f"lists {len(listed)}")
    return None


def pinned_device(*, processes: int, device: str | None) -> str | None:
    """UGEN_DEVICE=cuda:N names a GPU a process under --processes N>1 no longer sees as N."""
    if processes > 1 and device is not None and device.startswith("cuda:"):
        return (f"--processes {processes} gives each process one GPU, seen as cuda:0; UGEN_DEVICE={device} "
                f"cannot apply to all of them (leave it unset, auto or cuda)")
    return None
