"""The audio stage's subsystem: the music bed, the mix under the voice, its loudness.

    mix.py       mix_track (the job's bed and mix, as AAC), mix_audio, load_music_file
    loudness.py  one ebur128-measured linear gain to the target, checked after
"""

from pipelines.audio.loudness import Loudness, MixOptions, normalise_loudness
from pipelines.audio.mix import AudioMix, load_music_file, mix_audio, mix_track

__all__ = ["AudioMix", "Loudness", "MixOptions", "load_music_file", "mix_audio", "mix_track",
           "normalise_loudness"]
