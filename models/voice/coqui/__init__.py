"""Coqui TTS voices (XTTS-v2 cloning and any VITS directory); torch and TTS load lazily.

    voice.py         CoquiVoiceBackend (the VoiceBackend protocol), sentence chunking
    model.py         one loaded model per process, shared by every voice
    timing.py        VITS token durations -> phoneme and word times
    ctc_align.py     CTC forced alignment with the MMS aligner (XTTS, every language)
    speech_align.py  DTW timing transfer from a Piper rendition (XTTS without an aligner)
    tiny.py          random-weight models in the release layouts, for tests (imports torch)
"""

from models.voice.coqui.voice import CoquiVoiceBackend

__all__ = ["CoquiVoiceBackend"]
