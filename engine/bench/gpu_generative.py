"""The generative tier's GPU check: keyframe, motion and lip-sync speed and memory on random weights.

    python scripts/check_gpu_profile.py --tier generative                 # real size, CUDA, bf16
    python scripts/check_gpu_profile.py --tier generative --compile both  # and torch.compile
    python scripts/check_gpu_profile.py --tier generative --tiny --device cpu   # the CPU smoke run

Each model is built at its release's size with random weights directly on the device
(models/keyframe/random_layout.py, models/motion/random_layout.py; MuseTalk as in the GPU
profile check) and run through the same backend classes the render uses. Every timing is taken
twice, at 2 steps and at `--steps` steps, which splits it into a per-step cost and a fixed cost
(prompt encoding, VAE encode and decode); the projection for a schedule of S steps is
fixed + S x per-step. Speed and memory do not depend on the weights' values, so these figures
hold for the real releases; the pictures are noise. Writes `--out`/generative.json.
"""

from __future__ import annotations

import gc
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.measure import gpu_peak_gib, reset_gpu_peak, sync_gpu
from models.base import KeyframeRequest, MotionRequest

# (width, height) of the generated picture: 9:16 at 1280 px (TI2V-5B native); tiny: CPU-sized
SIZES = {"full": (704, 1280), "tiny": (64, 128)}
PROFILE_STEPS = {"keyframe": (40, 8), "motion": (40, 8)}  # release schedule, step-distilled
AD_SECONDS, AD_KEYFRAMES = 30.0, 5  # a 30 s ad: 5 generated shots, 30 s of motion
# The short timing run: 2 steps, because a 1-step flow-matching schedule stretched to the
# release's terminal sigma divides by zero.
LOW_STEPS = 2


def measure_keyframes(size: str, *, device: str, dtype: str, compile: bool, steps: int) -> dict:
    from models.keyframe.qwen_edit import QwenEditKeyframes
    from models.keyframe.random_layout import random_pipeline

    backend = QwenEditKeyframes(pipeline=random_pipeline(size, device=device, dtype=dtype),
                                device=device, dtype=dtype, compile=compile, steps=steps)
    width, height = SIZES[size]
    rng = np.random.default_rng(0)
    refs = tuple(rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(2))
    request = KeyframeRequest("a person holding a cup", refs, width=width, height=height, seed=0)
    result = _split(lambda n: _timed(lambda: _with_steps(backend, n).generate(request)), steps)
    result.update(width=width, height=height, references=2, cfg=backend.true_cfg_scale > 1)
    del backend
    return result


def measure_motion(size: str, *, variant: str, device: str, dtype: str, compile: bool,
                   steps: int, duration_s: float) -> dict:
    from models.motion.random_layout import random_pipeline
    from models.motion.wan import WanMotion

    backend = WanMotion(pipeline=random_pipeline(variant, size, device=device, dtype=dtype),
                        device=device, dtype=dtype, compile=compile, steps=steps)
    width, height = SIZES[size]
    keyframe = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    request = MotionRequest(keyframe, "a person talking", width=width, height=height,
                            duration_s=duration_s, seed=0)
    result = _split(lambda n: _timed(lambda: _with_steps(backend, n).animate(request)), steps)
    frames = backend.frame_count(duration_s)
    result.update(width=width, height=height, frames=frames, fps=backend.fps,
                  video_s=round(frames / backend.fps, 3), variant=variant)
    result["s_per_video_s"] = round(result["wall_s"] / result["video_s"], 3)
    del backend
    return result


def measure_lipsync(size: str, *, device: str, workdir: Path) -> dict:
    from engine.bench.gpu_smoke import lipsync_fps, write_musetalk
    from models.persona.musetalk import MuseTalkAnimator

    write_musetalk(workdir / "musetalk", size=size, device=device)
    animator = MuseTalkAnimator(cache_dir=workdir / "cache", model_dir=workdir / "musetalk",
                                device=device)
    reset_gpu_peak()
    result = lipsync_fps(animator, iters=2 if size == "tiny" else 10)
    result.update(s_per_frame=round(1 / result["fps"], 5), gpu_peak_gib=gpu_peak_gib())
    return result


def projection(rows: dict[str, dict]) -> dict[str, float]:
    """Seconds of one GPU for a 30 s ad at the release and the step-distilled schedules."""
    out = {}
    for label, index in (("release", 0), ("distilled", 1)):
        keyframe = rows["keyframe"]["fixed_s"] + PROFILE_STEPS["keyframe"][index] * \
            rows["keyframe"]["per_step_s"] * (1 if index == 0 else 0.5)  # distilled: cfg off
        clip = rows["motion"]["fixed_s"] + PROFILE_STEPS["motion"][index] * \
            rows["motion"]["per_step_s"] * (1 if index == 0 else 0.5)
        motion = clip * AD_SECONDS / rows["motion"]["video_s"]
        lipsync = AD_SECONDS * 30 * rows["lipsync"]["s_per_frame"]
        out[label] = round(AD_KEYFRAMES * keyframe + motion + lipsync, 1)
    return out


def run_check(*, tiny: bool, device: str | None, out: Path, variant: str = "ti2v-5b",
              steps: int | None = None, compile_modes: tuple[bool, ...] = (False,),
              motion_s: float | None = None) -> dict[str, Any]:
    from models.devices import is_cuda, resolve_device

    size = "tiny" if tiny else "full"
    device = resolve_device(device)
    dtype = "bfloat16" if is_cuda(device) else "float32"
    steps = max(LOW_STEPS + 1, steps or (3 if tiny else 6))
    motion_s = motion_s or (1.0 if tiny else 5.0)
    runs = []
    with tempfile.TemporaryDirectory(prefix="ugen-gen-check-") as workdir:
        lipsync = measure_lipsync(size, device=device, workdir=Path(workdir))
    for compile in compile_modes:
        row = {"compile": compile, "dtype": dtype, "lipsync": lipsync}
        row["keyframe"] = _fresh(lambda: measure_keyframes(size, device=device, dtype=dtype,
                                                           compile=compile, steps=steps))
        row["motion"] = _fresh(lambda: measure_motion(size, variant=variant, device=device,
                                                      dtype=dtype, compile=compile, steps=steps,
                                                      duration_s=motion_s))
        row["ad_30s_gpu_s"] = projection(row)
        runs.append(row)
    result = {"size": size, "device": device, "steps": steps, "runs": runs}
    out.mkdir(parents=True, exist_ok=True)
    (out / "generative.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def summary(result: dict[str, Any]) -> str:
    lines = [f"generative tier check ({result['size']} random weights, device {result['device']})",
             "dtype     compile  keyframe s (per step)  motion s per video s (per step)  "
             "lip-sync s/frame  peak GiB k/m  30 s ad GPU s release/distilled"]
    for r in result["runs"]:
        k, m, lip = r["keyframe"], r["motion"], r["lipsync"]
        peaks = "/".join("n/a" if x["gpu_peak_gib"] is None else f"{x['gpu_peak_gib']:.1f}"
                         for x in (k, m))
        lines.append(f"{r['dtype']:<9} {'on' if r['compile'] else 'off':<8} "
                     f"{k['wall_s']:>8.2f} ({k['per_step_s']:.3f})        "
                     f"{m['s_per_video_s']:>8.2f} ({m['per_step_s']:.3f})                 "
                     f"{lip['s_per_frame']:.5f}          {peaks:<12} "
                     f"{r['ad_30s_gpu_s']['release']}/{r['ad_30s_gpu_s']['distilled']}")
    return "\n".join(lines)


def _with_steps(backend: Any, steps: int) -> Any:
    backend.steps = steps
    return backend


def _timed(call: Any) -> float:
    sync_gpu()
    started = time.perf_counter()
    call()
    sync_gpu()
    return time.perf_counter() - started


def _split(timed: Any, steps: int) -> dict[str, float]:
    """Warm up once, then time LOW_STEPS and `steps` steps: per-step and fixed seconds."""
    timed(LOW_STEPS)  # kernel selection, allocator growth, graph capture when compiled
    reset_gpu_peak()
    few, many = timed(LOW_STEPS), timed(steps)
    per_step = max(0.0, (many - few) / (steps - LOW_STEPS))
    return {"wall_s": round(many, 3), "steps": steps, "per_step_s": round(per_step, 4),
            "fixed_s": round(max(0.0, few - LOW_STEPS * per_step), 3),
            "gpu_peak_gib": gpu_peak_gib()}


def _fresh(measure: Any) -> dict:
    """Run one measurement, then free its model before the next is built."""
    result = measure()
    gc.collect()
    reset_gpu_peak()
    return result
