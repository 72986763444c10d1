"""The voice-over: each script segment spoken and placed on the video's timeline.

    track = speak(script, voice, speed=1.0, segment_duration_s=8, fps=30)
    track.speech.words          # every word with its start and end on the timeline
    track.duration_s            # the video's length: the segments' slots, longer only if needed

Segment i is spoken from the start of its slot (i x segment_duration) plus a short lead, so
the persona pauses between segments; a segment that runs long pushes the next one back rather
than overlapping it, and the video grows to fit the last word plus a short tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.base import Script, Speech, VoiceBackend
from pipelines.audio import build_voice_track

LEAD_S = 0.3  # silence before each segment's first word
GAP_S = 0.25  # minimum pause between two segments
TAIL_S = 0.6  # silence after the last word before the video may end


@dataclass(frozen=True)
class VoiceTrack:
    speech: Speech  # the whole voice-over on the video timeline
    segment_spans: tuple[tuple[float, float], ...]  # (first word start, last word end) per segment
    duration_s: float  # video duration, a whole number of frames
    frame_count: int


def speak(script: Script, voice: VoiceBackend, *, speed: float, segment_duration_s: float,
          fps: int) -> VoiceTrack:
    utterances = [voice.synthesize(segment.text, speed=speed) for segment in script.segments]
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


def _span(utterance: Speech, start_s: float) -> tuple[float, float]:
    if not utterance.words:
        return (start_s, start_s + utterance.duration_s)
    return (start_s + utterance.words[0].start_s, start_s + utterance.words[-1].end_s)
