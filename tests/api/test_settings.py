"""Settings: secrets the environment leaves out are made once and kept, so a restart keeps them."""

from __future__ import annotations

from api.settings import ApiSettings


def test_secrets_not_in_the_environment_are_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("UGEN_API_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.delenv("UGEN_API_JWT_SECRET", raising=False)
    monkeypatch.delenv("UGEN_API_CALLBACK_SECRET", raising=False)
    first, again = ApiSettings.from_env(), ApiSettings.from_env()
    assert (first.jwt_secret, first.callback_secret) == (again.jwt_secret, again.callback_secret)
    assert first.jwt_secret != first.callback_secret and len(first.jwt_secret) == 64
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_secrets_in_the_environment_win(tmp_path, monkeypatch):
    monkeypatch.setenv("UGEN_API_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("UGEN_API_JWT_SECRET", "from-the-environment")
    assert ApiSettings.from_env().jwt_secret == "from-the-environment"
