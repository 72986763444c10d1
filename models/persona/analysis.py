"""Everything measured on a persona photo once: face mesh, matte and clean background plate.

    found = analyse_persona(image, persona_id="grace", cache_dir=Path(".cache/personas"))
    found.mesh, found.alpha, found.plate       # FaceMesh, (h, w) float32, (h, w, 3) uint8

The three are the only model work a persona needs; per frame the animator only warps and the
compositor only blends. Each is kept per process and on disk beside the mesh's JSON (the matte
and plate as PNG), keyed by persona id and a hash of the pixels, so a second render of a
persona, in this process or a fresh one, runs no segmentation or mesh model.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.persona.backdrop import clean_plate
from models.persona.face_locator import image_digest, locate_mesh, safe_name, write_atomically
from models.persona.face_mesh import FaceMesh
from models.persona.framing import background_lean
from models.persona.matte import person_matte

_FOUND: dict[tuple[str, str], PersonaAnalysis] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PersonaAnalysis:
    mesh: FaceMesh  # source-image pixels
    alpha: np.ndarray  # (h, w) float32, 1 on the person
    plate: np.ndarray  # (h, w, 3) uint8, the background with the person inpainted away
    lean: float = 0.0  # see framing.background_lean


def analyse_persona(image: np.ndarray, *, persona_id: str, cache_dir: Path) -> PersonaAnalysis:
    """The mesh, matte and plate of `image` (RGB uint8). Raises ValueError without a face."""
    key = (persona_id, image_digest(image))
    with _LOCK:
        if key in _FOUND:
            return _FOUND[key]
    mesh = locate_mesh(image, persona_id=persona_id, cache_dir=cache_dir)
    stem = Path(cache_dir) / f"{safe_name(persona_id)}-{key[1][:16]}"
    alpha = _cached_png(stem.with_name(stem.name + "-matte.png"), image.shape[:2],
                        lambda: (person_matte(image) * 255 + 0.5).astype(np.uint8))
    alpha = alpha.astype(np.float32) / 255.0
    plate = _cached_png(stem.with_name(stem.name + "-plate.png"), image.shape,
                        lambda: clean_plate(image, alpha))
    for array in (alpha, plate):
        array.setflags(write=False)
    found = PersonaAnalysis(mesh, alpha, plate, background_lean(plate, alpha, mesh))
    with _LOCK:
        _FOUND[key] = found
    return found


def forget_analyses() -> None:
    """Drop this process's analyses (the disk cache stays)."""
    with _LOCK:
        _FOUND.clear()


def _cached_png(path: Path, shape: tuple[int, ...], compute) -> np.ndarray:
    try:
        array = np.asarray(Image.open(path))
        if array.shape == tuple(shape) and array.dtype == np.uint8:
            return array
    except (FileNotFoundError, OSError, ValueError):
        pass  # absent or damaged: compute again and overwrite
    array = compute()
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    write_atomically(path, buffer.getvalue())
    return array
