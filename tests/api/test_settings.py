"""Settings: the API will not start without its secrets, except in the local dev mode, which
makes them once and keeps them, so a restart keeps them."""

from __future__ import annotations

import os
import subprocess
import sys

from api.settings import ApiSettings
from engine.settings import REPO_ROOT
from tests.support.seaweed import free_port


def test_in_dev_mode_secrets_not_in_the_environment_are_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("UGEN_API_DEV", "1")
    monkeypatch.setenv("UGEN_API_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.delenv("UGEN_API_JWT_SECRET", raising=False)
    monkeypatch.delenv("UGEN_API_CALLBACK_SECRET", raising=False)
    first, again = ApiSettings.from_env(), ApiSettings.from_env()
    assert (first.jwt_secret, first.callback_secret) == (again.jwt_secret, again.callback_secret)
    assert first.jwt_secret != first.callback_secret and len(first.jwt_secret) == 64
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_secrets_in_the_environment_win(tmp_path, monkeypatch):
    monkeypatch.setenv("UGEN_API_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("UGEN_API_DEV", "1")
    monkeypatch.setenv("UGEN_API_JWT_SECRET", "from-the-environment")
    assert ApiSettings.from_env().jwt_secret == "from-the-environment"


def test_without_its_secrets_the_api_refuses_to_start_outside_dev_mode(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("UGEN_API_JWT_SECRET", "UGEN_API_CALLBACK_SECRET",
                                                            "UGEN_API_DEV")}
    env.update(UGEN_API_SECRETS_FILE=str(tmp_path / "secrets.json"), UGEN_API_CALLBACK_SECRET="set",
               UGEN_API_DATABASE_URL=f"sqlite:///{tmp_path}/api.sqlite3", UGEN_API_PORT=str(free_port()))
    try:
        done = subprocess.run([sys.executable, "-m", "api", "serve"], env=env, capture_output=True, text=True,
                              timeout=30, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        raise AssertionError("the API started without UGEN_API_JWT_SECRET") from None
    assert done.returncode == 2, done.stderr[-2000:]
    assert "UGEN_API_JWT_SECRET is not set" in done.stderr and "UGEN_API_DEV=1" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "secrets.json").exists()


def test_a_setting_the_api_cannot_use_stops_it_at_start_naming_the_variable(tmp_path):
    env = {**os.environ, "UGEN_API_SECRETS_FILE": str(tmp_path / "secrets.json"),
           "UGEN_API_CONCURRENT_JOBS": "five"}
    done = subprocess.run([sys.executable, "-m", "api", "serve"], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 78, done.stderr[-2000:]
    assert "UGEN_API_CONCURRENT_JOBS='five'" in done.stderr and "integer" in done.stderr
    assert "Traceback" not in done.stderr
