"""The anchor keyframe and the shot keyframes: what each is made from, and its prompt and seed."""

from __future__ import annotations

import numpy as np

from engine.catalog import TemplateEntry
from engine.spec import parse_job
from pipelines.generative.keyframes import make_keyframes, on_backdrop
from pipelines.generative.prompts import anchor_prompt, motion_prompt, shot_prompt
from pipelines.generative.record import GenerativeRecord
from pipelines.generative.shots import Shot
from tests.conftest import JOBS


class RecordingKeyframes:
    """Returns a distinct flat image per request and keeps the requests."""

    name = "recording"

    def __init__(self):
        self.requests = []

    def generate(self, request):
        self.requests.append(request)
        return np.full((request.height, request.width, 3), len(self.requests), np.uint8)


def _spec(**fields):
    return parse_job({"product_name": "Espresso Cups", "product_image_url": str(JOBS / "espresso_cup.png"),
                      "segment_count": 3, "segment_duration": 3, "seed": 10, **fields})


def test_the_anchor_is_made_from_portrait_and_product_and_later_shots_edit_it():
    backend, record = RecordingKeyframes(), GenerativeRecord("recording", "m")
    shots = [Shot(0, "medium", 0, 3, "a", True), Shot(1, "cutaway", 3, 4, "", False),
             Shot(2, "closeup", 4, 9, "b", True)]
    portrait = np.zeros((40, 30, 3), np.uint8)
    product = np.zeros((20, 20, 4), np.uint8)
    fractions = []
    frames = make_keyframes(_spec(), shots, persona=portrait, product=product, backend=backend,
                            size=(32, 64), template=None, record=record,
                            on_fraction=fractions.append)
    anchor, shot = backend.requests
    assert len(anchor.references) == 2 and anchor.references[0] is portrait
    assert anchor.references[1].shape == (20, 20, 3)  # the cut-out on a plain backdrop
    assert shot.references == (frames.anchor,) and (anchor.seed, shot.seed) == (10, 12)
    assert (anchor.width, anchor.height) == (32, 64)
    assert frames.for_shot(shots[0]) is frames.anchor  # the first talking shot is the anchor
    assert frames.for_shot(shots[1]) is frames.anchor  # held: reuses it
    assert int(frames.for_shot(shots[2])[0, 0, 0]) == 2
    assert fractions == [0.5, 1.0] and [k["shot"] for k in record.keyframes] == [0, 2]


def test_the_prompts_carry_the_environment_the_interaction_and_the_template():
    spec = _spec(environment_description="a rooftop terrace at sunset")
    template = TemplateEntry("calm", "Calm", description="Soft light, slow pace.")
    prompt = anchor_prompt(spec, template)
    assert "a rooftop terrace at sunset" in prompt and "Soft light, slow pace." in prompt
    assert "holding the Espresso Cups from Picture 2" in prompt
    standing = anchor_prompt(_spec(interaction_mode="display_static"), None)
    assert "standing on a table" in standing and "holding" not in standing
    closeup = shot_prompt(spec, Shot(2, "closeup", 4, 9, "b", True))
    assert "close-up of the face" in closeup and "Picture 1" in closeup
    motion = motion_prompt(spec, Shot(0, "medium", 0, 3, "a", True))
    assert "talking to the camera about the Espresso Cups" in motion


def test_a_cut_out_is_flattened_onto_a_light_backdrop():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (200, 10, 10, 255)
    flat = on_backdrop(rgba)
    assert flat[0, 0].tolist() == [200, 10, 10] and flat[1, 1].tolist() == [240, 240, 240]
