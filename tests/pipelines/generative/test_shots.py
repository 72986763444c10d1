"""The shot plan the generative tier renders: the edit's plan on the voice's timeline."""

from __future__ import annotations

import numpy as np
import pytest

from models.base import Script, ScriptSegment, Speech, WordTiming
from models.script.shots import PlannedShot
from pipelines.generative.scene import generation_size
from pipelines.generative.shots import edit_shots, segment_shots
from pipelines.voice import VoiceTrack

SEGMENTS = (ScriptSegment("hook", "Okay, Espresso Cups. Keeps espresso hot, which is huge."),
            ScriptSegment("cta", "Go see for yourself."))
PLAN = (PlannedShot(0, "closeup", 0, 2, "Okay, Espresso Cups."),
        PlannedShot(0, "cutaway", 3, 8, "Keeps espresso hot"),
        PlannedShot(1, "closeup", 0, 3))


def _track(words, spans, duration):
    speech = Speech(np.zeros(int(duration * 16000), np.float32), 16000, tuple(words))
    return VoiceTrack(speech, tuple(spans), duration, round(duration * 30))


def _spoken(segments, start_s=0.3, step_s=0.4):
    """One word every `step_s`, segments 1 s apart."""
    words, at = [], start_s
    for segment in segments:
        for text in segment.text.split():
            words.append(WordTiming(text, at, at + step_s - 0.05))
            at += step_s
        at += 1.0
    return words


def test_without_a_plan_each_segment_is_one_talking_shot_cut_between_the_words():
    shots = segment_shots([(0.3, 3.5), (4.3, 7.6)], ["one", "two"], duration_s=8.5)
    assert [(s.start_s, s.end_s, s.talking, s.line) for s in shots] == [
        (0.0, 3.9, True, "one"), (3.9, 8.5, True, "two")]
    assert all(s.generated for s in shots)


def test_the_plan_is_cut_on_the_voices_words_as_the_cpu_edit_cuts_it():
    words = _spoken(SEGMENTS)
    track = _track(words, [(0.3, 3.85), (4.9, 6.45)], 8.0)
    shots = edit_shots(Script(SEGMENTS, "standard_5phase", "conversational", "test", shots=PLAN),
                       track, fps=30, end_card_s=7.0)
    assert [s.kind for s in shots] == ["closeup", "cutaway", "closeup", "endcard"]
    assert [s.generated for s in shots] == [True, False, True, False]
    assert shots[0].start_s == 0.0 and shots[-1].end_s == 8.0
    assert all(a.end_s == b.start_s for a, b in zip(shots, shots[1:]))  # no gap, no overlap
    assert all(round(s.start_s * 30, 6).is_integer() for s in shots)  # cuts fall on frames
    assert shots[1].start_s <= words[3].start_s < shots[1].end_s  # the cutaway's first word
    assert shots[3].start_s == 7.0
    assert shots[0].title == "Okay, Espresso Cups." and shots[1].line.startswith("Keeps")
    assert shots[1].as_dict() == {"index": 1, "segment": 0, "kind": "cutaway",
                                  "start_s": 1.467, "end_s": 4.367,
                                  "line": "Keeps espresso hot, which is huge.", "talking": False,
                                  "title": "Keeps espresso hot", "generated": False}


def test_a_voice_that_spoke_other_words_than_the_script_is_refused():
    track = _track(_spoken(SEGMENTS)[:-1], [(0.3, 3.85), (4.9, 6.05)], 8.0)
    with pytest.raises(ValueError, match="the voice spoke 12 words, the script has 13"):
        edit_shots(Script(SEGMENTS, "s", "t", "test", shots=PLAN), track, fps=30, end_card_s=7.0)


def test_clips_are_generated_at_the_frames_aspect_within_the_models_size():
    # 1080x1920 becomes the release's native 9:16 size
    assert generation_size(1080, 1920, max_side_px=1280, multiple=32) == (704, 1280)
    assert generation_size(360, 640, max_side_px=1280, multiple=32) == (352, 640)
    assert generation_size(1920, 1080, max_side_px=832, multiple=16) == (832, 464)
