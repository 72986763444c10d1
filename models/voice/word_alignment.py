"""Word and phoneme timings from the phoneme stream a voice spoke.

    stream = [Phone("^", 0.0, 0.03), Phone("h", 0.03, 0.09), ...]   # every symbol, in seconds
    words = align_words(["Hi", "there."], [["h", "aɪ"], ["ð", "ɛ", "ɹ"]], stream, duration_s=0.9)
    phonemes = phoneme_timings(stream)  # sounding phonemes only, stress and length marks merged

espeak groups phonemes into words in its own way (it splits "24/7" into four words and merges
"in the" into one), so the caller phonemizes each written word on its own and `align_words`
matches that sequence against what the voice spoke (difflib), giving each spoken phoneme to
one written word. Words left with none share the pause or a neighbour's time by length.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np
from piper.const import BOS, EOS, PAD

from models.base import PhonemeTiming, WordTiming

_STRESS = frozenset("ˈˌ")
_SEPARATORS = frozenset({" ", BOS, EOS, PAD, *".,;:!?¡¿—–…\"'()-"})
# Marks that modify the phoneme before them (length, palatal glide, combining diacritics).
_MODIFIERS = frozenset("ːˑʲʰʷ˞")
_MIN_WORD_S = 0.08
_SILENT_TOKEN_WEIGHT = 0.25  # in characters


@dataclass(frozen=True)
class Phone:
    """One symbol of the spoken phoneme stream (spaces and punctuation included), in seconds."""

    symbol: str
    start_s: float
    end_s: float


def is_sound(symbol: str) -> bool:
    return symbol not in _SEPARATORS


def _is_modifier(symbol: str) -> bool:
    return symbol in _MODIFIERS or unicodedata.combining(symbol) > 0


def plain_sounds(symbols: Iterable[str]) -> list[str]:
    """The sounding phonemes among `symbols`, stress marks left out."""
    return [s for s in symbols if is_sound(s) and s not in _STRESS]


# --- word timings ----------------------------------------------------------------------------

def align_words(words: Sequence[str], expected: Sequence[Sequence[str]], stream: Sequence[Phone],
                *, duration_s: float) -> tuple[WordTiming, ...]:
    """One timing per written word, monotonic and non-overlapping, inside [0, duration_s].

    `expected[i]` is how word i sounds on its own; `stream` is what the voice spoke. The two
    phoneme sequences are aligned; each spoken phoneme is owned by one word, and a word spans
    its phonemes. Words that own none (a lone dash, a mismatch) share time by character count.
    """
    sounds = [i for i, p in enumerate(stream) if is_sound(p.symbol)]
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
        if any(not is_sound(p.symbol) for p in stream[previous + 1:k]):
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

def phoneme_timings(stream: Sequence[Phone]) -> tuple[PhonemeTiming, ...]:
    """Sounding phonemes only: a stress mark's time goes to the vowel after it, a length
    mark or diacritic joins the phoneme before it (so "iː" is one phoneme)."""
    out: list[PhonemeTiming] = []
    stress_start: float | None = None
    for phone in stream:
        if not is_sound(phone.symbol):
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
