"""Concurrent requests on both databases: credits never oversold, one job per idempotency key.
The SQLite run is also the check that `make api`'s embedded database works end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.settings import REPO_ROOT
from tests.api.support import ApiServer, completed, job_body


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def any_server(request, new_database, api_logs: Path, tmp_path_factory) -> Iterator[ApiServer]:
    url = new_database() if request.param == "postgresql" else f"sqlite:///{tmp_path_factory.mktemp('db')}/api.sqlite3"
    api = ApiServer(url, api_logs, UGEN_API_SWEEP_INTERVAL_S="3600").start()
    yield api
    api.stop()


def in_parallel(calls: int, fn) -> list:
    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(lambda _: fn(), range(calls)))


def test_parallel_creations_never_reserve_more_credits_than_the_account_has(any_server: ApiServer):
    account = any_server.new_account(credits=700, max_concurrent_jobs=100)
    statuses = in_parallel(16, lambda: account.client.post("/api/v1/jobs", json=job_body()).status_code)
    assert sorted(statuses) == [201] * 10 + [402] * 6
    assert account.client.get("/api/v1/credits/balance").json() == {
        "credit_balance": 700, "credit_reserved": 700, "available_credits": 0}


def test_parallel_requests_with_one_idempotency_key_make_one_job(any_server: ApiServer):
    account = any_server.new_account(credits=1000, max_concurrent_jobs=100)
    responses = in_parallel(8, lambda: account.client.post("/api/v1/jobs", json=job_body(idempotency_key="same")))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["job_id"] for r in responses}) == 1
    assert account.client.get("/api/v1/credits/balance").json()["credit_reserved"] == 70


def test_a_repeated_completion_arriving_in_parallel_settles_once(any_server: ApiServer):
    account = any_server.new_account(credits=1000)
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    acks = in_parallel(6, lambda: any_server.post_event(completed(job_id, 9)).json()["accepted"])
    assert sorted(acks) == [False] * 5 + [True]
    assert account.client.get("/api/v1/credits/balance").json()["available_credits"] == 930


def test_the_command_line_creates_an_account_whose_key_and_token_work(any_server: ApiServer):
    env = {**any_server.env}
    made = subprocess.run([sys.executable, "-m", "api", "create-account", "--name", "cli", "--credits", "75"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    account = json.loads(made.stdout)
    assert account["credits"] == {"credit_balance": 75, "credit_reserved": 0, "available_credits": 75}
    keyed = any_server.client(**{"X-API-Key": account["api_key"]})
    assert keyed.post("/api/v1/jobs", json=job_body()).status_code == 201
    token = subprocess.run([sys.executable, "-m", "api", "token", account["account_id"]], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    balance = any_server.client(Authorization=f"Bearer {token}").get("/api/v1/credits/balance").json()
    assert balance["available_credits"] == 5
