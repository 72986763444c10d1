"""The persona on screen: found in every talking shot, one person throughout, lips on the voice.

    faces = FaceTrack(plan)
    media = read_media(path, on_sample=faces.add)    # the mesh runs while the file decodes
    result = check_persona(media, plan, faces.meshes)

The face mesh (models/persona/face_mesh.py) runs on each analysis frame of a talking shot,
tracked from the previous frame's mesh within a shot and found afresh after each cut; cutaways
and the end card are not asked for a face. Identity across shots is two measures a
different face or a broken warp would move: the skin tone at both cheeks (CIELAB, the largest
difference between two shots' medians, in delta E) and the face's proportions (eye-corner span
over cheek width, the largest relative spread between shots). Lip sync: the inner-lip gap over
the face width, as its distance from the lips' rest (the median gap in silence), correlated
with the sound's RMS envelope at lags up to MAX_LAG_S either way; the
best correlation must reach MIN_SYNC_CORRELATION at a lag within MAX_SYNC_LAG_S, and the gap
must move (its 10-90 % range at least MIN_GAP_RANGE of the face width), or the mouth is frozen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipelines.qa.media import SAMPLE_EVERY, Media, Sample
from pipelines.qa.plan import ShotPlan
from pipelines.qa.result import CheckResult, graded, yes_no
from pipelines.contract import FPS

if TYPE_CHECKING:
    from models.persona.face_mesh import FaceMesh

MIN_FACE_SHARE = 0.9
MAX_TONE_DELTA_E = 15.0
MAX_PROPORTION_SPREAD = 0.12
MIN_SYNC_CORRELATION = 0.3
MAX_SYNC_LAG_S = 0.2
MAX_LAG_S = 0.5
QUIET_LEVEL = 0.1  # of the loudest envelope: silence, the lips at rest
MIN_SYNC_SAMPLES = 20  # 2 s of talking frames with a face
MIN_GAP_RANGE = 0.015  # draft renders: 0.020-0.067 speaking, 0.006-0.010 with the mouth frozen
GAP_RANGE_SPAN = 0.01
CHEEKS = (50, 280)  # mesh points on the cheeks, below the eyes
EYE_CORNERS = (33, 263)
STEP_S = SAMPLE_EVERY / FPS


class FaceTrack:
    """The face mesh of each talking sample, as read_media's `on_sample` hands them over:
    `meshes` maps a sample's frame index to its mesh (None: no face found)."""

    def __init__(self, plan: ShotPlan) -> None:
        self.plan = plan
        self.meshes: dict[int, FaceMesh | None] = {}
        self._last: tuple[int, FaceMesh | None] | None = None  # (shot index, its latest mesh)

    def add(self, sample: Sample) -> None:
        from models.persona.face_mesh import track_face_mesh

        shot = self.plan.at(sample.t_s)
        if shot is None or not shot.talking:
            self._last = None
            return
        previous = self._last[1] if self._last and self._last[0] == shot.index else None
        mesh = track_face_mesh(sample.rgb, previous, irises=False)
        self.meshes[sample.index] = mesh
        self._last = (shot.index, mesh)


def check_persona(media: Media, plan: ShotPlan, meshes: dict[int, FaceMesh | None]) -> CheckResult:
    """`meshes`: FaceTrack's, filled while `media` decoded."""
    per_shot: dict[int, list] = {}
    gaps, envelope = [], []
    for sample in media.frames:
        shot = plan.at(sample.t_s)
        talking = shot is not None and shot.talking
        mesh = meshes.get(sample.index) if talking else None
        if talking:
            per_shot.setdefault(shot.index, []).append(
                None if mesh is None else (_tone(sample.rgb, mesh), _proportion(mesh)))
        gaps.append(mesh.inner_lip_gap_px / mesh.face_width_px if mesh else np.nan)
        envelope.append(media.envelope(sample.t_s))
    if not plan.shots:  # no plan: which frames should show the persona is not known
        return CheckResult.of("persona", {"shot_plan": yes_no(False)}, {"talking_shots": None})
    if not per_shot:
        return CheckResult.of("persona", {}, {"talking_shots": 0})
    shares = {i: sum(m is not None for m in found) / len(found) for i, found in per_shot.items()}
    tone, proportion = _identity(per_shot)
    corr, lag_s = _sync(_from_rest(np.array(gaps), np.array(envelope)), np.array(envelope))
    valid = np.array(gaps)[~np.isnan(gaps)]
    gap_range = float(np.percentile(valid, 90) - np.percentile(valid, 10)) if len(valid) else 0.0
    criteria = {
        "face_found": graded(min(shares.values()), limit=MIN_FACE_SHARE, span=0.1),
        "identity_tone": graded(tone, limit=MAX_TONE_DELTA_E, span=10.0, lower_is_better=True),
        "identity_shape": graded(proportion, limit=MAX_PROPORTION_SPREAD, span=0.08,
                                 lower_is_better=True),
        "lips_move": graded(gap_range, limit=MIN_GAP_RANGE, span=GAP_RANGE_SPAN),
    }
    if len(valid) >= MIN_SYNC_SAMPLES:  # a shorter talking stretch has no measurable lag
        criteria["lip_sync"] = graded(corr, limit=MIN_SYNC_CORRELATION, span=0.3)
        criteria["lip_lag"] = graded(abs(lag_s), limit=MAX_SYNC_LAG_S, span=0.1,
                                     lower_is_better=True)
    figures = {"face_share_by_shot": {str(k): round(v, 3) for k, v in shares.items()},
               "tone_delta_e": round(tone, 2), "proportion_spread": round(proportion, 4),
               "sync_correlation": round(corr, 3), "sync_lag_s": round(lag_s, 3),
               "lip_gap_range": round(gap_range, 4), "sync_samples": int(len(valid))}
    bad = tuple(i for i, share in shares.items() if share < MIN_FACE_SHARE)
    return CheckResult.of("persona", criteria, figures, bad)


def _tone(rgb: np.ndarray, mesh) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    patches = []
    for index in CHEEKS:
        x, y = (int(round(v)) for v in mesh.points[index])
        r = max(2, round(0.04 * mesh.face_width_px))
        patch = rgb[max(0, y - r):min(h, y + r + 1), max(0, x - r):min(w, x + r + 1)]
        if patch.size:
            patches.append(patch.reshape(-1, 3))
    if not patches:
        return np.full(3, np.nan)
    mean = np.concatenate(patches).mean(axis=0).astype(np.float32) / 255.0
    return cv2.cvtColor(mean.reshape(1, 1, 3), cv2.COLOR_RGB2LAB).reshape(3)


def _proportion(mesh) -> float:
    a, b = (mesh.points[i] for i in EYE_CORNERS)
    return float(np.linalg.norm(a - b) / max(1e-6, mesh.face_width_px))


def _identity(per_shot: dict[int, list]) -> tuple[float, float]:
    tones, shapes = [], []
    for found in per_shot.values():
        seen = [m for m in found if m is not None]
        if seen:
            tones.append(np.nanmedian([t for t, _ in seen], axis=0))
            shapes.append(float(np.median([p for _, p in seen])))
    if len(tones) < 2:
        return 0.0, 0.0
    delta = max(float(np.linalg.norm(a - b)) for a in tones for b in tones)
    return delta, max(shapes) / min(shapes) - 1.0


def _from_rest(gaps: np.ndarray, envelope: np.ndarray) -> np.ndarray:
    """How far the lips are from their rest (the median gap while nobody speaks): a smiling
    persona rests with the teeth apart and closes the lips on some sounds, so speech moves
    the gap both ways."""
    quiet = (envelope < QUIET_LEVEL * np.max(envelope, initial=0.0)) & ~np.isnan(gaps)
    rest = np.median(gaps[quiet]) if quiet.sum() >= 3 else np.nanmedian(gaps) \
        if (~np.isnan(gaps)).any() else 0.0
    return np.abs(gaps - rest)


def _sync(gaps: np.ndarray, envelope: np.ndarray) -> tuple[float, float]:
    """(best correlation, its lag in s; positive: the sound comes late)."""
    most = round(MAX_LAG_S / STEP_S)
    curve = {lag: _corr_at(gaps, envelope, lag) for lag in range(-most, most + 1)}
    known = {lag: c for lag, c in curve.items() if c == c}
    if not known:
        return float("nan"), 0.0
    best = max(known, key=known.get)
    left, right = known.get(best - 1), known.get(best + 1)
    shift = 0.0
    if left is not None and right is not None and left - 2 * known[best] + right < 0:
        shift = 0.5 * (left - right) / (left - 2 * known[best] + right)
    return known[best], round((best + shift) * STEP_S, 3)


def _corr_at(gaps: np.ndarray, envelope: np.ndarray, lag: int) -> float:
    a = gaps[max(0, -lag):len(gaps) - max(0, lag)]
    b = envelope[max(0, lag):len(envelope) - max(0, -lag)]
    ok = ~np.isnan(a)
    if ok.sum() < 8 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
