"""Fixtures for the control-plane tests: a throwaway PostgreSQL database per session and a real
API server (`python -m api serve`) on a loopback port, reached over HTTP with httpx."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from tests.api.support import REDIS_URL, Account, ApiServer

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@pytest.fixture(scope="session")
def new_database() -> Iterator[Callable[[], str]]:
    """new_database() -> the URL of an empty PostgreSQL database; all are dropped after the session."""
    try:
        admin = psycopg.connect(ADMIN_DSN, autocommit=True)
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL is not reachable ({exc})")
    names: list[str] = []

    def create() -> str:
        names.append(f"ugen_api_{uuid.uuid4().hex[:12]}")
        admin.execute(f'CREATE DATABASE "{names[-1]}"')
        return f"postgresql://postgres@127.0.0.1:5432/{names[-1]}"

    yield create
    for name in names:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def database_url(new_database: Callable[[], str]) -> str:
    return new_database()


@pytest.fixture(scope="session")
def api_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="session")
def redis8() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield client
    for key in client.scan_iter("dramatiq:api-test-*"):
        client.delete(key)


@pytest.fixture(scope="session")
def server(database_url: str, api_logs: Path, redis8: redis.Redis) -> Iterator[ApiServer]:
    api = ApiServer(database_url, api_logs).start()
    yield api
    api.stop()


@pytest.fixture
def account(server: ApiServer) -> Account:
    return server.new_account(credits=1000)
