#!/usr/bin/env python3
"""Download the GPU profile's weights into the models directory, in the layouts the backends load.

    python scripts/fetch_models.py                       # MuseTalk into $UGEN_MODELS_DIR/musetalk
    python scripts/fetch_models.py --model-dir /models/musetalk --verify
    python scripts/fetch_models.py --segmentation        # UperNet-ConvNeXt-S into .../segmentation
    python scripts/fetch_models.py --llm Qwen/Qwen2.5-7B-Instruct   # into .../llm/Qwen2.5-7B-Instruct
    python scripts/fetch_models.py --coqui               # XTTS-v2 into .../xtts (non-commercial licence)
    python scripts/fetch_models.py --aligner             # the MMS forced aligner into .../mms-fa
    python scripts/fetch_models.py --all                 # everything configs/profiles/gpu.yaml names
    python scripts/fetch_models.py --generative          # gpu-generative.yaml's keyframe + motion models
    python scripts/fetch_models.py --motion-a14b         # the Wan2.2 I2V-A14B option (two 14 B experts)

Run it on a machine that can reach the Hugging Face hub (needs `pip install 'ugen-engine[gpu]'`).
It fetches `musetalkV15/{musetalk.json, unet.pth}` from TMElyralab/MuseTalk, `sd-vae/` from
stabilityai/sd-vae-ft-mse and `whisper/` from openai/whisper-tiny (the files MuseTalk's own
download script takes), checks the UNet config against the copy kept in
configs/models/musetalk/, and with `--verify` loads everything through the backend's strict
loader. Files already present are not downloaded again. Tests never call this.
Weights: MuseTalk's README allows any use, commercial included; the hub card is tagged
creativeml-openrail-m. sd-vae-ft-mse and whisper are MIT. openmmlab/upernet-convnext-small's
card says MIT (it is trained on ADE20K, whose own terms apply to the data).
Qwen2.5-7B-Instruct is Apache-2.0. coqui/XTTS-v2 is under the Coqui Public Model License:
non-commercial use only (docs/voices.md: pointing the voice at a permissive Coqui model).
The MMS forced aligner (torchaudio's MMS_FA, XTTS's word timings in every language) is one file,
model.pt, from Meta's download server, under CC-BY-NC 4.0 (non-commercial, as the MMS models).
Qwen/Qwen-Image-Edit-2509 and Wan-AI/Wan2.2-{TI2V-5B,I2V-A14B}-Diffusers are Apache-2.0; their
diffusers folders are fetched whole (model_index.json + one folder per component) and their
architecture is compared with the copy kept in configs/models/.
The models directory is $UGEN_MODELS_DIR (default models_data/ in a checkout, the data directory's
models/ when installed; engine/locations.py), the same one
the registry reads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.locations import configs_root  # noqa: E402
from engine.settings import Settings  # noqa: E402
from models.persona.musetalk.config import UNET_CONFIG, ReleaseLayout  # noqa: E402

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
SEGMENTATION_REPO = "openmmlab/upernet-convnext-small"
SEGMENTATION_FILES = ("config.json", "preprocessor_config.json", "pytorch_model.bin")
COQUI_REPO = "coqui/XTTS-v2"
COQUI_FILES = ("config.json", "model.pth", "vocab.json", "speakers_xtts.pth")
LLM_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*"]  # no .bin twins
# folder under the models dir -> (hub repository, architecture kept in configs/models/)
GENERATIVE = {"qwen-image-edit-2509": ("Qwen/Qwen-Image-Edit-2509", "qwen-image-edit-2509.json"),
              "wan2.2-ti2v-5b": ("Wan-AI/Wan2.2-TI2V-5B-Diffusers", "wan2.2-ti2v-5b.json")}
MOTION_A14B = {"wan2.2-i2v-a14b": ("Wan-AI/Wan2.2-I2V-A14B-Diffusers", "wan2.2-i2v-a14b.json")}
PIPELINE_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model", "tokenizer*"]
DOWNLOAD_TIMEOUT_S = "60"  # per network read; huggingface_hub retries and resumes


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fetch the GPU profile's weights.")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="MuseTalk target directory (default: $UGEN_MODELS_DIR/musetalk)")
    parser.add_argument("--segmentation", action="store_true",
                        help=f"fetch {SEGMENTATION_REPO} into $UGEN_MODELS_DIR/segmentation only")
    parser.add_argument("--llm", metavar="REPO_ID", default=None,
                        help="fetch a safetensors instruct model into $UGEN_MODELS_DIR/llm/NAME only")
    parser.add_argument("--coqui", action="store_true",
                        help=f"fetch {COQUI_REPO} into $UGEN_MODELS_DIR/xtts only")
    parser.add_argument("--aligner", action="store_true",
                        help="fetch the MMS forced aligner into $UGEN_MODELS_DIR/mms-fa only")
    parser.add_argument("--all", action="store_true",
                        help="MuseTalk, the segmentation model, Qwen/Qwen2.5-7B-Instruct, XTTS-v2 "
                             "and the MMS forced aligner")
    parser.add_argument("--generative", action="store_true",
                        help="Qwen-Image-Edit-2509 and Wan2.2-TI2V-5B (configs/profiles/gpu-generative.yaml)")
    parser.add_argument("--motion-a14b", action="store_true",
                        help="Wan2.2-I2V-A14B, the two-expert motion option (about 120 GB)")
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


def fetch_segmentation(target: Path) -> None:
    from huggingface_hub import hf_hub_download

    for name in SEGMENTATION_FILES:
        if not (target / name).is_file():
            print(f"downloading {SEGMENTATION_REPO}/{name}", flush=True)
            hf_hub_download(repo_id=SEGMENTATION_REPO, filename=name, local_dir=target)


def fetch_coqui(target: Path) -> None:
    from huggingface_hub import hf_hub_download

    for name in COQUI_FILES:
        if not (target / name).is_file():
            print(f"downloading {COQUI_REPO}/{name}", flush=True)
            hf_hub_download(repo_id=COQUI_REPO, filename=name, local_dir=target)


def fetch_aligner(target: Path) -> None:
    """MMS_FA's model.pt as torchaudio downloads it (the loader drops its 3 unused outputs)."""
    import shutil
    import urllib.request

    from models.voice.coqui.ctc_align import RELEASE_URL, WEIGHTS

    if (target / WEIGHTS).is_file():
        return
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"{WEIGHTS}.partial"
    print(f"downloading {RELEASE_URL}", flush=True)
    with urllib.request.urlopen(RELEASE_URL, timeout=float(DOWNLOAD_TIMEOUT_S)) as response, \
            partial.open("wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)
    partial.replace(target / WEIGHTS)


def fetch_llm(repo: str, target: Path) -> None:
    from huggingface_hub import snapshot_download

    print(f"downloading {repo}", flush=True)
    snapshot_download(repo_id=repo, local_dir=target, allow_patterns=LLM_PATTERNS)


def fetch_pipelines(models_dir: Path, pipelines: dict[str, tuple[str, str]]) -> None:
    """Whole diffusers folders, then their architecture against the copy kept in configs/models/."""
    from huggingface_hub import snapshot_download

    for folder, (repo, kept) in pipelines.items():
        print(f"downloading {repo}", flush=True)
        snapshot_download(repo_id=repo, local_dir=models_dir / folder,
                          allow_patterns=PIPELINE_PATTERNS)
        differences = pipeline_differences(models_dir / folder, configs_root() / "models" / kept)
        if differences:
            print(f"warning: {folder} differs from configs/models/{kept}: "
                  + "; ".join(differences), file=sys.stderr)


def pipeline_differences(folder: Path, kept_path: Path) -> list[str]:
    """Component config fields where the download and configs/models/<name>.json disagree."""
    kept = json.loads(kept_path.read_text())
    found = []
    for component in ("transformer", "vae", "text_encoder"):
        config_path = folder / component / "config.json"
        if not config_path.is_file():
            found.append(f"{component}/config.json is missing")
            continue
        config = json.loads(config_path.read_text())
        found += [f"{component}.{k}: hub {config.get(k)!r}, repo {v!r}"
                  for k, v in kept[component].items()
                  if not isinstance(v, dict) and config.get(k, v) != v]
    return found


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
    models_dir = Settings.from_env().models_dir
    if args.segmentation or args.all:
        fetch_segmentation(models_dir / "segmentation")
    if args.llm or args.all:
        repo = args.llm or "Qwen/Qwen2.5-7B-Instruct"
        fetch_llm(repo, models_dir / "llm" / repo.split("/")[-1])
    if args.coqui or args.all:
        fetch_coqui(models_dir / "xtts")
    if args.aligner or args.all:
        fetch_aligner(models_dir / "mms-fa")
    if args.generative:
        fetch_pipelines(models_dir, GENERATIVE)
    if args.motion_a14b:
        fetch_pipelines(models_dir, MOTION_A14B)
    if (args.segmentation or args.llm or args.coqui or args.aligner or args.generative
            or args.motion_a14b) and not args.all:
        return 0
    model_dir = args.model_dir or models_dir / "musetalk"
    for path in fetch(model_dir, safetensors=args.safetensors):
        print(f"{path}  {path.stat().st_size:,} bytes")
    differences = config_differences(model_dir)
    if differences:
        print("warning: musetalk.json differs from configs/models/musetalk/musetalk.json: "
              + "; ".join(differences), file=sys.stderr)
    if args.verify:
        from models.persona.musetalk.loader import load_release

        models = load_release(model_dir)
        count = sum(p.numel() for p in models.unet.parameters())
        print(f"verified: the release loads strictly (UNet {count:,} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
