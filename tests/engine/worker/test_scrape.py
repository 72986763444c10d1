"""The metrics directory is emptied at every start, and the processes' progress times become one age."""

from __future__ import annotations

import math

from prometheus_client.core import GaugeMetricFamily

from engine.worker.scrape import multiprocess_env, prepare_run_dir, progress_age


def test_a_given_metrics_directory_is_emptied_and_none_given_makes_a_fresh_one(tmp_path):
    (tmp_path / "counter_42.db").write_bytes(b"stale")
    (tmp_path / "slots").mkdir()
    (tmp_path / "slots" / "0").touch()
    assert prepare_run_dir(str(tmp_path)) == tmp_path and list(tmp_path.iterdir()) == []
    fresh = prepare_run_dir(None)
    assert fresh.is_dir() and list(fresh.iterdir()) == []
    env = multiprocess_env(fresh)
    assert env["PROMETHEUS_MULTIPROC_DIR"] == env["dramatiq_prom_db"] == str(fresh)
    assert env["UGEN_WORKER_SLOTS_DIR"] == str(fresh / "slots") and (fresh / "slots").is_dir()
    fresh.joinpath("slots").rmdir()
    fresh.rmdir()


def timestamps(*values: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily("ugen_last_progress_timestamp_seconds", "", labels=["pid"])
    for pid, value in enumerate(values):
        family.add_metric([str(pid)], value)
    return family


def test_the_age_is_the_stalest_busy_process_and_zero_when_all_are_idle():
    assert progress_age(timestamps(math.inf, 990.0, 995.0), now=1000.0).samples[0].value == 10.0
    assert progress_age(timestamps(math.inf, math.inf), now=1000.0).samples[0].value == 0.0
    assert progress_age(timestamps(), now=1000.0).samples[0].value == 0.0
    assert progress_age(timestamps(1001.0), now=1000.0).samples[0].value == 0.0  # a clock step back
