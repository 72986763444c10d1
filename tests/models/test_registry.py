"""The registry's device, dtype, model paths and warm-up, and out-of-memory recovery, on CPU."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from engine.catalog import Catalog
from engine.errors import OutOfMemory
from engine.gpu_memory import as_out_of_memory
from engine.settings import REPO_ROOT, Settings
from engine.spec import parse_job
from engine.worker.runner import JobRunner
from models.base import Cutout
from models.cutout.classical import ClassicalCutout
from models.devices import device_problems, resolve_device, resolve_dtype
from models.registry import Registry
from pipelines.render import RenderPipeline

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="asserts CPU-only behaviour")
CPU_PROFILE = {"script": "copywriter", "voice": "piper", "animator": "viseme",
               "cutout": "classical", "music": "synth", "encoder": "libx264"}


def registry(tmp_path: Path, *, device: str | None = None, **roles) -> Registry:
    return Registry(profile={**CPU_PROFILE, **roles}, cache_dir=tmp_path / "cache",
                    models_dir=tmp_path / "models", device=device)


def test_auto_is_the_cpu_in_float32_here_and_cuda_or_half_precision_are_refused():
    assert resolve_device("auto") == "cpu" and resolve_device(None) == "cpu"
    assert resolve_dtype("cpu", "auto") == "float32"
    assert resolve_dtype("cuda", "auto") == "float16" and resolve_dtype("cuda", "bf16") == "bfloat16"
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="needs a CUDA device"):
        resolve_dtype("cpu", "float16")
    assert device_problems("x", device="auto", dtype="bfloat16") == [
        "x: dtype bfloat16 needs a CUDA device; on 'cpu' use float32 or auto"]
    assert device_problems("x", device="cpu", dtype="float32") == []


def test_torch_backends_get_the_profile_device_and_their_own_option_wins(tmp_path):
    seg = {"backend": "segmentation", "options": {"model_dir": "seg"}}
    assert registry(tmp_path, cutout=seg).options("cutout")["device"] == "auto"
    assert registry(tmp_path, cutout=seg, device="cuda:1").options("cutout")["device"] == "cuda:1"
    profiled = registry(tmp_path, cutout=seg)
    profiled.profile["device"] = "cpu"
    assert profiled.options("cutout")["device"] == "cpu"
    own = {"backend": "segmentation", "options": {"model_dir": "seg", "device": "cpu"}}
    assert registry(tmp_path, cutout=own, device="cuda").options("cutout")["device"] == "cpu"
    assert "device" not in registry(tmp_path, device="cuda").options("cutout")  # classical


def test_relative_model_paths_are_under_the_models_dir_and_absolute_ones_are_kept(tmp_path):
    seg = {"backend": "segmentation", "options": {"model_dir": "segmentation"}}
    llm = {"backend": "transformers", "options": {"model_path": "/opt/llm"}}
    built = registry(tmp_path, cutout=seg, script=llm)
    assert built.options("cutout")["model_dir"] == str(tmp_path / "models" / "segmentation")
    assert built.options("script")["model_path"] == "/opt/llm"


def test_from_settings_takes_the_models_dir_and_device_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("UGEN_MODELS_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("UGEN_DEVICE", "cpu")
    built = Registry.from_settings(Settings.from_env(), profile="gpu")
    assert built.models_dir == tmp_path / "m" and built.device == "cpu"
    assert built.options("animator") == {"model_dir": str(tmp_path / "m" / "musetalk"),
                                         "device": "cpu"}
    assert built.backends["voice"] == "coqui" and built.profile["encoder"] == "nvenc"


class WarmCounting(ClassicalCutout):
    warmed = 0

    def warm_up(self) -> None:
        type(self).warmed += 1


def test_warm_up_runs_once_for_each_loaded_backend_that_offers_one_and_times_it(tmp_path):
    built = registry(tmp_path)
    built._loaded[("cutout",)] = WarmCounting()  # stands in for a model backend
    built.music()
    timings = built.warm_up()
    assert list(timings) == ["cutout"] and timings["cutout"] >= 0
    assert WarmCounting.warmed == 1


class RunsOutOfMemoryOnce:
    """A cut-out backend whose first call fails the way torch's CUDA allocator does."""

    name = "oom-once"

    def __init__(self) -> None:
        self.calls, self.inner = 0, ClassicalCutout()

    def cut_out(self, image) -> Cutout:
        self.calls += 1
        if self.calls == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return self.inner.cut_out(image)


def test_an_out_of_memory_in_a_backend_is_a_retryable_out_of_memory_and_the_next_job_renders(
        tmp_path):
    settings = replace(Settings(), cache_dir=tmp_path / "cache", work_root=tmp_path)
    built = Registry.from_settings(settings, profile="cpu")
    built._loaded[("cutout",)] = RunsOutOfMemoryOnce()
    pipeline = RenderPipeline(registry=built, catalog=Catalog(settings.configs_dir),
                              settings=settings)
    job = parse_job({"product_name": "Cups", "video_resolution": "draft", "segment_count": 1,
                     "segment_duration": 3,
                     "product_image_url": str(REPO_ROOT / "configs/jobs/espresso_cup.png")})
    # The worker's boundary (JobRunner._attempt) turns the torch error into OUT_OF_MEMORY.
    runner = JobRunner.__new__(JobRunner)
    runner._run = lambda context, lease: pipeline.run(job, out_dir=tmp_path / "a", allow_local_files=True)
    error = runner._attempt(SimpleNamespace(job_id=job.job_id), lease=None)
    assert isinstance(error, OutOfMemory) and error.code == "OUT_OF_MEMORY" and error.retryable
    assert error.__traceback__ is None and error.__context__ is None
    assert error.details["error"] == "OutOfMemoryError"
    assert "Tried to allocate 20.00 GiB" in error.details["message"]
    assert not list(tmp_path.glob("ugen-job-*"))  # the failed render's work dir is gone
    result = pipeline.run(job, out_dir=tmp_path / "b", allow_local_files=True)
    assert result.artifacts["final.mp4"].stat().st_size > 0


def test_other_errors_are_not_taken_for_out_of_memory():
    assert as_out_of_memory(RuntimeError("CUDA error: device-side assert")) is None
    assert as_out_of_memory(MemoryError()) is None


def test_the_gpu_memory_middleware_empties_the_cuda_cache_after_a_failed_job(monkeypatch):
    from engine.worker.middleware.gpu_memory import GpuMemory

    emptied = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    GpuMemory().after_process_message(None, None, exception=OutOfMemory("out of memory"))
    assert emptied == [True]


def test_the_generative_profile_names_both_new_roles_and_lists_their_missing_folders(tmp_path):
    from models.registry import load_profile

    profile = load_profile(REPO_ROOT / "configs" / "profiles" / "gpu-generative.yaml")
    assert (profile["keyframe"]["backend"], profile["motion"]["backend"]) == ("qwen-image-edit", "wan")
    reg = Registry(profile={**profile, "device": "cpu"}, cache_dir=tmp_path / "cache",
                   models_dir=tmp_path / "models")
    assert reg.generative and set(reg.backends) >= {"keyframe", "motion", "animator"}
    problems = reg.requirements()
    assert f"keyframes: {tmp_path / 'models' / 'qwen-image-edit-2509' / 'model_index.json'} is " \
        "missing (not a diffusers pipeline folder); fetch it with python scripts/fetch_models.py " \
        "--generative" in problems
    assert any(str(tmp_path / "models" / "wan2.2-ti2v-5b") in p for p in problems)
    assert not registry(tmp_path).generative  # the CPU default has neither role


def test_a_profile_with_keyframes_but_no_motion_is_refused(tmp_path):
    from models.registry import ProfileError, load_profile

    path = tmp_path / "half.yaml"
    path.write_text("\n".join(f"{k}: {v}" for k, v in CPU_PROFILE.items()) +
                    "\nkeyframe: qwen-image-edit\n")
    with pytest.raises(ProfileError, match="the generative tier needs both keyframe and motion"):
        load_profile(path)
