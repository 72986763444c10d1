"""Each shot's frames: motion resampled to 30 fps, held shots, and lip-sync on generated clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.spec import parse_job
from models.base import MotionClip, Speech, WordTiming
from pipelines.generative.clips import ClipJob, held_frames, shot_frames, slice_speech, source_index
from pipelines.generative.keyframes import Keyframes
from pipelines.generative.record import GenerativeRecord
from pipelines.generative.shots import Shot
from tests.conftest import JOBS

PERSONA = Path(__file__).resolve().parents[3] / "configs" / "personas" / "eileen_collins.png"


PRODUCT_FRAME = np.full((64, 36, 3), 200, np.uint8)  # a cutaway's frame in these tests


class ReplayMotion:
    """A motion backend that replays numbered frames (frame i is filled with value i)."""

    name, fps = "replay", 24.0

    def __init__(self):
        self.requests = []

    def animate(self, request):
        self.requests.append(request)
        count = 4 * round(request.duration_s * self.fps / 4) + 1
        frames = np.stack([np.full((request.height, request.width, 3), i, np.uint8)
                           for i in range(count)])
        return MotionClip(frames, self.fps)


class NoLipSync:
    name = "viseme"


def _job(motion, animator=NoLipSync(), *, speech=None):
    spec = parse_job({"product_name": "Cup", "product_image_url": str(JOBS / "espresso_cup.png"),
                      "segment_count": 1, "segment_duration": 3})
    speech = speech or Speech(np.zeros(16000 * 3, np.float32), 16000, ())
    return ClipJob(spec, motion, animator, speech, (36, 64), (36, 64), 30, 1.0, PRODUCT_FRAME)


def test_the_models_24_fps_becomes_30_by_nearest_frame_forward_then_backward():
    assert [source_index(i, 24.0, 30, 25) for i in range(6)] == [0, 0, 1, 2, 3, 4]
    assert [source_index(i, 30.0, 30, 3) for i in range(8)] == [0, 1, 2, 1, 0, 1, 2, 1]


def test_a_generated_shot_longer_than_the_clip_cap_replays_the_clip():
    motion, record = ReplayMotion(), GenerativeRecord("k", "replay")
    shot = Shot(0, "medium", 0.0, 2.0, "hello", talking=True)
    anchor = np.zeros((64, 36, 3), np.uint8)
    frames = list(shot_frames(shot, Keyframes(anchor, {0: anchor}), job=_job(motion), record=record))
    assert len(frames) == 60 and frames[0].shape == (64, 36, 3)
    assert motion.requests[0].duration_s == 1.0  # capped at max_motion_s
    values = [int(f[0, 0, 0]) for f in frames]
    assert max(values) == 24 and values[30] == 24 and values[-1] < 24  # forward, then back
    assert record.clips[0]["frames"] == 25 and record.clips[0]["fps"] == 24.0


def test_a_held_shot_pushes_in_on_the_keyframe_and_generates_nothing():
    image = np.zeros((64, 36, 3), np.uint8)
    image[:, 18:] = 255
    frames = list(held_frames(image, 30, size=(36, 64)))
    assert len(frames) == 30 and np.array_equal(frames[0], image)
    assert not np.array_equal(frames[-1], image)  # zoomed in about the centre
    motion = ReplayMotion()
    shot = Shot(1, "endcard", 2.0, 3.0, "", talking=False)
    held = list(shot_frames(shot, Keyframes(image), job=_job(motion),
                            record=GenerativeRecord("k", "m")))
    assert len(held) == 30 and motion.requests == []
    assert np.array_equal(held[0], image)


def test_a_cutaway_shows_the_product_frame_not_the_keyframe_and_generates_nothing():
    motion, record = ReplayMotion(), GenerativeRecord("k", "m")
    anchor = np.zeros((64, 36, 3), np.uint8)
    shot = Shot(1, "cutaway", 2.0, 2.5, "", talking=False)
    frames = list(shot_frames(shot, Keyframes(anchor), job=_job(motion), record=record))
    assert len(frames) == 15 and np.array_equal(frames[0], PRODUCT_FRAME)
    assert motion.requests == [] and record.lipsync == []


def test_a_shots_voice_is_cut_and_re_timed_from_its_start():
    speech = Speech(np.arange(48000, dtype=np.float32), 16000,
                    (WordTiming("one", 0.2, 0.6), WordTiming("two", 1.1, 1.5),
                     WordTiming("three", 2.2, 2.8)))
    part = slice_speech(speech, 1.0, 2.0)
    assert part.duration_s == 1.0 and part.samples[0] == 16000
    assert [(w.text, round(w.start_s, 3), round(w.end_s, 3)) for w in part.words] == [
        ("two", 0.1, 0.5)]


@pytest.mark.integration
def test_a_talking_clip_with_a_face_is_lip_synced_by_musetalk(tmp_path):
    pytest.importorskip("diffusers")
    from models.persona.musetalk import MuseTalkAnimator
    from models.persona.musetalk.tiny import write_tiny_release

    write_tiny_release(tmp_path / "musetalk")
    animator = MuseTalkAnimator(cache_dir=tmp_path / "cache", model_dir=tmp_path / "musetalk",
                                device="cpu", batch_size=4)
    portrait = np.asarray(Image.open(PERSONA).convert("RGB").resize((180, 320)))

    class StillMotion(ReplayMotion):
        def animate(self, request):
            return MotionClip(np.stack([portrait] * 9), self.fps)

    rng = np.random.default_rng(0)
    voice = Speech((0.3 * rng.standard_normal(16000)).astype(np.float32), 16000,
                   (WordTiming("hello", 0.0, 1.0),))
    job = _job(StillMotion(), animator, speech=voice)
    job = ClipJob(job.spec, job.motion, animator, voice, (180, 320), (180, 320), 30, 1.0,
                  PRODUCT_FRAME)
    record = GenerativeRecord("k", "still")
    shot = Shot(0, "medium", 0.0, 1.0, "hello", talking=True)
    frames = list(shot_frames(shot, Keyframes(portrait, {0: portrait}), job=job, record=record))
    assert record.lipsync == [{"shot": 0, "synced": True}]
    assert len(frames) == 30 and frames[0].shape == (320, 180, 3)
    # the clip is one still picture: only the generated mouth can make its frames differ
    assert len({frame.tobytes() for frame in frames}) > 1


def test_a_talking_clip_without_a_face_is_shown_unsynced_and_the_record_says_why(tmp_path):
    class FaceLess:
        name = "musetalk"

        def prepare_video(self, persona_id, frames, *, fps, panel_w, panel_h):
            raise ValueError("no face found")

    record = GenerativeRecord("k", "replay")
    shot = Shot(0, "medium", 0.0, 1.0, "hi", talking=True)
    anchor = np.zeros((64, 36, 3), np.uint8)
    frames = list(shot_frames(shot, Keyframes(anchor, {0: anchor}), job=_job(ReplayMotion(), FaceLess()),
                              record=record))
    assert len(frames) == 30
    assert record.lipsync == [{"shot": 0, "synced": False, "reason": "no face found"}]
