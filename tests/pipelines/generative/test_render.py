"""Integration: a draft render through the whole generative tier on tiny random releases (CPU)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest

from engine.catalog import Catalog
from engine.settings import Settings
from engine.spec import parse_job
from models.registry import Registry
from pipelines.render import RenderPipeline
from tests.conftest import JOBS, ffprobe
from tests.support.generative import generative_test_profile, write_generative_models

pytestmark = pytest.mark.integration
pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def generative(tmp_path_factory):
    root = tmp_path_factory.mktemp("generative")
    models = write_generative_models(root / "models")
    profile = generative_test_profile(root / "gpu-generative-test.yaml")
    settings = replace(Settings.from_env(), models_dir=models, cache_dir=root / "cache",
                       work_root=root)
    return settings, profile


@pytest.fixture(scope="module")
def rendered(generative, tmp_path_factory):
    settings, profile = generative
    registry = Registry.from_settings(settings, profile=str(profile))
    assert registry.requirements() == []
    pipeline = RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                              settings=settings)
    spec = parse_job({"product_name": "Espresso Cups", "product_image_url": str(JOBS / "espresso_cup.png"),
                      "segment_count": 1, "segment_duration": 3, "video_resolution": "draft",
                      "environment_description": "a sunny kitchen counter", "persona_id": "eileen",
                      "seed": 4})
    out = tmp_path_factory.mktemp("out")
    return pipeline.run(spec, out_dir=out, allow_local_files=True), out


def test_the_draft_is_a_conformant_mp4_of_the_voice_tracks_duration(rendered, ffprobe_available):
    result, out = rendered
    probe = ffprobe(out / "final.mp4")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (360, 640)
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "30/1"
    assert int(video["nb_frames"]) == result.report["frames"]
    assert abs(float(video["duration"]) - result.report["video_duration_s"]) <= 1 / 30
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / 30
    assert result.report["video_duration_s"] >= 3.0


def test_the_report_has_the_keyframe_and_motion_stages(rendered):
    result, out = rendered
    report = json.loads((out / "report.json").read_text())
    assert report == json.loads(json.dumps(result.report))
    generative = report["generative"]
    assert generative["keyframe"]["backend"] == "qwen-image-edit"
    assert generative["keyframe"]["count"] == 1  # one talking shot: the anchor is its keyframe
    assert generative["keyframe"]["items"][0]["references"] == 2  # portrait + product
    assert generative["motion"]["backend"] == "wan" and generative["motion"]["clips"] == 1
    clip = generative["motion"]["items"][0]
    assert (clip["fps"], clip["frames"]) == (24.0, 37)  # 1.5 s cap -> 4k + 1 frames
    assert generative["motion"]["wall_s"] > 0 and generative["keyframe"]["wall_s"] > 0
    assert [entry["shot"] for entry in generative["lipsync"]] == [0]
    assert set(report["stages"]) == {"prepare", "agents", "init", "generation", "concat", "audio",
                                     "captions", "complete"}


def test_a_missing_component_is_backend_unavailable_naming_its_path(generative, tmp_path):
    settings, profile = generative
    models = shutil.copytree(settings.models_dir, tmp_path / "models")
    shutil.rmtree(models / "wan2.2-ti2v-5b" / "transformer")
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"product_name": "Cups", "product_image_url": str(JOBS / "espresso_cup.png"),
                                "segment_count": 1, "segment_duration": 3}))
    done = subprocess.run([sys.executable, "scripts/render_one.py", str(spec), "--out",
                           str(tmp_path / "out"), "--profile", str(profile)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "UGEN_MODELS_DIR": str(models)})
    assert done.returncode != 0
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "BACKEND_UNAVAILABLE"
    assert str(models / "wan2.2-ti2v-5b" / "transformer") in json.dumps(error)
    assert not (tmp_path / "out" / "final.mp4").exists()
