"""Word timings by CTC forced alignment: the MMS aligner (wav2vec2) and torchaudio's forced_align.

    aligner = load_aligner(Path("models_data/mms-fa"), device="cuda")   # once per process
    words = aligner.align(samples, 24000, ["Bonjour", "à", "tous."])   # a WordTiming per word

The model is torchaudio's `MMS_FA`: Meta's MMS wav2vec2 (300 M parameters) fine-tuned for
alignment on 1,130 languages of romanised text, its 28 output letters (a-z and the apostrophe)
plus the CTC blank; the released file is one state dict, `model.pt` (CC-BY-NC 4.0: see
docs/voices.md). The architecture is torchaudio's own description of it (`MMS_FA._params`); a
directory may carry a `params.json` that replaces it (the reduced random models of the tests).

Each written word is romanised (`anyascii`: accents dropped, Greek, Cyrillic, Arabic, CJK
transliterated), lower-cased and kept to the model's letters; a word with none left (a number,
an emoji) becomes the `*` token, which matches any sound. The audio at 16 kHz gives per-frame
letter log-probabilities (20 ms frames); `forced_align` finds the most likely path through the
transcript's letters and each word runs from its first letter's first frame to its last
letter's last frame. Timings are monotonic, non-overlapping and inside the audio.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.base import WordTiming
from models.voice.coqui.model import once_per_process

WEIGHTS = "model.pt"
PARAMS = "params.json"
RELEASE_URL = "https://dl.fbaipublicfiles.com/mms/torchaudio/ctc_alignment_mling_uroman/model.pt"
SAMPLE_RATE = 16000
STAR = "*"
MIN_WORD_S = 0.01


def release_params() -> dict[str, Any]:
    """The released model's architecture, as torchaudio describes it."""
    from torchaudio.pipelines import MMS_FA

    return dict(MMS_FA._params)


def labels() -> dict[str, int]:
    """The model's output tokens: the blank "-" at 0, 27 letters, the star last."""
    from torchaudio.pipelines import MMS_FA

    return MMS_FA.get_dict(star=STAR)


def missing_files(model_dir: Path) -> list[str]:
    path = Path(model_dir) / WEIGHTS
    return [] if path.is_file() else [f"the forced aligner's weights {path} are missing"]


def romanised(word: str, known: dict[str, int]) -> str:
    """`word`'s letters as the model's: transliterated, lower case, anything else left out;
    STAR when nothing is left."""
    from anyascii import anyascii

    spelled = "".join(c for c in word if c.isalpha() or c in "'’")  # no emoji names, digits
    letters = "".join(c for c in anyascii(spelled).lower() if c in known and c not in "-*")
    return letters or STAR


@dataclass
class CtcAligner:
    model: Any  # torchaudio Wav2Vec2Model, eval mode
    device: str
    tokens: dict[str, int]
    lock: threading.Lock

    def align(self, samples: np.ndarray, sample_rate: int,
              words: Sequence[str]) -> tuple[WordTiming, ...]:
        """One timing per written word of `words`, spoken in `samples` (mono float32)."""
        if not words:
            return ()
        emission, seconds_per_frame = self._emission(samples, sample_rate)
        spans = self._word_spans(emission, [romanised(w, self.tokens) for w in words])
        duration_s = len(samples) / sample_rate
        return _timings(words, spans, seconds_per_frame, duration_s)

    def _emission(self, samples: np.ndarray, sample_rate: int) -> tuple[Any, float]:
        import torch
        import torchaudio.functional as F

        wave = torch.from_numpy(np.ascontiguousarray(samples, np.float32))[None]
        if sample_rate != SAMPLE_RATE:
            wave = F.resample(wave, sample_rate, SAMPLE_RATE)
        with self.lock, torch.inference_mode():
            wave = torch.nn.functional.layer_norm(wave, wave.shape)  # as MMS_FA normalises
            logits, _ = self.model(wave.to(self.device))
            emission = torch.log_softmax(logits.float(), dim=-1)
        star = torch.zeros((*emission.shape[:2], 1), dtype=emission.dtype, device=emission.device)
        emission = torch.cat((emission, star), dim=-1).cpu()  # the star matches any frame
        return emission, wave.shape[1] / SAMPLE_RATE / emission.shape[1]

    def _word_spans(self, emission: Any, letters: list[str]) -> list[tuple[int, int]]:
        """(first frame, end frame) per word along the most likely CTC path."""
        import torch
        import torchaudio.functional as F

        targets = [self.tokens[c] for word in letters for c in word]
        needed = len(targets) + sum(a == b for a, b in zip(targets, targets[1:]))
        if emission.shape[1] < needed:
            raise ValueError(f"forced alignment: {emission.shape[1]} frames of audio cannot "
                             f"hold the {len(targets)} letters of the text")
        with warnings.catch_warnings():  # deprecated in torchaudio 2.9, still its aligner
            warnings.simplefilter("ignore", UserWarning)
            path, scores = F.forced_align(emission, torch.tensor([targets], dtype=torch.int32),
                                          blank=0)
            letter_spans = F.merge_tokens(path[0], scores[0].exp())
        spans, at = [], 0
        for word in letters:
            first, last = letter_spans[at], letter_spans[at + len(word) - 1]
            spans.append((first.start, last.end))
            at += len(word)
        return spans


def _timings(words: Sequence[str], spans: Sequence[tuple[int, int]], seconds_per_frame: float,
             duration_s: float) -> tuple[WordTiming, ...]:
    timed, floor = [], 0.0
    for word, (first, end) in zip(words, spans):
        start = min(max(floor, first * seconds_per_frame), duration_s)
        stop = min(duration_s, max(start + MIN_WORD_S, end * seconds_per_frame))
        start = min(start, stop)
        timed.append(WordTiming(word, round(start, 3), round(stop, 3)))
        floor = stop
    return tuple(timed)


def load_aligner(model_dir: Path, *, device: str) -> CtcAligner:
    """The aligner in `model_dir` on `device`, loaded on the first call for that pair."""
    return _load_once(model_dir, device)


def _load(model_dir: Path, device: str) -> CtcAligner:
    import torch
    from torchaudio.models import wav2vec2_model

    problems = missing_files(model_dir)
    if problems:
        raise FileNotFoundError("; ".join(problems))
    custom = model_dir / PARAMS
    params = json.loads(custom.read_text()) if custom.is_file() else release_params()
    model = wav2vec2_model(**params)
    state = torch.load(model_dir / WEIGHTS, map_location="cpu", weights_only=True)
    model.load_state_dict(without_unused_outputs(state, params["aux_num_out"]), strict=True)
    model.to(device).eval()
    return CtcAligner(model, device, labels(), threading.Lock())


_load_once = once_per_process(_load)


def without_unused_outputs(state: dict[str, Any], outputs: int) -> dict[str, Any]:
    """The release's output layer has 3 more rows than letters (fairseq's unused <pad>, </s>
    and <unk> at 1-3); torchaudio drops them the same way when it loads MMS_FA."""
    rows = state["aux.weight"].shape[0]
    if rows == outputs:
        return state
    if rows != outputs + 3:
        raise ValueError(f"forced aligner: output layer has {rows} rows, expected {outputs} "
                         f"or {outputs + 3}")
    keep = [0, *range(4, rows)]
    return {**state, "aux.weight": state["aux.weight"][keep], "aux.bias": state["aux.bias"][keep]}
