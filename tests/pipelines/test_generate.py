"""The look-ahead runs a frame source ahead of its consumer, bounded, and stops with it."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.generate import Lookahead


def _wait_for(predicate, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_every_item_arrives_in_order_and_the_end_stays_the_end():
    with Lookahead(iter(range(50)), frames=4, timeout_s=5) as items:
        assert [next(items) for _ in range(50)] == list(range(50))
        assert next(items, None) is None and next(items, None) is None


def test_the_source_runs_ahead_of_the_consumer_by_at_most_the_bound():
    produced = []

    def source():
        for i in range(100):
            produced.append(i)
            yield i

    with Lookahead(source(), frames=8, timeout_s=5) as items:
        assert next(items) == 0
        # Eight frames wait in the queue and a ninth is ready to go in: no more.
        assert _wait_for(lambda: len(produced) >= 9)
        time.sleep(0.2)
        assert 9 <= len(produced) <= 10


def test_an_error_in_the_source_reaches_the_consumer_after_the_frames_before_it():
    def source():
        yield 1
        yield 2
        raise MemoryError("out of device memory")

    with Lookahead(source(), frames=4, timeout_s=5) as items:
        assert next(items) == 1 and next(items) == 2
        with pytest.raises(MemoryError, match="out of device memory"):
            next(items)
        assert next(items, None) is None


def test_leaving_early_stops_a_producer_blocked_on_a_full_queue():
    def endless():
        while True:
            yield threading.get_ident()

    lookahead = Lookahead(endless(), frames=2, timeout_s=5)
    next(lookahead)
    lookahead.close()
    assert not lookahead._thread.is_alive()


def test_a_source_that_stalls_past_the_deadline_is_reported():
    release = threading.Event()

    def stalled():
        release.wait(10)
        yield 0

    with Lookahead(stalled(), frames=2, timeout_s=0.2) as items:
        with pytest.raises(TimeoutError, match="produced nothing"):
            next(items)
        release.set()
