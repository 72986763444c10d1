"""Music beds: the `MusicBackend` protocol's backend.

    synth.py              SynthMusic: a procedural bed per mood, seeded
    synth_instruments.py  the instruments and drum voices it plays
"""

from models.music.synth import SynthMusic

__all__ = ["SynthMusic"]
