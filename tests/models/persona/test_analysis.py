"""Mesh, matte and plate run once per persona: later renders, even in a new process, run none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from models.persona import backdrop, face_mesh, matte
from models.persona.analysis import analyse_persona, forget_analyses
from models.persona.face_locator import forget_meshes

PERSONAS = Path(__file__).resolve().parents[3] / "configs" / "personas"


def _runs() -> dict[str, int]:
    return {**face_mesh.RUNS, **matte.RUNS, **backdrop.RUNS}


def test_a_persona_is_analysed_once_then_read_from_the_process_and_the_disk(tmp_path):
    image = np.asarray(Image.open(PERSONAS / "eileen_collins.png").convert("RGB"))
    before = _runs()
    first = analyse_persona(image, persona_id="eileen-once", cache_dir=tmp_path)
    ran = {k: v - before[k] for k, v in _runs().items()}
    assert ran["mesh"] >= 1 and ran["segmentation"] == 1 and ran["inpaint"] == 1

    before = _runs()
    assert analyse_persona(image, persona_id="eileen-once", cache_dir=tmp_path) is first
    forget_analyses()
    forget_meshes()  # a new worker process: only the disk cache is left
    again = analyse_persona(image, persona_id="eileen-once", cache_dir=tmp_path)
    assert _runs() == before  # no model ran, no inpainting either
    assert np.allclose(again.mesh.points, first.mesh.points, atol=1e-3)
    assert np.abs(again.alpha - first.alpha).max() <= 1 / 255 + 1e-6
    assert np.array_equal(again.plate, first.plate)
    assert len(list(tmp_path.glob("mesh-eileen-once-*.json"))) == 1
    assert len(list(tmp_path.glob("eileen-once-*-matte.png"))) == 1
    assert len(list(tmp_path.glob("eileen-once-*-plate.png"))) == 1


def test_a_damaged_matte_on_disk_is_computed_again(tmp_path):
    image = np.asarray(Image.open(PERSONAS / "grace_hopper.jpg").convert("RGB"))
    first = analyse_persona(image, persona_id="grace-damaged", cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*-matte.png")
    entry.write_bytes(b"not a png")
    forget_analyses()
    before = matte.RUNS["segmentation"]
    again = analyse_persona(image, persona_id="grace-damaged", cache_dir=tmp_path)
    assert matte.RUNS["segmentation"] == before + 1
    assert np.abs(again.alpha - first.alpha).max() <= 1 / 255 + 1e-6
