"""Misconfiguration is loud: a worker process with a setting it cannot use stops at start with a
message that names the variable and what it accepts; a good one logs what it will do."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.settings import REPO_ROOT

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3, API

pytestmark = pytest.mark.integration


def start(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m engine.worker` as a container runs it; a worker that does start is stopped after 30 s."""
    try:
        return subprocess.run([sys.executable, "-m", "engine.worker"], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the worker started anyway:\n{(exc.stderr or b'')[-2000:]}") from None


@pytest.mark.parametrize(("name", "value", "allowed"), [
    ("UGEN_STORAGE", "S3", ["'local'", "'s3'"]),
    ("UGEN_S3_URL_MODE", "signed", ["'public'", "'presigned'"]),
    ("UGEN_LEASE_TTL_S", "30s", ["number"]),
    ("UGEN_MAX_RETRIES", "three", ["integer"]),
])
def test_a_setting_the_worker_cannot_use_stops_it_at_start_naming_the_variable(
        worker_env, name, value, allowed):
    done = start({**worker_env, "UGEN_METRICS_PORT": "0", name: value})
    assert done.returncode == 78, done.stderr[-2000:]
    assert f"{name}={value!r}" in done.stderr and all(word in done.stderr for word in allowed), done.stderr
    assert "Traceback" not in done.stderr


def test_a_starting_worker_logs_its_storage_url_mode_and_the_test_only_url_allowance(start_worker, bucket):
    log = start_worker().log()
    assert f"storage s3 (bucket {bucket}" in log and "URLs public" in log
    assert "private URLs ALLOWED (test only)" in log
