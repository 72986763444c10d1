"""Run a frame source ahead of its consumer, in a thread, at most a bounded number of frames.

    with Lookahead(animator.animate(prepared, speech, ...), frames=16, timeout_s=600) as patches:
        for patch in patches:       # batch k is composed and encoded while batch k+1 computes
            ...

For a batched lip-sync backend on a GPU: without it, the GPU idles while a batch is composed
and handed to the encoder, and composing waits while the GPU works. torch and OpenCV release
the GIL during their work, so the two overlap. An error in the source is raised to the
consumer at the frame where it happened; leaving the `with` block stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
_ITEM, _END, _ERROR = "item", "end", "error"
POLL_S = 0.1  # how often a blocked producer checks whether the consumer has gone


class Lookahead(Generic[T]):
    def __init__(self, source: Iterator[T], *, frames: int, timeout_s: float) -> None:
        if frames < 1:
            raise ValueError(f"frames must be at least 1, got {frames}")
        self.timeout_s = timeout_s
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=frames)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(source,), daemon=True,
                                         name="ugen-lookahead")
        self._thread.start()

    def _produce(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put((_ERROR, exc))

    def _put(self, message: tuple[str, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Lookahead[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        try:
            kind, value = self._queue.get(timeout=self.timeout_s)
        except queue.Empty:
            raise TimeoutError(f"the frame source produced nothing for {self.timeout_s:.0f} s") from None
        if kind == _ITEM:
            return value  # type: ignore[return-value]
        self._finished = True
        if kind == _ERROR:
            raise value  # type: ignore[misc]
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def __enter__(self) -> Lookahead[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
