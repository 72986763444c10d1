"""Wall time, CPU time and honest peak memory of a block of work (Linux /proc).

    with measured() as record:            # resets this process's peak, samples its children
        pipeline.run(...)
    record["wall_s"], record["cpu_s"], record["peak_rss_mb"], record["child_peaks_mb"]

    reset_own_peak(); ...; own_peak_mb()  # the same pieces one by one
    with ChildPeaks() as children: ...    # children.peak_mb, children.by_name {"ffmpeg": 61.2}

Why not getrusage: a child's ru_maxrss keeps the parent's resident size at the moment of the
fork (the exec'd ffmpeg "inherits" a 470 MiB peak it never had), and so does RUSAGE_SELF in
a process that was itself started from a big parent. A child's own VmHWM
(/proc/PID/status) belongs to its new address space, so it is sampled while the child runs;
VmHWM is itself a high-water mark, so a sampler only misses growth after its last look,
and children that live shorter than one interval. Off Linux the peaks read as None.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

# VmHWM is a high-water mark, so a slow sampler still sees each long-lived child's peak;
# 0.2 s keeps the sampler itself near 0.5 % of a core (its CPU time is reported).
INTERVAL_S = 0.2


def reset_own_peak() -> bool:
    """Reset this process's peak resident size to its current size (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as file:
            file.write("5")
    except OSError:
        return False
    return True


def own_peak_mb() -> float:
    """This process's peak resident size in MiB since the last reset.

    VmHWM, not ru_maxrss: a process started by fork and exec carries its parent's peak in
    ru_maxrss (the same inheritance as a child's), VmHWM covers only its own address space.
    """
    status = _status(os.getpid())
    if status is not None:
        return status[1]
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    """Direct children of every thread of `pid` (a child belongs to the thread that forked it)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        text = _read(f"/proc/{pid}/task/{task}/children") or ""
        found.extend(int(child) for child in text.split())
    return found


def process_peak_mb(pid: int) -> float | None:
    """A live process's own peak resident size in MiB (VmHWM, since its exec), None once gone."""
    status = _status(pid)
    return None if status is None else status[1]


def _status(pid: int) -> tuple[str, float] | None:
    """(command name, VmHWM in MiB) of a live process, None once it has gone."""
    name, peak = "", None
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("Name:"):
            name = line[len("Name:"):].strip()
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return (name, peak) if peak is not None else None


class ChildPeaks:
    """Largest VmHWM seen per child command name (descendants included), while active.

    Children already running when it starts (a server a test session keeps, say) are not the
    measured work's: they and their descendants are left out."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.by_name: dict[str, float] = {}
        self.available = os.path.isdir("/proc/self/task")
        self.cpu_s = 0.0  # the sampler's own CPU time, to show what measuring costs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-child-peaks", daemon=True)
        self._before: set[int] = set()

    @property
    def peak_mb(self) -> float | None:
        return max(self.by_name.values()) if self.by_name else None

    def sample(self) -> None:
        pending, seen = _children(os.getpid()), set()
        own_cmdline = _read("/proc/self/cmdline")
        while pending:
            pid = pending.pop()
            if pid in seen or pid in self._before:
                continue
            seen.add(pid)
            # A child caught between fork and exec is still this process (same memory, same
            # command line); one in the middle of its exec has no command line yet.
            cmdline = _read(f"/proc/{pid}/cmdline")
            status = _status(pid) if cmdline and cmdline != own_cmdline else None
            if status is not None:
                name, peak = status
                self.by_name[name] = max(peak, self.by_name.get(name, 0.0))
            pending.extend(_children(pid))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()
        self.sample()  # children still running at the end (a caller's last subprocess)
        self.cpu_s = time.thread_time()

    def __enter__(self) -> ChildPeaks:
        if self.available:
            self._before = set(_children(os.getpid()))
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _children_cpu_s() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


@contextmanager
def measured() -> Iterator[dict[str, Any]]:
    """Wall, CPU (this process and its children that finished) and peak memory of a block.

    This process's peak is reset at the start, so `peak_rss_mb` is the block's own peak
    (counting what the process already held); do not nest blocks, the inner reset would hide
    the outer block's earlier peak.
    """
    record: dict[str, Any] = {}
    reset_own_peak()
    wall0, own0, kids0 = time.perf_counter(), time.process_time(), _children_cpu_s()
    with ChildPeaks() as children:
        yield record
    own, kids = time.process_time() - own0, _children_cpu_s() - kids0
    record.update(wall_s=time.perf_counter() - wall0, cpu_s=own + kids, own_cpu_s=own,
                  child_cpu_s=kids, peak_rss_mb=own_peak_mb(),
                  child_peak_rss_mb=children.peak_mb, child_peaks_mb=dict(children.by_name),
                  sampler_cpu_s=children.cpu_s)


def _cuda() -> Any:
    """torch's CUDA module when a backend has already imported torch and a GPU is present."""
    torch = sys.modules.get("torch")  # never imported here: a CPU profile must not pay for it
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda


def sync_gpu() -> None:
    """Wait for queued GPU work, so a timer stopped next measures it; a no-op without CUDA."""
    cuda = _cuda()
    if cuda is not None and cuda.is_initialized():
        cuda.synchronize()


def reset_gpu_peak() -> None:
    """Start torch's GPU peak counters afresh (cached blocks released first)."""
    cuda = _cuda()
    if cuda is not None and cuda.is_initialized():
        cuda.synchronize()
        cuda.empty_cache()
        cuda.reset_peak_memory_stats()


def gpu_peak_gib() -> float | None:
    """torch's peak allocated GPU memory in GiB since the last reset, None without CUDA."""
    cuda = _cuda()
    if cuda is None or not cuda.is_initialized():
        return None
    return cuda.max_memory_allocated() / 2**30


def gpu_memory() -> dict[str, Any] | None:
    """The GPU's name and torch's peak allocated/reserved MiB since the last reset, or None."""
    cuda = _cuda()
    if cuda is None:
        return None
    return {"device": cuda.get_device_name(0),
            "peak_allocated_mb": cuda.max_memory_allocated() / 2**20,
            "peak_reserved_mb": cuda.max_memory_reserved() / 2**20}
