"""Line-break opportunities inside words written without spaces (Chinese, Japanese).

    pieces = breakable_words([WordTiming("これは最高のセラムです。", 0.0, 1.2)])
    [p.text for p in pieces]   # ["これは", "\u200b最高の", "\u200bセラムです。"]

Caption lines break between words, and a Japanese or Chinese sentence is one
whitespace-separated word. Such a word is cut into pieces the lines may break between: at a
change from hiragana to kanji or katakana (a cheap approximation of phrase boundaries that
needs no dictionary), after 。、！？, and inside a longer run of one kind every MAX_PIECE
characters; never before closing punctuation, small kana or the prolonged-sound mark, never
after an opening bracket. Each piece after the first starts with GLUE (a zero-width space):
it follows the previous piece without a space, and the page text and the WebVTT cue drop the
marker, so the sidecar keeps the exact written text. The word's spoken time is shared among
its pieces in proportion to their characters (the voice times whole words only).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from models.base import WordTiming
from pipelines.captions.fallback import clusters
from pipelines.captions.font import GLUE

MAX_PIECE = 4
_NO_BREAK_BEFORE = set("、。，．・：；？！ー）」』】〕〉》〙〗ゝゞヽヾ々…‥\"'”’)]}!?,.:;")
_NO_BREAK_BEFORE |= set("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ")
_NO_BREAK_AFTER = set("（「『【〔〈《〘〖([{\"'“‘")
_BREAK_AFTER = set("、。！？，")


def kind(cluster: str) -> str | None:
    """han, hiragana, katakana or None for anything that is not CJK."""
    name = unicodedata.name(cluster[0], "")
    if name.startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH")) or cluster[0] == "々":
        return "han"
    if name.startswith("HIRAGANA"):
        return "hiragana"
    if name.startswith(("KATAKANA", "HALFWIDTH KATAKANA")) or cluster[0] == "ー":
        return "katakana"
    if name.startswith(("CJK SYMBOL", "IDEOGRAPHIC", "FULLWIDTH")) or 0x3000 <= ord(cluster[0]) < 0x3040:
        return "punct"
    return None


def breakable_words(words: Sequence[WordTiming]) -> list[WordTiming]:
    """`words` with every word that holds CJK text cut into glued, timed pieces."""
    out: list[WordTiming] = []
    for word in words:
        pieces = _pieces(word.text)
        out.extend(_timed(word, pieces) if len(pieces) > 1 else [word])
    return out


def _pieces(text: str) -> list[str]:
    parts = clusters(text)
    if not any(kind(c) for c in parts):
        return [text]
    pieces: list[list[str]] = [[]]
    for i, cluster in enumerate(parts):
        if i and _breaks_before(parts, i, len(pieces[-1])):
            pieces.append([])
        pieces[-1].append(cluster)
    return ["".join(p) for p in pieces]


def _breaks_before(parts: list[str], i: int, run_length: int) -> bool:
    before, here = parts[i - 1], parts[i]
    if here in _NO_BREAK_BEFORE or before in _NO_BREAK_AFTER or here.isspace():
        return False
    if before in _BREAK_AFTER:
        return True
    a, b = kind(before), kind(here)
    if a is None or b is None or b == "punct":
        return False
    if a == "hiragana" and b in ("han", "katakana"):
        return True
    return a == b and run_length >= MAX_PIECE and b != "hiragana"


def _timed(word: WordTiming, pieces: list[str]) -> list[WordTiming]:
    counts = [len(clusters(p)) for p in pieces]
    total, done, out = sum(counts), 0, []
    span = word.end_s - word.start_s
    for index, (piece, count) in enumerate(zip(pieces, counts)):
        start = word.start_s + span * done / total
        done += count
        text = piece if index == 0 else GLUE + piece
        out.append(WordTiming(text=text, start_s=start, end_s=word.start_s + span * done / total))
    return out
