"""A Coqui model directory, loaded once per process through coqui-tts's own loading code.

    loaded = load_model(Path("models_data/xtts"), device="cuda")   # the same object next time
    loaded.kind            # "xtts" or "vits", from config.json's `model`
    missing_files(path)    # what the directory lacks, read without importing coqui-tts

Every catalog voice on the Coqui profile shares one loaded model (XTTS-v2 is 1.8 GB of weights):
the registry builds one backend per voice, each with its own speaker, and they all land here.
`config.json` names the model; XTTS reads its release files through `Xtts.load_checkpoint`
(model.pth, vocab.json and, when present, speakers_xtts.pth; dvae.pth and mel_stats.pth are
for training only and are not read), VITS its trainer checkpoint (model.pth or model_file.pth).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

CHECKPOINT_NAMES = ("model.pth", "model_file.pth", "best_model.pth", "checkpoint.pth")
XTTS_FILES = ("model.pth", "vocab.json")
KINDS = ("xtts", "vits")  # end-to-end models: text in, waveform out, no separate vocoder



@dataclass
class LoadedModel:
    kind: str
    config: Any  # the Coqui config object (XttsConfig, VitsConfig)
    model: Any  # the torch module, in eval mode, on `device`
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)  # one synthesis at a time
    latents: dict[tuple, Any] = field(default_factory=dict)  # XTTS speaker -> conditioning

    @property
    def sample_rate(self) -> int:
        audio = self.config.audio
        return int(getattr(audio, "output_sample_rate", None) or audio.sample_rate)


def once_per_process(load: Callable[[Path, str], T]) -> Callable[[Path, str], T]:
    """`load(model_dir, device)`, run once per (folder, device) in this process; later calls,
    from any thread, get the same object."""
    loaded: dict[tuple[str, str], T] = {}
    lock = threading.Lock()

    def cached(model_dir: Path, device: str) -> T:
        key = (str(Path(model_dir).resolve()), device)
        with lock:
            if key not in loaded:
                loaded[key] = load(Path(model_dir), device)
            return loaded[key]
    return cached


def load_model(model_dir: Path, *, device: str) -> LoadedModel:
    """The model in `model_dir` on `device`, loaded on the first call for that pair."""
    return _load_once(model_dir, device)


def _load(model_dir: Path, device: str) -> LoadedModel:
    from TTS.config import load_config
    from TTS.tts.models import setup_model

    problems = missing_files(model_dir)
    if problems:
        raise FileNotFoundError("; ".join(problems))
    config = load_config(str(model_dir / "config.json"))
    model = setup_model(config)
    if config.model == "xtts":
        model.load_checkpoint(config, checkpoint_dir=str(model_dir), eval=True)
    else:
        model.load_checkpoint(config, checkpoint_path=str(checkpoint_path(model_dir)), eval=True)
    model.to(device)
    model.eval()  # Xtts.eval() returns None, so not chained
    return LoadedModel(kind=config.model, config=config, model=model, device=device)


_load_once = once_per_process(_load)


def model_kind(model_dir: Path) -> str | None:
    """config.json's `model` field, or None when there is no readable config."""
    try:
        return str(json.loads((Path(model_dir) / "config.json").read_text())["model"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def checkpoint_path(model_dir: Path) -> Path:
    for name in CHECKPOINT_NAMES:
        if (Path(model_dir) / name).is_file():
            return Path(model_dir) / name
    raise FileNotFoundError(f"{model_dir} holds none of {', '.join(CHECKPOINT_NAMES)}")


def missing_files(model_dir: Path) -> list[str]:
    """What keeps `model_dir` from loading, each naming the path; [] when it looks complete."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        return [f"{model_dir / 'config.json'} does not exist"]
    kind = model_kind(model_dir)
    if kind not in KINDS:
        return [f"{model_dir / 'config.json'} names model {kind!r}; the Coqui voice loads "
                f"{' or '.join(KINDS)} models (end-to-end, no separate vocoder)"]
    if kind == "xtts":
        return [f"{model_dir / name} does not exist" for name in XTTS_FILES
                if not (model_dir / name).is_file()]
    if not any((model_dir / name).is_file() for name in CHECKPOINT_NAMES):
        return [f"{model_dir} holds no checkpoint (one of {', '.join(CHECKPOINT_NAMES)})"]
    return []
