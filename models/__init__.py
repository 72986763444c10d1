"""Backends for every stage of a render, one folder per role, behind one protocol per role.

    from models import Registry
    registry = Registry.from_settings(settings)      # the profile names a backend per role
    writer, voice = registry.script_writer(), registry.voice()

    base.py          the protocols (ScriptWriter, VoiceBackend, PersonaAnimator, CutoutBackend,
                     MusicBackend) and the frozen data they exchange (Script, Speech, Box, ...)
    registry.py      profile -> backend, loaded once per process, device and dtype picked
    devices.py       CUDA/CPU and dtype resolution shared by the GPU backends
    profile_check.py what a profile still lacks on this machine, without loading a model
    script/          copywriter/ (deterministic templates) and llm/ (guarded LLM drafters)
    voice/           piper.py (CPU default), coqui/ (XTTS-v2 and VITS), word_alignment.py
    persona/         face_locator.py, panel_layout.py, speech_envelope.py, viseme/ (CPU
                     animator), musetalk/ (GPU lip-sync)
    cutout/          classical.py (CPU), segmentation.py (GPU), segmentation_tiny.py
    music/           synth.py, synth_instruments.py

Rules that keep it tidy:
- models import only models and their own libraries, never engine/ or pipelines/; roles do not
  import one another (only base.py and devices.py are shared); tests/test_layers.py checks it.
- A backend is models/<role>/<name>.py; with three or more modules it becomes a folder.
- Heavy libraries (torch, diffusers, transformers, Coqui) load inside a backend when it is built;
  importing any module here loads none of them.
"""

from models.base import (
                         Box,
                         Cutout,
                         CutoutBackend,
                         MusicBackend,
                         PersonaAnimator,
                         PersonaImage,
                         PhonemeTiming,
                         PreparedPersona,
                         Script,
                         ScriptBrief,
                         ScriptSegment,
                         ScriptWriter,
                         Speech,
                         VoiceBackend,
                         WordTiming,
)
from models.registry import ProfileError, Registry

__all__ = ["Box", "Cutout", "CutoutBackend", "MusicBackend", "PersonaAnimator", "PersonaImage",
           "PhonemeTiming", "PreparedPersona", "ProfileError", "Registry", "Script", "ScriptBrief",
           "ScriptSegment", "ScriptWriter", "Speech", "VoiceBackend", "WordTiming"]
