"""Find a portrait's face with MediaPipe's face mesh, once per persona image, cached on disk.

    mesh = locate_mesh(image, persona_id="grace", cache_dir=Path(".cache/personas"))
    landmarks = locate_face(image, persona_id="grace", cache_dir=Path(".cache/personas"))
    landmarks.mouth        # Box in source-image pixels, from the lip landmarks
    landmarks.scaled(2.0, dx=-100, dy=-40)   # the same boxes in a resized, shifted layout

The mesh (see `face_mesh`) runs once per persona image: its 478 points are a small JSON in
`cache_dir`, keyed by the persona id and a hash of the pixels, so a changed image is detected
again, and a process keeps the meshes it has read. A portrait with no face raises
`ValueError` naming the persona; the caller decides which job error it is. `FaceLandmarks`
are the boxes the animators place things with, all derived from the mesh.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.base import Box
from models.persona.face_mesh import (
    LEFT_EYE,
    OUTER_LIP_LOWER,
    OUTER_LIP_UPPER,
    RIGHT_EYE,
    FaceMesh,
    detect_face_mesh,
)

CACHE_VERSION = 2  # 1 held Haar-cascade boxes
_MESHES: dict[tuple[str, str], FaceMesh] = {}  # per process: (persona id, image digest)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class FaceLandmarks:
    """Face parts in image pixels. `left_eye` is the eye on the image's left side."""

    face: Box
    left_eye: Box
    right_eye: Box
    mouth: Box
    eye_source: str = "mesh"
    mouth_source: str = "mesh"

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
    """Face, eye and mouth boxes of `image` (RGB uint8), from its cached mesh."""
    return landmarks_of(locate_mesh(image, persona_id=persona_id, cache_dir=cache_dir))


def locate_mesh(image: np.ndarray, *, persona_id: str, cache_dir: Path) -> FaceMesh:
    """The face mesh of `image`, detected at most once per image and process."""
    digest = image_digest(image)
    key = (persona_id, digest)
    with _LOCK:
        if key in _MESHES:
            return _MESHES[key]
    path = Path(cache_dir) / f"mesh-{safe_name(persona_id)}-{digest[:16]}.json"
    mesh = _read_cache(path)
    if mesh is None:
        mesh = detect_landmarks_mesh(image, persona_id=persona_id)
        write_atomically(path, json.dumps({"version": CACHE_VERSION,
                                           "points": np.round(mesh.points, 3).tolist()}).encode())
    with _LOCK:
        _MESHES[key] = mesh
    return mesh


def detect_landmarks_mesh(image: np.ndarray, *, persona_id: str) -> FaceMesh:
    """Run the mesh on `image`. Raises ValueError when it finds no face."""
    mesh = detect_face_mesh(image)
    if mesh is None:
        raise ValueError(f"persona {persona_id!r}: no face found in the portrait")
    return mesh


def detect_landmarks(image: np.ndarray, *, persona_id: str) -> FaceLandmarks:
    """The boxes of a fresh detection (no cache). Raises ValueError when no face is found."""
    return landmarks_of(detect_landmarks_mesh(image, persona_id=persona_id))


def landmarks_of(mesh: FaceMesh) -> FaceLandmarks:
    """Boxes around the mesh's face, eyes (contours) and mouth (outer lips)."""
    return FaceLandmarks(Box(*mesh.box), _around(mesh, LEFT_EYE), _around(mesh, RIGHT_EYE),
                         _around(mesh, OUTER_LIP_UPPER + OUTER_LIP_LOWER))


def forget_meshes() -> None:
    """Drop this process's meshes (the disk cache stays), as a fresh worker would start."""
    with _LOCK:
        _MESHES.clear()


def _around(mesh: FaceMesh, indices: tuple[int, ...]) -> Box:
    points = mesh.points[list(indices)]
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    return Box(int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0)))


# --- cache --------------------------------------------------------------------------------

def image_digest(image: np.ndarray) -> str:
    digest = hashlib.sha256(str(image.shape).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def safe_name(persona_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", persona_id)[:64] or "persona"


def _read_cache(path: Path) -> FaceMesh | None:
    """The cached mesh, or None when absent, unreadable or from another cache version."""
    try:
        data = json.loads(path.read_text())
        if data.get("version") != CACHE_VERSION:
            return None
        points = np.asarray(data["points"], dtype=np.float32)
        return FaceMesh(points) if points.shape == (478, 2) else None
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
        return None  # a damaged entry is detected again and overwritten


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=".tmp-",
                                     suffix=path.suffix, delete=False) as handle:
        handle.write(data)
        temp = Path(handle.name)
    os.replace(temp, path)
