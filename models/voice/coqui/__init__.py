"""Coqui TTS voices (XTTS-v2 cloning and any VITS directory); torch and TTS load lazily.

    voice.py         CoquiVoiceBackend (the VoiceBackend protocol), sentence chunking
    model.py         one loaded model per process, shared by every voice
    timing.py        VITS token durations -> phoneme and word times
    speech_align.py  DTW timing transfer from a Piper rendition (XTTS)
    tiny.py          random-weight models in the release layouts, for tests (imports torch)
"""

from models.voice.coqui.voice import CoquiVoiceBackend

__all__ = ["CoquiVoiceBackend"]
