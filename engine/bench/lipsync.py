"""Benchmark the lip-sync stage: frames per second by batch size, with and without compile.

    python scripts/bench_lipsync.py --device cuda --fp16 --compile --batch-sizes 8,16,32,64
    python scripts/bench_lipsync.py --tiny --device cpu --batch-sizes 2,4    # CPU smoke run

No weights are needed. By default the networks are real-size and randomly initialised from the
release's configurations in configs/models/musetalk/, so they run at real speed; `--tiny` loads
a tiny random release through the real loader instead. One measured frame is the per-frame work
of `LipSyncRunner.render`: audio tokens + positional encoding, one UNet pass at t=0, VAE decode
of a 256x256 face, resize to a `--crop`-pixel face crop, feathered blend, copy to the host.
Audio features (computed once per job) are timed separately. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from engine.measure import gpu_peak_gib, own_peak_mb, reset_gpu_peak, sync_gpu
from models.base import Speech
from models.persona.musetalk.config import (
    UNET_CONFIG,
    VAE_CONFIG,
    WHISPER_CONFIG,
    InferenceOptions,
    require_libraries,
)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Lip-sync stage benchmark (random weights).")
    parser.add_argument("--device", default="cuda", help="torch device (default: cuda)")
    parser.add_argument("--batch-sizes", default="8,16,32,64",
                        help="comma-separated batch sizes (default: 8,16,32,64)")
    parser.add_argument("--fp16", action="store_true", help="half precision (CUDA only)")
    parser.add_argument("--compile", action="store_true",
                        help="also measure with torch.compile (eager is always measured)")
    parser.add_argument("--tiny", action="store_true", help="tiny random release (smoke run)")
    parser.add_argument("--crop", type=int, default=448, help="face crop side in pixels")
    parser.add_argument("--iters", type=int, default=None, help="timed batches per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches per row")
    parser.add_argument("--out", type=Path, default=Path("out/bench_lipsync.json"))
    args = parser.parse_args(argv)
    if args.fp16 and not args.device.startswith("cuda"):
        parser.error("--fp16 needs a CUDA device")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    args.iters = args.iters or (2 if args.tiny else 20)
    return args


def build_models(*, tiny: bool, device: str, workdir: Path):
    """Tiny: written and loaded like a real release. Real size: built on `device` directly."""
    from models.persona.musetalk.loader import MuseTalkModels, build_unet, load_release

    if tiny:
        from models.persona.musetalk.tiny import write_tiny_release

        return load_release(write_tiny_release(workdir / "musetalk").root)
    import torch
    from diffusers import AutoencoderKL
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    unet = build_unet(json.loads(UNET_CONFIG.read_text()), device=device)
    with torch.device(device):
        vae = AutoencoderKL.from_config(json.loads(VAE_CONFIG.read_text()))
        whisper = WhisperEncoder(WhisperConfig(**json.loads(WHISPER_CONFIG.read_text())))
    return MuseTalkModels(unet, vae, whisper, WhisperFeatureExtractor(feature_size=80))


def measure(runner, *, batch: int, crop: int, warmup: int, iters: int) -> dict:
    import torch

    gen = torch.Generator(device="cpu").manual_seed(0)
    states = runner.pe.shape[1]
    latents = torch.randn(batch, 8, 32, 32, generator=gen).to(runner.device)
    tokens = torch.randn(batch, states, runner.pe.shape[2], generator=gen).to(runner.device)
    base = torch.randint(0, 256, (batch, crop, crop, 3), generator=gen,
                         dtype=torch.uint8).to(runner.device)
    mask, weights = torch.full((crop, crop), 0.5, device=runner.device), torch.ones(batch)
    reset_gpu_peak()
    started = time.perf_counter()
    for _ in range(warmup):
        runner.render(latents, tokens, base=base, mask=mask, weights=weights.to(runner.device))
    warm_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(iters):  # render returns host arrays, so each batch is finished here
        runner.render(latents, tokens, base=base, mask=mask, weights=weights.to(runner.device))
    elapsed = time.perf_counter() - started
    return {"batch": batch, "compile": runner.options.compile, "fps": batch * iters / elapsed,
            "ms_per_batch": 1000 * elapsed / iters, "warmup_s": warm_s,
            "peak_mem_gib": gpu_peak_gib() if runner.device.type == "cuda" else own_peak_mb() / 1024}


def time_audio(runner, *, seconds: float = 30.0) -> float:
    """Seconds to turn `seconds` of 22.05 kHz speech into whisper features."""
    import numpy as np

    from models.persona.musetalk.audio import encode_speech

    rng = np.random.default_rng(0)
    speech = Speech((0.1 * rng.standard_normal(int(22050 * seconds))).astype(np.float32),
                    22050, ())
    models = runner.models
    encode_speech(models.whisper, models.features, speech, device=str(runner.device))
    sync_gpu()
    started = time.perf_counter()
    encode_speech(models.whisper, models.features, speech, device=str(runner.device))
    sync_gpu()
    return time.perf_counter() - started




def table(result: dict) -> str:
    lines = [f"lip-sync stage on {result['device_name']} ({result['dtype']}, "
             f"{'tiny' if result['tiny'] else 'real-size'} random weights, "
             f"UNet {result['unet_params']:,} parameters, {result['crop']} px crops)",
             f"{'batch':>5}  {'compile':>7}  {'fps':>9}  {'ms/batch':>9}  {'warmup s':>8}  "
             f"{'peak GiB':>8}"]
    for row in result["rows"]:
        lines.append(f"{row['batch']:>5}  {'yes' if row['compile'] else 'no':>7}  "
                     f"{row['fps']:>9.1f}  {row['ms_per_batch']:>9.1f}  "
                     f"{row['warmup_s']:>8.1f}  {row['peak_mem_gib']:>8.2f}")
    lines.append(f"audio features: {result['audio_s_per_30s']:.3f} s per 30 s of speech")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict:
    require_libraries()
    import torch

    from models.persona.musetalk.infer import LipSyncRunner

    with tempfile.TemporaryDirectory() as workdir:
        models = build_models(tiny=args.tiny, device=args.device, workdir=Path(workdir))
    rows, runner = [], None
    for compiled in (False, True) if args.compile else (False,):
        for batch in args.batch_sizes:
            options = InferenceOptions(device=args.device, fp16=args.fp16, compile=compiled,
                                       batch_size=batch)
            runner = LipSyncRunner(models, options)
            rows.append(measure(runner, batch=batch, crop=args.crop, warmup=args.warmup,
                                iters=args.iters))
            print(f"  batch {batch:>3}, compile {compiled}: {rows[-1]['fps']:.1f} fps",
                  flush=True)
    device = torch.device(args.device)
    return {"device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
            else "cpu", "torch": torch.__version__, "dtype": "fp16" if args.fp16 else "fp32",
            "tiny": args.tiny, "crop": args.crop,
            "unet_params": sum(p.numel() for p in models.unet.parameters()),
            "rows": rows, "audio_s_per_30s": time_audio(runner)}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # random weights: nothing to fetch
    result = run(args)
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
