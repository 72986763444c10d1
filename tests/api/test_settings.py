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


def test_secrets_are_read_from_the_files_their_file_variables_name(tmp_path, monkeypatch):
    (tmp_path / "jwt").write_text("jwt-from-a-file\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "UGEN_API_CALLBACK_SECRET").write_text("callback-from-the-secrets-dir")
    for name in ("UGEN_API_JWT_SECRET", "UGEN_API_CALLBACK_SECRET", "UGEN_API_DEV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UGEN_API_JWT_SECRET_FILE", str(tmp_path / "jwt"))
    monkeypatch.setenv("UGEN_SECRETS_DIR", str(tmp_path / "dir"))
    settings = ApiSettings.from_env()
    assert (settings.jwt_secret, settings.callback_secret) == ("jwt-from-a-file", "callback-from-the-secrets-dir")


def test_an_unreadable_secret_file_stops_the_api_naming_the_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("UGEN_API_JWT_SECRET", "UGEN_API_DEV")}
    env.update(UGEN_API_JWT_SECRET_FILE=str(tmp_path / "missing"), UGEN_API_CALLBACK_SECRET="set")
    done = subprocess.run([sys.executable, "-m", "api", "serve"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"ugen-api: UGEN_API_JWT_SECRET: cannot read its secret file "
                                   f"{tmp_path / 'missing'}: No such file or directory")


def test_the_database_and_dev_secrets_go_to_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("UGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UGEN_API_DEV", "1")
    for name in ("UGEN_API_JWT_SECRET", "UGEN_API_CALLBACK_SECRET", "UGEN_API_SECRETS_FILE",
                 "UGEN_API_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = ApiSettings.from_env()
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'api.sqlite3'}"
    assert (tmp_path / "data" / "api-secrets.json").stat().st_mode & 0o077 == 0
