"""The scene's persona patches follow the edit: the animator runs only for shots that show
the persona."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from models.script.shots import TimedShot
from pipelines.scene import shot_patches


class CountingAnimator:
    """Yields a patch numbered by its video frame and records every frame it was asked for."""

    def __init__(self) -> None:
        self.frames: list[int] = []

    def animate(self, prepared, speech, *, fps, frame_count, seed, first_frame=0):
        for index in range(first_frame, first_frame + frame_count):
            self.frames.append(index)
            yield np.full((2, 2, 3), index % 256, np.uint8)


def _shots(*spans):
    return [SimpleNamespace(shot=TimedShot(i, 0, kind, start, start + 0.5, "")) for i, (kind, start) in enumerate(spans)]


def test_cutaways_and_the_end_card_run_no_animation_and_talking_shots_keep_their_frames():
    shots = _shots(("closeup", 0.0), ("cutaway", 1.0), ("punch_in", 2.0), ("endcard", 2.5))
    animator = CountingAnimator()
    patches = list(shot_patches(animator, None, None, shots, frame_count=90, seed=1))
    assert len(patches) == 90
    talking = list(range(0, 30)) + list(range(60, 75))
    assert animator.frames == talking  # nothing computed for frames 30-59 and 75-89
    assert all(patches[i] is None for i in range(90) if i not in talking)
    # A talking shot after a cutaway gets the frames of its own time, as in one long take.
    assert all(int(patches[i][0, 0, 0]) == i for i in talking)
