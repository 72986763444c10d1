"""Shipped files and written files: the checkout's folders in dev mode, the package's and the
user's XDG directories once installed."""

from __future__ import annotations

from pathlib import Path

import engine.locations as locations


def test_a_checkout_reads_its_own_configs_and_keeps_its_writes_in_out():
    assert locations.source_checkout()
    assert locations.configs_root() == locations.REPO_ROOT / "configs"
    assert locations.data_root() == locations.REPO_ROOT / "out"
    assert locations.cache_root() == locations.REPO_ROOT / ".cache"


def test_installed_it_reads_the_bundled_configs_and_writes_under_the_xdg_directories(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "REPO_ROOT", tmp_path)  # site-packages: no pyproject.toml beside engine/
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert not locations.source_checkout()
    assert locations.configs_root() == Path(locations.__file__).resolve().parent / "configs"
    assert locations.data_root() == tmp_path / "data" / "ugen-engine"
    assert locations.cache_root() == tmp_path / "home" / ".cache" / "ugen-engine"
    assert locations.models_root() == tmp_path / "data" / "ugen-engine" / "models"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec: only absolute paths count
    assert locations.data_root() == tmp_path / "home" / ".local" / "share" / "ugen-engine"
