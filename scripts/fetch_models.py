#!/usr/bin/env python3
"""Download the MuseTalk 1.5 release into a model directory, in its official layout.

    python scripts/fetch_models.py                       # into $UGEN_MODELS_DIR/musetalk
    python scripts/fetch_models.py --model-dir /models/musetalk --verify

Run it on a machine that can reach the Hugging Face hub (needs `pip install 'ugen-engine[gpu]'`).
It fetches `musetalkV15/{musetalk.json, unet.pth}` from TMElyralab/MuseTalk, `sd-vae/` from
stabilityai/sd-vae-ft-mse and `whisper/` from openai/whisper-tiny (the files MuseTalk's own
download script takes), checks the UNet config against the copy kept in
configs/models/musetalk/, and with `--verify` loads everything through the backend's strict
loader. Files already present are not downloaded again. Tests never call this.
Weights: MuseTalk's README allows any use, commercial included; the hub card is tagged
creativeml-openrail-m. sd-vae-ft-mse and whisper are MIT.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.musetalk.config import UNET_CONFIG, ReleaseLayout, default_model_dir  # noqa: E402

# (hub repository, file in it, folder under the model dir); local names keep the hub's paths.
RELEASE_FILES = (
    ("TMElyralab/MuseTalk", "musetalkV15/musetalk.json", "."),
    ("TMElyralab/MuseTalk", "musetalkV15/unet.pth", "."),
    ("stabilityai/sd-vae-ft-mse", "config.json", "sd-vae"),
    ("stabilityai/sd-vae-ft-mse", "diffusion_pytorch_model.bin", "sd-vae"),
    ("openai/whisper-tiny", "config.json", "whisper"),
    ("openai/whisper-tiny", "pytorch_model.bin", "whisper"),
    ("openai/whisper-tiny", "preprocessor_config.json", "whisper"),
)
SAFETENSORS = {"diffusion_pytorch_model.bin": "diffusion_pytorch_model.safetensors",
               "pytorch_model.bin": "model.safetensors"}
DOWNLOAD_TIMEOUT_S = "60"  # per network read; huggingface_hub retries and resumes


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fetch the MuseTalk 1.5 release.")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="target directory (default: $UGEN_MODELS_DIR/musetalk)")
    parser.add_argument("--safetensors", action="store_true",
                        help="take the VAE and whisper weights as .safetensors instead of .bin")
    parser.add_argument("--verify", action="store_true",
                        help="load the result through the strict loader (needs ~8 GB RAM)")
    return parser.parse_args(argv)


def fetch(model_dir: Path, *, safetensors: bool) -> list[Path]:
    from huggingface_hub import hf_hub_download

    fetched = []
    for repo, name, folder in RELEASE_FILES:
        if safetensors:
            name = SAFETENSORS.get(name, name)
        target = model_dir / folder / name
        if not target.is_file():
            print(f"downloading {repo}/{name}", flush=True)
            hf_hub_download(repo_id=repo, filename=name, local_dir=model_dir / folder)
        fetched.append(target)
    return fetched


def config_differences(model_dir: Path) -> list[str]:
    """Architecture fields where the downloaded musetalk.json and the kept copy disagree."""
    hub = json.loads(ReleaseLayout(model_dir).unet_config.read_text())
    kept = json.loads(UNET_CONFIG.read_text())
    keys = sorted(k for k in hub.keys() | kept.keys() if not k.startswith("_"))
    return [f"{k}: hub {hub.get(k)!r}, repo {kept.get(k)!r}" for k in keys
            if hub.get(k) != kept.get(k)]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        print("HF_HUB_OFFLINE is set: this script must reach the model hub", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", DOWNLOAD_TIMEOUT_S)
    model_dir = args.model_dir or default_model_dir()
    for path in fetch(model_dir, safetensors=args.safetensors):
        print(f"{path}  {path.stat().st_size:,} bytes")
    differences = config_differences(model_dir)
    if differences:
        print("warning: musetalk.json differs from configs/models/musetalk/musetalk.json: "
              + "; ".join(differences), file=sys.stderr)
    if args.verify:
        from models.musetalk.loader import load_release

        models = load_release(model_dir)
        count = sum(p.numel() for p in models.unet.parameters())
        print(f"verified: the release loads strictly (UNet {count:,} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
