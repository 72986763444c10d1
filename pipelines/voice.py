"""The voice-over: each script segment spoken and placed on the video's timeline.

    track = speak(script, voice, speed=1.0, segment_duration_s=8, fps=30)
    track.speech.words          # every word with its start and end on the timeline
    track.duration_s            # the video's length: the segments' slots, longer only if needed

Segment i is spoken from the start of its slot (i x segment_duration) plus a short lead, so
the persona pauses between segments; a segment that runs long pushes the next one back rather
than overlapping it, and the video grows to fit the last word plus a short tail.

The words keep the script as written (emoji, "&", symbols), which the captions show; the voice
is given what it can read (`speakable`: no emoji, "&" as "and") and each written word takes
the time of the words spoken for it. A written word with nothing to say (an emoji on its own)
takes the pause between its neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.base import PhonemeTiming, Script, Speech, VoiceBackend, WordTiming
from models.script.copywriter.language import speakable

LEAD_S = 0.3  # silence before each segment's first word
GAP_S = 0.25  # minimum pause between two segments
TAIL_S = 0.6  # silence after the last word before the video may end
SILENT_WORD_S = 0.4  # a segment with nothing to say (emoji only) shows each word this long


@dataclass(frozen=True)
class VoiceTrack:
    speech: Speech  # the whole voice-over on the video timeline
    segment_spans: tuple[tuple[float, float], ...]  # (first word start, last word end) per segment
    duration_s: float  # video duration, a whole number of frames
    frame_count: int


def speak(script: Script, voice: VoiceBackend, *, speed: float, segment_duration_s: float,
          fps: int) -> VoiceTrack:
    utterances = [say(voice, segment.text, speed=speed) for segment in script.segments]
    starts, cursor = [], 0.0
    for index, utterance in enumerate(utterances):
        start = max(index * segment_duration_s + LEAD_S, cursor + GAP_S if index else 0.0)
        starts.append(start)
        cursor = start + utterance.duration_s
    target = len(utterances) * segment_duration_s
    frame_count = math.ceil(max(target, cursor + TAIL_S) * fps - 1e-6)
    duration_s = frame_count / fps
    speech = build_voice_track(utterances, starts, duration_s=duration_s)
    spans = tuple(_span(u, s) for u, s in zip(utterances, starts, strict=True))
    return VoiceTrack(speech=speech, segment_spans=spans, duration_s=duration_s,
                      frame_count=frame_count)


def say(voice: VoiceBackend, text: str, *, speed: float) -> Speech:
    """`text` spoken as the voice can read it, timed by its written words."""
    written = text.split()
    spoken = [[w for w in speakable(token).split() if any(c.isalnum() for c in w)]
              for token in written]
    if all(words == [token] for token, words in zip(written, spoken)):
        return voice.synthesize(text, speed=speed)  # nothing to translate: the words as they are
    if not any(spoken):
        return _silent(written, voice.sample_rate)
    speech = voice.synthesize(" ".join(w for words in spoken for w in words), speed=speed)
    timings: list[WordTiming | None] = []
    position = 0
    for token, words in zip(written, spoken):
        if not words:
            timings.append(None)
            continue
        first, last = speech.words[position], speech.words[position + len(words) - 1]
        timings.append(WordTiming(token, first.start_s, last.end_s))
        position += len(words)
    return replace(speech, words=tuple(_fill_silent(written, timings, speech.duration_s)))


def _fill_silent(written: list[str], timings: list[WordTiming | None],
                 duration_s: float) -> list[WordTiming]:
    filled = []
    for i, (token, timing) in enumerate(zip(written, timings)):
        if timing is None:
            start = filled[-1].end_s if filled else 0.0
            end = next((t.start_s for t in timings[i + 1:] if t is not None), duration_s)
            timing = WordTiming(token, start, max(start, end))
        filled.append(timing)
    return filled


def _silent(written: list[str], sample_rate: int) -> Speech:
    words = tuple(WordTiming(token, i * SILENT_WORD_S, (i + 1) * SILENT_WORD_S)
                  for i, token in enumerate(written))
    samples = np.zeros(round(len(written) * SILENT_WORD_S * sample_rate), np.float32)
    return Speech(samples=samples, sample_rate=sample_rate, words=words, backend="silence")


def _span(utterance: Speech, start_s: float) -> tuple[float, float]:
    if not utterance.words:
        return (start_s, start_s + utterance.duration_s)
    return (start_s + utterance.words[0].start_s, start_s + utterance.words[-1].end_s)


def build_voice_track(speeches: Sequence[Speech], starts_s: Sequence[float], *,
                      duration_s: float) -> Speech:
    """Place each utterance at its start on one silent timeline of exactly `duration_s`.

    Utterances at another sample rate than the first are resampled to it. Words and phonemes
    move to timeline time. Overlapping utterances or one running past the end are caller errors.
    """
    if not speeches or len(speeches) != len(starts_s):
        raise ValueError(f"need one start per utterance, got {len(speeches)} utterances and "
                         f"{len(starts_s)} starts")
    rate = speeches[0].sample_rate
    track = np.zeros(round(duration_s * rate), np.float32)
    words: list[WordTiming] = []
    phonemes: list[PhonemeTiming] = []
    previous_end, order = 0, sorted(range(len(speeches)), key=lambda i: starts_s[i])
    for i in order:
        samples = _resample(speeches[i].samples, speeches[i].sample_rate, rate)
        first = round(starts_s[i] * rate)
        _check_slot(i, first, len(samples), previous_end, len(track), rate)
        track[first:first + len(samples)] = samples
        previous_end = first + len(samples)
        offset_s = first / rate
        words += [WordTiming(w.text, w.start_s + offset_s, w.end_s + offset_s)
                  for w in speeches[i].words]
        phonemes += [PhonemeTiming(p.phoneme, p.start_s + offset_s, p.end_s + offset_s)
                     for p in speeches[i].phonemes]
    backends = dict.fromkeys(s.backend for s in speeches)
    return Speech(track, rate, tuple(words), tuple(phonemes), backend="+".join(backends))


def _check_slot(index: int, first: int, length: int, previous_end: int, total: int,
                rate: int) -> None:
    if first < 0:
        raise ValueError(f"utterance {index} starts before the track ({first / rate:.3f} s)")
    if first < previous_end:
        raise ValueError(f"utterance {index} starts at {first / rate:.3f} s, before the previous "
                         f"one ends at {previous_end / rate:.3f} s")
    if first + length > total:
        raise ValueError(f"utterance {index} ends at {(first + length) / rate:.3f} s, after the "
                         f"track's {total / rate:.3f} s")


def _resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling by FFT (ideal low-pass); speech has silence at both ends."""
    if source_rate == target_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    count = round(len(samples) * target_rate / source_rate)
    out = np.fft.irfft(np.fft.rfft(samples), count) * (count / len(samples))
    return np.clip(out, -1.0, 1.0).astype(np.float32)
