"""Shared fixtures: one loaded pipeline per test session, and renders reused across tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.settings import REPO_ROOT, Settings
from engine.spec import parse_job
from models.registry import Registry
from pipelines.render import RenderPipeline

JOBS = REPO_ROOT / "configs" / "jobs"


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    work = tmp_path_factory.mktemp("work")
    return Settings(cache_dir=tmp_path_factory.mktemp("cache"), work_root=work)


@pytest.fixture(scope="session")
def pipeline(settings) -> RenderPipeline:
    registry = Registry.from_profile(settings.configs_dir / "profiles" / "cpu.yaml",
                                     cache_dir=settings.cache_dir)
    return RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                          settings=settings)


def render(pipeline: RenderPipeline, out_dir: Path, *, notices: list[str] | None = None, **fields):
    """Render a job built from `fields` (relative image paths are under configs/jobs); the
    render's notices are appended to `notices` when given."""
    raw = {"product_image_url": str(JOBS / "espresso_cup.png"), "video_resolution": "draft",
           "segment_count": 2, "segment_duration": 4, "product_name": "Espresso Cups", **fields}
    events: list[tuple[str, float]] = []
    result = pipeline.run(parse_job(raw), out_dir=out_dir, allow_local_files=True,
                          on_progress=lambda stage, percent: events.append((stage, percent)),
                          on_notice=None if notices is None else notices.append)
    return result, events


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def ffprobe_available() -> None:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: run `make sysdeps` (Debian's ffmpeg package)")
