"""Integration: a draft render through the whole generative tier on tiny random releases (CPU)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import av
import numpy as np
import pytest

from engine.catalog import Catalog
from engine.settings import Settings
from engine.spec import parse_job
from models.registry import Registry
from pipelines.compose.product_use import hero_image
from pipelines.compose.shot_layout import shot_boxes
from pipelines.product import load_product
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
    # The copywriter plans this script as: hook close-up, the selling point's cutaway, close-up,
    # end card (the same plan the CPU edit cuts).
    spec = parse_job({"product_name": "Espresso Cups", "product_image_url": str(JOBS / "espresso_cup.png"),
                      "segment_count": 2, "segment_duration": 4, "video_resolution": "draft",
                      "key_selling_points": ["keeps espresso hot"],
                      "environment_description": "a sunny kitchen counter", "persona_id": "eileen",
                      # random weights draw no real face: QA measures and reports, it does not gate
                      "seed": 4, "qai_enabled": False})
    out = tmp_path_factory.mktemp("out")
    result = pipeline.run(spec, out_dir=out, allow_local_files=True)
    cutout = load_product(spec.product_image_url, limits=settings.fetch, allow_local_files=True,
                          cutout=registry.cutout())
    return result, out, cutout


def _decode(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _talking(shots):
    return [s["index"] for s in shots if s["generated"]]


def test_the_draft_is_a_conformant_mp4_of_the_voice_tracks_duration(rendered, ffprobe_available):
    result, out, _ = rendered
    probe = ffprobe(out / "final.mp4")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (360, 640)
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "30/1"
    assert int(video["nb_frames"]) == result.report["frames"]
    assert abs(float(video["duration"]) - result.report["video_duration_s"]) <= 1 / 30
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / 30
    assert result.report["video_duration_s"] >= 8.0


def test_script_json_has_the_edits_shots_cut_on_frames_from_start_to_end(rendered):
    result, out, _ = rendered
    shots = json.loads((out / "script.json").read_text())["shots"]
    assert [s["kind"] for s in shots] == ["closeup", "cutaway", "closeup", "endcard"]
    assert [s["talking"] for s in shots] == [True, False, True, False]
    assert shots[0]["title"] == "Okay, Espresso Cups." and shots[1]["title"] == "Keeps espresso hot"
    assert shots[1]["line"].startswith("Keeps espresso hot")
    assert shots[0]["start_s"] == 0.0
    assert shots[-1]["end_s"] == result.report["video_duration_s"]
    assert all(a["end_s"] == b["start_s"] for a, b in zip(shots, shots[1:]))
    assert all(abs(s["start_s"] * 30 - round(s["start_s"] * 30)) < 0.02 for s in shots)
    assert result.report["generative"]["shots"] == shots


def test_the_report_has_a_keyframe_clip_and_lip_sync_per_talking_shot(rendered):
    result, out, _ = rendered
    report = json.loads((out / "report.json").read_text())
    assert report == json.loads(json.dumps(result.report))
    generative = report["generative"]
    talking = _talking(generative["shots"])
    assert talking == [0, 2]
    assert generative["keyframe"]["backend"] == "qwen-image-edit"
    keyframes = generative["keyframe"]["items"]
    assert [k["shot"] for k in keyframes] == talking  # the anchor is the first shot's keyframe
    assert [k["references"] for k in keyframes] == [2, 1]  # portrait + product, then the anchor
    assert generative["motion"]["backend"] == "wan" and generative["motion"]["clips"] == 2
    for clip, index in zip(generative["motion"]["items"], talking):
        shot = generative["shots"][index]
        wanted_s = min(shot["end_s"] - shot["start_s"], 1.5)  # the test profile's cap
        assert clip["shot"] == index and clip["fps"] == 24.0
        assert (clip["frames"] - 1) % 4 == 0 and abs(clip["frames"] / 24.0 - wanted_s) <= 4 / 24
    assert generative["motion"]["wall_s"] > 0 and generative["keyframe"]["wall_s"] > 0
    assert [entry["shot"] for entry in generative["lipsync"]] == talking
    assert set(report["stages"]) == {"prepare", "agents", "init", "generation", "concat", "audio",
                                     "captions", "complete"}


def test_the_cutaway_shows_the_product_cut_out_full_frame(rendered):
    result, out, cutout = rendered
    shots = result.report["generative"]["shots"]
    frames = _decode(out / "final.mp4")
    height, width = frames[0].shape[:2]
    box = shot_boxes(width, height).cutaway_product
    expected, _ = hero_image(cutout, box, width, height)

    def error(frame):
        region = (slice(box.y, box.y + box.h), slice(box.x, box.x + box.w))
        return float(np.abs(frame[region].astype(int) - expected[region].astype(int)).mean())

    first_cutaway = frames[round(shots[1]["start_s"] * 30)]
    talking = frames[round((shots[0]["start_s"] + shots[0]["end_s"]) / 2 * 30)]
    assert error(first_cutaway) < 6.0  # the product as drawn, through the encoder
    assert error(talking) > 4 * error(first_cutaway)


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
