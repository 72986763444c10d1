"""A broker that is down: one stable line and exit 69 from ugen-enqueue and ugen-worker, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from engine.settings import REPO_ROOT
from engine.worker.reachability import broker_down, down_line, redacted
from tests.support.seaweed import free_port


def test_a_closed_port_is_down_and_the_line_hides_the_password():
    url = f"amqp://guest:secret@127.0.0.1:{free_port()}/"
    why = broker_down(url, timeout_s=2)
    assert why == "connection refused"
    assert down_line("ugen-enqueue", url, why) == (
        f"ugen-enqueue: broker {redacted(url)} is unreachable (connection refused)")
    assert "secret" not in redacted(url)


def test_a_listening_broker_is_not_down():
    assert broker_down("redis://127.0.0.1:6379/0") is None
    assert broker_down("redis:///no-host") == "the URL names no host and port"


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_ugen_enqueue_says_the_broker_is_down_in_one_line_and_exits_69(tmp_path):
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"product_name": "Cups", "product_image_url": "https://example.com/c.png",
                                "segment_count": 1}))
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = run(["scripts/enqueue_job.py", str(spec), "--broker", url])
    assert done.returncode == 69
    assert done.stderr == f"ugen-enqueue: broker {url} is unreachable (connection refused)\n"


def test_ugen_worker_says_the_broker_is_down_in_one_line_and_exits_69():
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = run(["-m", "engine.worker"], UGEN_BROKER_URL=url, UGEN_PROFILE="cpu")
    assert done.returncode == 69, done.stderr[-2000:]
    assert done.stderr == f"ugen-worker: broker {url} is unreachable (connection refused)\n"
