"""Word and phoneme timings from the per-token durations a Coqui duration model reports.

    words, phonemes = token_timings(text.split(), ids, frames, tokenizer, hop_s=256 / 22050,
                                    phonemes=True)

VITS predicts how many spectrogram frames each input token lasts. Its tokens are the cleaned
text's characters, or IPA phonemes when the model was trained on phonemes, with a blank token
between every two (`add_blank`) and maybe BOS/EOS. The token stream becomes a stream of
`Phone`s in seconds (a blank's time joins the symbol before it: it is the transition out of
it; special tokens become pauses), and the written words are matched to it the way the Piper
voice matches espeak's phonemes (`models.voice.word_alignment.align_words`): each word is tokenized
on its own by the model's tokenizer and the two sequences are aligned, so a cleaner that
expands "3" to "three" or a phonemizer that merges two words still gives one timing per word.
Phoneme timings come only from phoneme models (letters are no visemes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.base import PhonemeTiming, WordTiming
from models.voice.word_alignment import Phone, align_words, phoneme_timings, plain_sounds

PAUSE = " "  # a separator for word_alignment: special tokens and spaces are pauses


def token_timings(words: Sequence[str], ids: Sequence[int], frames: Sequence[float],
                  tokenizer: Any, *, hop_s: float, phonemes: bool
                  ) -> tuple[tuple[WordTiming, ...], tuple[PhonemeTiming, ...]]:
    """One timing per written word (and per spoken phoneme when `phonemes`), in seconds.

    `ids` and `frames` are the model's input tokens and their predicted durations in frames
    of `hop_s` seconds; `tokenizer` is the model's Coqui `TTSTokenizer`."""
    if len(ids) != len(frames):
        raise ValueError(f"{len(ids)} tokens but {len(frames)} durations")
    stream = token_stream(ids, frames, tokenizer, hop_s=hop_s)
    duration_s = sum(frames) * hop_s
    expected = [plain_sounds(symbols(tokenizer.text_to_ids(word), tokenizer)) for word in words]
    timed = align_words(list(words), expected, stream, duration_s=duration_s)
    rounded = tuple(WordTiming(w.text, round(w.start_s, 3), round(w.end_s, 3)) for w in timed)
    return rounded, (phoneme_timings(stream) if phonemes else ())


def token_stream(ids: Sequence[int], frames: Sequence[float], tokenizer: Any, *,
                 hop_s: float) -> list[Phone]:
    """Every token as a `Phone` in seconds; a blank's time extends the phone before it."""
    characters = tokenizer.characters
    blank = characters.blank_id if tokenizer.add_blank else None
    special = {characters.pad_id, characters.bos_id, characters.eos_id} - {None}
    stream: list[Phone] = []
    cursor = 0.0
    for token, count in zip(ids, frames, strict=True):
        end = cursor + float(count) * hop_s
        if token == blank and stream:
            last = stream[-1]
            stream[-1] = Phone(last.symbol, last.start_s, end)
        elif token != blank:
            symbol = PAUSE if token in special else characters.id_to_char(token)
            stream.append(Phone(symbol, cursor, end))
        cursor = end
    return stream


def symbols(ids: Sequence[int], tokenizer: Any) -> list[str]:
    """The token symbols of `ids`, blanks and special tokens left out."""
    characters = tokenizer.characters
    skip = {characters.pad_id, characters.bos_id, characters.eos_id} - {None}
    if tokenizer.add_blank:
        skip.add(characters.blank_id)
    return [characters.id_to_char(i) for i in ids if i not in skip]
