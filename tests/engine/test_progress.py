import pytest

from engine.progress import StageTracker
from engine.spec import STAGES


def test_percent_never_decreases_even_when_a_stage_reports_backwards():
    seen = []
    tracker = StageTracker(lambda stage, percent: seen.append((stage, percent)))
    with tracker.stage("prepare") as report:
        report(0.8)
        report(0.2)
    with tracker.stage("generation") as report:
        for fraction in (0.1, 0.5, 0.3, 1.0):
            report(fraction)
    percents = [p for _, p in seen]
    assert percents == sorted(percents)
    assert percents[-1] <= 100


def test_all_stages_in_order_end_at_one_hundred_percent_with_timings():
    seen = []
    tracker = StageTracker(lambda stage, percent: seen.append((stage, percent)))
    for stage in STAGES:
        with tracker.stage(stage):
            pass
    assert seen[-1] == ("complete", 100.0)
    assert list(tracker.timings) == list(STAGES)
    assert all(t.wall_s >= 0 and t.peak_rss_mb > 0 for t in tracker.timings.values())


def test_a_failing_stage_records_no_timing_and_propagates():
    tracker = StageTracker()
    with pytest.raises(RuntimeError):
        with tracker.stage("agents"):
            raise RuntimeError("boom")
    assert "agents" not in tracker.timings
