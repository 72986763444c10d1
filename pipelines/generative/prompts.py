"""The prompts the keyframe and motion models are given, built from the job and the shot.

    anchor_prompt(spec, template)         # persona + product + scene, for the anchor keyframe
    shot_prompt(spec, shot)               # a later shot, keeping the anchor's person and place
    motion_prompt(spec, shot)             # natural talking-to-camera motion

The text of the job (product name, environment) is only ever part of a model prompt.
"""

from __future__ import annotations

from engine.catalog import TemplateEntry
from engine.spec import JobSpec
from pipelines.generative.shots import Shot

DEFAULT_ENVIRONMENT = "a bright, tidy home interior with soft daylight"
FRAMING = {"closeup": "a close-up of the face and shoulders",
           "medium": "a medium shot from the waist up",
           "punch_in": "a tight close-up of the face",
           "split": "a medium shot from the waist up",
           "cutaway": "a close-up of the product in the hand",
           "endcard": "a medium shot from the waist up"}


def interaction(spec: JobSpec) -> str:
    if spec.interaction_mode == "display_static":
        return f"with the {spec.product_name} from Picture 2 standing on a table beside them"
    return (f"holding the {spec.product_name} from Picture 2 in one hand at chest height, "
            "its label facing the camera")


def anchor_prompt(spec: JobSpec, template: TemplateEntry | None) -> str:
    scene = spec.environment_description or DEFAULT_ENVIRONMENT
    style = f" Style: {template.description}" if template and template.description else ""
    return (f"The person from Picture 1, {interaction(spec)}, in {scene}. A vertical "
            f"smartphone video frame, {FRAMING['medium']}, looking into the camera, "
            f"natural skin, sharp focus, authentic UGC look.{style}")


def shot_prompt(spec: JobSpec, shot: Shot) -> str:
    return (f"The same person in the same place as in Picture 1, still {_held(spec)}; "
            f"now {FRAMING[shot.kind]}, looking into the camera. Keep the face, clothes, "
            "lighting and background exactly as in Picture 1.")


def motion_prompt(spec: JobSpec, shot: Shot) -> str:
    return (f"A person talking to the camera about the {spec.product_name} {_held(spec)}, "
            "natural head movement and hand gestures, steady handheld smartphone camera, "
            "realistic motion.")


def _held(spec: JobSpec) -> str:
    if spec.interaction_mode == "display_static":
        return f"with the {spec.product_name} on the table"
    return f"holding the {spec.product_name}"
