"""The profile validator: every missing thing is named before a worker or a render starts."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest
import yaml

from engine.settings import REPO_ROOT, Settings
from engine.worker.middleware.boot import EXIT_PROFILE_NOT_READY, WorkerBoot
from models.cutout.segmentation_tiny import write_random_segmentation
from models.profile_check import validate_profile
from models.registry import ProfileError, load_profile


def write_profile(path, **roles):
    profile = {"script": "copywriter", "voice": "piper", "animator": "viseme",
               "cutout": "classical", "music": "synth", "encoder": "libx264", **roles}
    path.write_text(yaml.safe_dump(profile))
    return path


@pytest.fixture
def settings(tmp_path):
    return replace(Settings(), models_dir=tmp_path / "models", cache_dir=tmp_path / "cache")


def test_the_cpu_profile_needs_nothing(settings):
    assert validate_profile("cpu", settings) == []


def test_missing_weights_are_named_with_their_path_and_the_command_that_fetches_them(
        tmp_path, settings):
    profile = write_profile(
        tmp_path / "p.yaml",
        animator={"backend": "musetalk", "options": {"model_dir": "musetalk"}},
        cutout={"backend": "segmentation", "options": {"model_dir": "segmentation"}})
    problems = validate_profile(profile, settings)
    assert len(problems) == 2, problems
    musetalk, segmentation = problems
    assert str(settings.models_dir / "musetalk") in musetalk
    assert "musetalkV15/unet.pth" in musetalk and "scripts/fetch_models.py" in musetalk
    assert str(settings.models_dir / "segmentation") in segmentation
    assert "model.safetensors" in segmentation
    assert "python scripts/fetch_models.py --segmentation" in segmentation


def test_a_cuda_device_asked_for_on_a_machine_without_one_is_refused(tmp_path, settings):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    write_random_segmentation(settings.models_dir / "segmentation")
    profile = write_profile(tmp_path / "p.yaml", device="cuda", cutout={
        "backend": "segmentation",
        "options": {"model_dir": "segmentation", "background_labels": ["wall"]}})
    problems = validate_profile(profile, settings)
    assert problems == [("segmentation cut-out: device 'cuda' was asked for but no CUDA device "
                         "is available here (set device: auto or cpu, or run on a GPU machine "
                         "with a CUDA build of torch)")]


def test_half_precision_on_the_cpu_and_unknown_labels_are_refused(tmp_path, settings):
    write_random_segmentation(settings.models_dir / "segmentation")
    profile = write_profile(tmp_path / "p.yaml", device="cpu", cutout={
        "backend": "segmentation",
        "options": {"model_dir": "segmentation", "dtype": "float16",
                    "foreground_labels": ["bottle", "teapot"]}})
    problems = validate_profile(profile, settings)
    assert any("dtype float16 needs a CUDA device" in p for p in problems), problems
    assert any("no label(s) ['teapot']" in p for p in problems), problems


def test_an_option_the_backend_does_not_take_is_reported_not_raised(tmp_path, settings):
    profile = write_profile(tmp_path / "p.yaml", cutout={
        "backend": "segmentation", "options": {"model_dir": "x", "colour": "red"}})
    [problem] = validate_profile(profile, settings)
    assert "cutout backend 'segmentation': bad options" in problem and "colour" in problem


def test_the_encoder_may_be_nvenc_or_libx264_and_nothing_else(tmp_path):
    assert load_profile(write_profile(tmp_path / "a.yaml", encoder="nvenc"))["encoder"] == "nvenc"
    with pytest.raises(ProfileError, match="unknown encoder backend 'h265'"):
        load_profile(write_profile(tmp_path / "b.yaml", encoder="h265"))
    with pytest.raises(ProfileError, match="unknown key 'devices'"):
        load_profile(write_profile(tmp_path / "c.yaml", devices="cuda"))


def test_the_check_command_prints_every_missing_thing_and_exits_non_zero(tmp_path):
    env = {"UGEN_MODELS_DIR": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "scripts/check_profile.py", "--profile",
                           "configs/profiles/gpu.yaml"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "profile configs/profiles/gpu.yaml cannot run here; missing:"
    assert any("musetalk lip-sync" in line for line in lines)
    assert any("segmentation cut-out" in line for line in lines)
    assert any("transformers script writer: no model at" in line for line in lines)


def test_the_worker_refuses_to_start_with_a_profile_that_cannot_run_before_dramatiq(tmp_path):
    profile = write_profile(tmp_path / "p.yaml", cutout={
        "backend": "segmentation", "options": {"model_dir": str(tmp_path / "none")}})
    env = {"UGEN_PROFILE": str(profile), "PATH": "/usr/bin:/bin",
           "UGEN_BROKER_URL": "redis://127.0.0.1:1/0"}  # never reached
    done = subprocess.run([sys.executable, "-m", "engine.worker"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_PROFILE_NOT_READY
    assert "segmentation cut-out" in done.stderr and "does not start" in done.stderr
    assert "dramatiq" not in done.stderr.lower()


def test_a_worker_process_stops_at_boot_without_loading_models_when_the_profile_cannot_run(
        tmp_path, settings):
    profile = write_profile(tmp_path / "p.yaml", cutout={
        "backend": "segmentation", "options": {"model_dir": "none"}})
    booted = []
    runtime = SimpleNamespace(settings=SimpleNamespace(engine=replace(settings, profile=str(profile))),
                              boot=lambda: booted.append(True))
    with pytest.raises(SystemExit) as stopped:
        WorkerBoot(runtime).after_process_boot(broker=None)
    assert stopped.value.code == EXIT_PROFILE_NOT_READY and booted == []


def test_render_one_refuses_a_profile_that_cannot_run_with_backend_unavailable(tmp_path):
    profile = write_profile(tmp_path / "p.yaml", animator={
        "backend": "musetalk", "options": {"model_dir": str(tmp_path / "none")}})
    done = subprocess.run([sys.executable, "scripts/render_one.py", "configs/jobs/demo.json",
                           "--out", str(tmp_path / "out"), "--profile", str(profile)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "musetalk lip-sync" in done.stderr
    assert '"code": "BACKEND_UNAVAILABLE"' in done.stderr.splitlines()[-1]
    assert not (tmp_path / "out" / "final.mp4").exists()
