"""The shot plan the generative tier renders: planned shots, or one talking shot per segment."""

from __future__ import annotations

import numpy as np
import pytest

from models.base import Speech
from pipelines.generative.scene import generation_size
from pipelines.generative.shots import plan_shots, segment_shots
from pipelines.voice import VoiceTrack


def _track(spans, duration):
    speech = Speech(np.zeros(int(duration * 16000), np.float32), 16000, ())
    return VoiceTrack(speech, tuple(spans), duration, round(duration * 30))


def test_without_a_plan_each_segment_is_one_talking_shot_cut_between_the_words():
    shots = segment_shots([(0.3, 3.5), (4.3, 7.6)], ["one", "two"], duration_s=8.5)
    assert [(s.start_s, s.end_s, s.talking, s.line) for s in shots] == [
        (0.0, 3.9, True, "one"), (3.9, 8.5, True, "two")]
    assert all(s.generated for s in shots)


def test_a_planned_cutaway_is_held_and_shots_run_until_the_next_one():
    document = {"shots": [
        {"index": 0, "kind": "medium", "start_s": 0.0, "end_s": 3.0, "talking": True},
        {"index": 2, "kind": "closeup", "start_s": 4.5, "end_s": 8.0, "talking": True},
        {"index": 1, "kind": "cutaway", "start_s": 3.0, "end_s": 4.5, "talking": False}]}
    shots = plan_shots(document, _track([(0.3, 7.0)], 8.0))
    assert [(s.kind, s.start_s, s.end_s, s.generated) for s in shots] == [
        ("medium", 0.0, 3.0, True), ("cutaway", 3.0, 4.5, False), ("closeup", 4.5, 8.0, True)]


def test_an_unknown_shot_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown kind 'drone'"):
        plan_shots({"shots": [{"kind": "drone", "start_s": 0}]}, _track([(0, 1)], 2.0))


def test_clips_are_generated_at_the_frames_aspect_within_the_models_size():
    # 1080x1920 becomes the release's native 9:16 size
    assert generation_size(1080, 1920, max_side_px=1280, multiple=32) == (704, 1280)
    assert generation_size(360, 640, max_side_px=1280, multiple=32) == (352, 640)
    assert generation_size(1920, 1080, max_side_px=832, multiple=16) == (832, 464)
