"""The output contract's numbers, in one place (ARCHITECTURE.md, "Output video").

    from pipelines.contract import FPS, AUDIO_RATE, LOUDNESS_TARGET_LUFS
    frame_count = round(duration_s * FPS)

Every stage, check and reference reads these; nothing else spells them. DEFAULT_CTA is the
script writers' (models/base.py), re-exported for the end card.
"""

from models.base import DEFAULT_CTA

FPS = 30  # constant frame rate of every output
AUDIO_RATE = 48000  # AAC-LC sample rate, and the rate the mix is made at
LOUDNESS_TARGET_LUFS = -14.0  # integrated loudness of the final mix
LOUDNESS_TOLERANCE_LU = 1.0  # how far the measured loudness may be from the target
TRUE_PEAK_CEILING_DB = -1.0  # the highest true peak allowed (the mix aims lower)
CONTRACT_FILES = ("final.mp4", "thumbnail.jpg", "captions.vtt", "script.json", "report.json",
                  "storyboard.png", "qa.json")

__all__ = ["AUDIO_RATE", "CONTRACT_FILES", "DEFAULT_CTA", "FPS", "LOUDNESS_TARGET_LUFS",
           "LOUDNESS_TOLERANCE_LU", "TRUE_PEAK_CEILING_DB"]
