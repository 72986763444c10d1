"""Tiny random weights for the generative tier in the releases' layouts, and a profile using them.

    models = write_generative_models(tmp / "models")      # keyframe, motion and lip-sync folders
    profile = generative_test_profile(tmp / "profile.yaml")
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from engine.settings import REPO_ROOT

PROFILE = REPO_ROOT / "configs" / "profiles" / "gpu-generative.yaml"
# Few steps, no guidance, small clips: the same code path at a CPU test's cost.
TEST_OPTIONS = {"keyframe": {"steps": 2, "true_cfg_scale": 1.0},
                "motion": {"steps": 2, "guidance_scale": 1.0, "max_side_px": 128,
                           "max_motion_s": 1.5},
                "animator": {"batch_size": 4}}


def write_generative_models(root: Path) -> Path:
    from models.keyframe.random_layout import write_random_layout as write_keyframe
    from models.motion.random_layout import write_random_layout as write_motion
    from models.persona.musetalk.tiny import write_tiny_release

    profile = yaml.safe_load(PROFILE.read_text())
    write_keyframe(root / profile["keyframe"]["options"]["model_dir"])
    write_motion(root / profile["motion"]["options"]["model_dir"], variant="ti2v-5b")
    write_tiny_release(root / profile["animator"]["options"]["model_dir"])
    return root


def generative_test_profile(path: Path) -> Path:
    """configs/profiles/gpu-generative.yaml on the CPU with the test options above."""
    profile = copy.deepcopy(yaml.safe_load(PROFILE.read_text()))
    profile["device"] = "cpu"
    profile["encoder"] = "libx264"
    for role, options in TEST_OPTIONS.items():
        profile[role]["options"] = {**profile[role]["options"], **options}
    path.write_text(yaml.safe_dump(profile))
    return path
