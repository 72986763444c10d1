"""Voices: the `VoiceBackend` protocol's backends.

    piper.py           PiperVoiceBackend: the CPU default, with phoneme and word timings
    word_alignment.py  phoneme alignments -> word timings (shared by Piper and Coqui)
    transform.py       TransformedVoice: a voice derived by Praat's PSOLA pitch and formant shift
    coqui/             CoquiVoiceBackend (XTTS-v2 cloning, VITS): the GPU profile's voice,
                       in its own environment (`.venv-coqui`); import models.voice.coqui directly
"""

from models.voice.piper import PiperVoiceBackend

__all__ = ["PiperVoiceBackend"]
