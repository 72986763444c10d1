"""The generative tier: keyframes of the persona with the product, motion, lip-sync on top.

    built, record = build_generative_scene(spec, track, cutout, persona=entry, script=script,
                                           backends=backends, configs=configs, template=None,
                                           on_fraction=report)

    shots       the edit's shot plan on the voice's timeline (or one talking shot per segment)
    prompts     keyframe and motion prompts from the job, the template and the shot
    keyframes   [init] the anchor keyframe and one per generated shot
    clips       [generation] motion per shot, resampled to 30 fps, lip-synced, scaled
    scene       the Scene (captions, end card) and the frame iterator the encoder reads
    record      what was generated and how long it took, for report.json
"""

from pipelines.generative.record import GenerativeRecord
from pipelines.generative.scene import GenerativeBackends, build_generative_scene, generation_size
from pipelines.generative.shots import Shot, edit_shots

__all__ = ["GenerativeBackends", "GenerativeRecord", "Shot", "build_generative_scene",
           "edit_shots", "generation_size"]
