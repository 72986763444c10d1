"""Find the face, eyes and mouth of a portrait with OpenCV's Haar cascades, cached on disk.

    landmarks = locate_face(image, persona_id="grace", cache_dir=Path(".cache/personas"))
    landmarks.mouth        # Box in source-image pixels
    landmarks.scaled(2.0, dx=-100, dy=-40)   # the same points in a resized, shifted layout

Detection runs once per persona image: the result is a small JSON in `cache_dir`, keyed by the
persona id and a hash of the pixels, so a changed image is detected again. A portrait with no
frontal face raises `ValueError` naming the persona; the caller decides which job error it is.

Eyes are searched in the face's upper half and mouths (`haarcascade_smile.xml`) in its lower
third; a part the cascade misses is estimated from the face's proportions, and the fields
`eye_source` and `mouth_source` say which happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from models.base import Box

CACHE_VERSION = 1


@dataclass(frozen=True)
class FaceLandmarks:
    """Face parts in image pixels. `left_eye` is the eye on the image's left side."""

    face: Box
    left_eye: Box
    right_eye: Box
    mouth: Box
    eye_source: str = "cascade"  # "cascade", "mirrored" (one eye found) or "estimate"
    mouth_source: str = "cascade"  # "cascade" or "estimate"

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres in pixels."""
        (lx, ly), (rx, ry) = self.left_eye.centre, self.right_eye.centre
        return float(np.hypot(rx - lx, ry - ly))

    def scaled(self, factor: float, *, dx: float = 0.0, dy: float = 0.0) -> FaceLandmarks:
        """The same landmarks after scaling the image by `factor` and shifting by (dx, dy)."""
        return FaceLandmarks(
            *(box.scaled(factor, dx=dx, dy=dy)
              for box in (self.face, self.left_eye, self.right_eye, self.mouth)),
            eye_source=self.eye_source, mouth_source=self.mouth_source)


def locate_face(image: np.ndarray, *, persona_id: str, cache_dir: Path) -> FaceLandmarks:
    """Landmarks of `image` (RGB uint8), from the disk cache when this image was seen before."""
    path = cache_dir / f"face-{_safe_name(persona_id)}-{_image_digest(image)[:16]}.json"
    cached = _read_cache(path)
    if cached is not None:
        return cached
    landmarks = detect_landmarks(image, persona_id=persona_id)
    _write_atomically(path, _to_json(landmarks))
    return landmarks


def detect_landmarks(image: np.ndarray, *, persona_id: str) -> FaceLandmarks:
    """Run the cascades on `image` (RGB uint8). Raises ValueError when no face is found."""
    gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    face = _detect_face(gray)
    if face is None:
        raise ValueError(f"persona {persona_id!r}: no frontal face found in the portrait")
    left_eye, right_eye, eye_source = _detect_eyes(gray, face)
    mouth, mouth_source = _detect_mouth(gray, face, left_eye, right_eye)
    return FaceLandmarks(face, left_eye, right_eye, mouth, eye_source, mouth_source)


# --- detection ----------------------------------------------------------------------------

def _cascade(name: str) -> cv2.CascadeClassifier:
    classifier = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, name))
    if classifier.empty():
        raise FileNotFoundError(f"OpenCV cascade {name} is missing from this install")
    return classifier


def _detect_face(gray: np.ndarray) -> Box | None:
    min_side = max(24, min(gray.shape) // 10)
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"):
        found = _cascade(name).detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                minSize=(min_side, min_side))
        if len(found):
            return Box(*(int(v) for v in max(found, key=lambda b: b[2] * b[3])))
    return None


def _detect_in(gray: np.ndarray, region: Box, name: str, *, neighbours: int,
               min_size: tuple[int, int]) -> list[Box]:
    """Cascade hits inside `region`, in image coordinates."""
    crop = gray[region.y:region.y + region.h, region.x:region.x + region.w]
    found = _cascade(name).detectMultiScale(crop, scaleFactor=1.05, minNeighbors=neighbours,
                                            minSize=min_size)
    return [Box(int(x) + region.x, int(y) + region.y, int(w), int(h)) for x, y, w, h in found]


def _detect_eyes(gray: np.ndarray, face: Box) -> tuple[Box, Box, str]:
    upper = _clip(Box(face.x, face.y, face.w, face.h // 2), gray.shape)
    size = max(6, face.w // 10)
    hits: list[Box] = []
    for name in ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml"):
        hits += _detect_in(gray, upper, name, neighbours=3, min_size=(size, size))
    # Plausible eyes are a fifth to a third of the face wide; glasses frames give larger hits.
    hits = [b for b in hits if 0.12 * face.w <= b.w <= 0.38 * face.w]
    mid = face.x + face.w / 2
    left = [b for b in hits if b.centre[0] < mid - 0.05 * face.w]
    right = [b for b in hits if b.centre[0] > mid + 0.05 * face.w]
    if left and right:
        pair = min(((a, b) for a in left for b in right), key=lambda p: _pair_cost(p, face))
        return pair[0], pair[1], "cascade"
    if left or right:
        eye = max(left or right, key=lambda b: b.w)
        twin = Box(round(2 * mid - eye.x - eye.w), eye.y, eye.w, eye.h)
        return (eye, twin, "mirrored") if left else (twin, eye, "mirrored")
    side = round(0.22 * face.w)
    y = round(face.y + 0.38 * face.h - side / 2)
    return (Box(round(face.x + 0.3 * face.w - side / 2), y, side, side),
            Box(round(face.x + 0.7 * face.w - side / 2), y, side, side), "estimate")


def _pair_cost(pair: tuple[Box, Box], face: Box) -> float:
    """Low for two eyes of similar size, level, and about 0.4 face widths apart."""
    a, b = pair
    dx = b.centre[0] - a.centre[0]
    return (abs(a.centre[1] - b.centre[1]) + abs(a.w - b.w)
            + abs(dx - 0.4 * face.w)) / face.w


def _estimate_mouth(face: Box, left_eye: Box, right_eye: Box) -> Box:
    """Mouth from eye geometry: centred under the eyes, about one eye distance below them."""
    (lx, ly), (rx, ry) = left_eye.centre, right_eye.centre
    iod = max(1.0, rx - lx)
    cx, cy = (lx + rx) / 2, (ly + ry) / 2 + 1.05 * iod
    cy = min(cy, face.y + 0.92 * face.h)
    w, h = 0.95 * iod, 0.4 * iod
    return Box(round(cx - w / 2), round(cy - h / 2), round(w), round(h))


def _detect_mouth(gray: np.ndarray, face: Box, left_eye: Box,
                  right_eye: Box) -> tuple[Box, str]:
    guess = _estimate_mouth(face, left_eye, right_eye)
    lower = _clip(Box(face.x, face.y + 2 * face.h // 3, face.w, face.h // 3 + face.h // 8),
                  gray.shape)
    hits = _detect_in(gray, lower, "haarcascade_smile.xml", neighbours=10,
                      min_size=(max(8, face.w // 5), max(4, face.h // 12)))
    # The smile cascade also fires on nostrils and chin folds: keep hits near the estimate.
    gx, gy = guess.centre
    near = [b for b in hits if abs(b.centre[0] - gx) < 0.5 * guess.w
            and abs(b.centre[1] - gy) < 0.9 * guess.h and 0.5 * guess.w < b.w < 1.8 * guess.w]
    if not near:
        return guess, "estimate"
    best = min(near, key=lambda b: abs(b.centre[0] - gx) + abs(b.centre[1] - gy))
    return best, "cascade"


def _clip(box: Box, shape: tuple[int, ...]) -> Box:
    x0, y0 = max(0, box.x), max(0, box.y)
    x1, y1 = min(shape[1], box.x + box.w), min(shape[0], box.y + box.h)
    return Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0))


# --- cache --------------------------------------------------------------------------------

def _image_digest(image: np.ndarray) -> str:
    digest = hashlib.sha256(str(image.shape).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def _safe_name(persona_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", persona_id)[:64] or "persona"


def _to_json(landmarks: FaceLandmarks) -> str:
    return json.dumps({"version": CACHE_VERSION, **asdict(landmarks)}, indent=1)


def _read_cache(path: Path) -> FaceLandmarks | None:
    """The cached landmarks, or None when absent, unreadable or from another cache version."""
    try:
        data = json.loads(path.read_text())
        if data.get("version") != CACHE_VERSION:
            return None
        boxes = {k: Box(**data[k]) for k in ("face", "left_eye", "right_eye", "mouth")}
        return FaceLandmarks(**boxes, eye_source=str(data["eye_source"]),
                             mouth_source=str(data["mouth_source"]))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None  # a damaged entry is detected again and overwritten


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".tmp-", suffix=".json",
                                     delete=False) as handle:
        handle.write(text)
        temp = Path(handle.name)
    os.replace(temp, path)
