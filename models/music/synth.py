"""Procedural music beds in numpy: a chord progression played by pad, keys, bass and drums.

    bed = SynthMusic().compose(mood="upbeat", duration_s=30.0, sample_rate=48000, seed=7)
    bed.shape   # (1440000, 2), float32, peak 0.89

Each mood is a tempo, a set of progressions and an arrangement (which parts play in which
bar). The seed picks the key, the progression and the small humanising variations, so one job
always gets the same bed and different jobs get different ones. Every distinct note is
rendered once (wavetable or FM oscillator with an ADSR envelope) and then added at each place
it sounds, which keeps a 30 s bed well under half a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from models.music.synth_instruments import DRUMS, INSTRUMENTS, Note

MOODS = ("upbeat", "chill", "inspiring")
PEAK = 0.89  # about -1 dBFS, leaving the mix stage headroom
FADE_IN_S = 0.5
FADE_OUT_S = 1.5

# Chord shapes in semitones above the chord root.
MAJ, MIN = (0, 4, 7), (0, 3, 7)
MAJ7, MIN7, DOM7, ADD9 = (0, 4, 7, 11), (0, 3, 7, 10), (0, 4, 7, 10), (0, 4, 7, 14)
Chord = tuple[int, tuple[int, ...]]  # (root: semitones above the key, MIDI once transposed; shape)


@dataclass(frozen=True)
class _Mood:
    bpm: float
    progressions: tuple[tuple[Chord, ...], ...]
    arrange: Callable[[tuple[Chord, ...], int, np.random.Generator], Iterator[Note]]


class SynthMusic:
    """The default music backend: no files, no models, deterministic by seed."""

    name = "synth"

    def __init__(self) -> None:
        self._moods = {"upbeat": _Mood(112.0, _UPBEAT, _arrange_upbeat),
                       "chill": _Mood(84.0, _CHILL, _arrange_chill),
                       "inspiring": _Mood(96.0, _INSPIRING, _arrange_inspiring)}

    def compose(self, *, mood: str, duration_s: float, sample_rate: int, seed: int) -> np.ndarray:
        """A bed of exactly round(duration_s * sample_rate) samples, float32 (n, 2), peak <= 1."""
        if mood not in self._moods:
            raise ValueError(f"unknown music mood {mood!r}; choose one of {', '.join(MOODS)}")
        if duration_s <= 0 or sample_rate <= 0:
            raise ValueError(f"duration_s and sample_rate must be positive, "
                             f"got {duration_s} and {sample_rate}")
        style = self._moods[mood]
        rng = np.random.default_rng(seed)
        key = 55 + int(rng.integers(0, 9))  # G3..D#4 keeps every part in a pleasant register
        progression = style.progressions[int(rng.integers(len(style.progressions)))]
        beat_s = 60.0 / style.bpm
        n = round(duration_s * sample_rate)
        if n == 0:
            return np.zeros((0, 2), np.float32)
        bars = int(np.ceil(duration_s / (4 * beat_s)))
        notes = style.arrange(tuple((key + r, s) for r, s in progression), bars, rng)
        tonal, drums = _render(notes, n=n, sample_rate=sample_rate, beat_s=beat_s, rng=rng)
        _echo(tonal, round(0.75 * beat_s * sample_rate))
        return _master(tonal + drums, sample_rate)


# --- arrangements ----------------------------------------------------------------------------

_UPBEAT = (((0, MAJ), (7, MAJ), (9, MIN), (5, MAJ)), ((0, MAJ), (5, MAJ), (9, MIN), (7, MAJ)),
           ((9, MIN), (5, MAJ), (0, MAJ), (7, MAJ)), ((0, MAJ), (9, MIN), (5, MAJ), (7, MAJ)))
_CHILL = (((0, MAJ7), (9, MIN7), (2, MIN7), (7, DOM7)),
          ((5, MAJ7), (4, MIN7), (2, MIN7), (0, MAJ7)),
          ((2, MIN7), (7, DOM7), (0, MAJ7), (9, MIN7)),
          ((0, MAJ7), (4, MIN7), (5, MAJ7), (2, MIN7)))
_INSPIRING = (((9, MIN), (5, ADD9), (0, ADD9), (7, MAJ)),
              ((0, ADD9), (7, MAJ), (9, MIN), (5, ADD9)),
              ((5, ADD9), (0, ADD9), (7, MAJ), (9, MIN)),
              ((0, ADD9), (4, MIN), (5, ADD9), (7, MAJ)))


def _voicing(chord: Chord, centre: int) -> list[int]:
    """Chord tones, each in the octave nearest `centre`: smooth voice leading for free."""
    root, shape = chord
    return sorted(centre + (root + s - centre + 6) % 12 - 6 for s in shape)


def _bass(chord: Chord) -> int:
    return 36 + (chord[0] - 36) % 12  # C2..B2


def _arrange_upbeat(prog: tuple[Chord, ...], bars: int,
                    rng: np.random.Generator) -> Iterator[Note]:
    """Pop groove: offbeat key stabs, driving eighth-note bass, kick/clap/hat from bar 2."""
    for bar in range(bars):
        chord, t = prog[bar % len(prog)], bar * 4.0
        yield from (Note("pad", t, 4.0, m, 0.28, brightness=1) for m in _voicing(chord, 64))
        for beat in (0.5, 1.5, 2.5, 3.5):
            yield from (Note("keys", t + beat, 0.3, m, 0.42, pan=0.25)
                        for m in _voicing(chord, 69))
        root = _bass(chord)
        for eighth in range(8):
            yield Note("bass", t + eighth / 2, 0.45, root + (12 if eighth in (3, 7) else 0),
                        0.4 if eighth % 2 == 0 else 0.3)
        if bar > 0 or bars == 1:
            yield from _drums(t, kicks=(0, 2, 2.5), snares=(1, 3), hats=0.5, rng=rng, swing=0.0)


def _arrange_chill(prog: tuple[Chord, ...], bars: int,
                   rng: np.random.Generator) -> Iterator[Note]:
    """Laid-back: soft 7th-chord pads and electric piano, long bass notes, swung soft drums."""
    for bar in range(bars):
        chord, t = prog[bar % len(prog)], bar * 4.0
        yield from (Note("pad", t, 4.0, m, 0.4, brightness=0) for m in _voicing(chord, 62))
        for beat, length in ((0.0, 1.5), (2.5, 1.0)):
            yield from (Note("ep", t + beat, length, m, 0.3, pan=-0.2)
                        for m in _voicing(chord, 66))
        root = _bass(chord)
        yield Note("sub", t, 1.75, root, 0.42)
        yield Note("sub", t + 2.5, 1.25, root + (7 if rng.random() < 0.5 else 0), 0.34)
        yield from _drums(t, kicks=(0, 1.75, 2.5), snares=(1, 3), hats=0.5, rng=rng, swing=0.08,
                          level=0.6)


def _arrange_inspiring(prog: tuple[Chord, ...], bars: int,
                       rng: np.random.Generator) -> Iterator[Note]:
    """A build: pads swell and open up, a sixteenth arpeggio runs throughout, drums join halfway."""
    for bar in range(bars):
        chord, t = prog[bar % len(prog)], bar * 4.0
        rise = bar / max(bars - 1, 1)
        bright = min(3, int(rise * 4))
        yield from (Note("pad", t, 4.0, m, 0.25 + 0.25 * rise, brightness=bright)
                    for m in _voicing(chord, 62))
        tones = _voicing(chord, 69) + [m + 12 for m in _voicing(chord, 69)]
        # four rising notes a beat, starting one chord tone higher in the bar's second half
        for step in range(16):
            yield Note("arp", t + step / 4, 0.22, tones[step % 4 + step // 8],
                        (0.7 if step % 4 == 0 else 0.45) * (0.7 + 0.3 * rise),
                        pan=0.35 if step % 2 else -0.35, brightness=max(1, bright))
        for beat in range(4):
            yield Note("bass", t + beat, 0.9, _bass(chord), 0.3 + 0.12 * rise)
        if bar >= bars // 2:
            yield from _drums(t, kicks=(0, 1, 2, 3), snares=(1, 3) if bar > 3 * bars // 4 else (),
                              hats=0.5, rng=rng, swing=0.0, level=0.5 + 0.4 * rise)


def _drums(t: float, *, kicks, snares, hats: float, rng: np.random.Generator, swing: float,
           level: float = 1.0) -> Iterator[Note]:
    """One bar of kick, snare and hat hits; hats every `hats` beats, off-beats pushed by `swing`."""
    yield from (Note("kick", t + k, 0.5, 0, 0.75 * level) for k in kicks)
    yield from (Note("snare", t + s, 0.5, 0, 0.9 * level) for s in snares)
    for i in range(int(4 / hats)):
        offbeat = i % 2 == 1
        jitter = float(rng.uniform(0.85, 1.0))  # a touch of human variation in the hats
        yield Note("hat", t + i * hats + (swing if offbeat else 0.0), 0.1, 0,
                    (0.5 if offbeat else 0.32) * jitter * level, pan=0.3)


# --- rendering -------------------------------------------------------------------------------

def _render(notes: Iterator[Note], *, n: int, sample_rate: int, beat_s: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mix the notes into two (n, 2) float64 buffers, tonal parts and drums.

    Each distinct sound (part, pitch, length, brightness) is synthesized once and reused, and
    notes are summed in mono per (drums?, pan) and panned once at the end: half the work of
    adding every note in stereo.
    """
    noise = rng.standard_normal(sample_rate)  # one second of noise for every drum hit
    sounds: dict[tuple, np.ndarray] = {}
    lanes: dict[tuple[bool, float], np.ndarray] = {}
    for note in notes:
        start = round(note.start * beat_s * sample_rate)
        if start >= n:
            continue
        key = (note.part, note.midi, round(note.length * beat_s * sample_rate), note.brightness)
        if key not in sounds:
            sounds[key] = INSTRUMENTS[note.part](note, note.length * beat_s, sample_rate, noise)
        sound = sounds[key][: n - start]
        lane_key = (note.part in DRUMS, note.pan)
        if lane_key not in lanes:
            lanes[lane_key] = np.zeros(n)
        lanes[lane_key][start:start + len(sound)] += note.velocity * sound
    tonal, drums = np.zeros((n, 2)), np.zeros((n, 2))
    for (is_drum, pan), lane in lanes.items():
        angle = (pan + 1) * np.pi / 4  # constant-power pan, unity in the centre
        gains = np.sqrt(2) * np.array([np.cos(angle), np.sin(angle)])
        (drums if is_drum else tonal)[:] += lane[:, None] * gains
    return tonal, drums


def _echo(mix: np.ndarray, delay: int) -> None:
    """A dotted-eighth ping-pong echo, in place: room and width that stay on the beat grid."""
    if 0 < delay < len(mix):
        dry = mix.copy()
        mix[delay:, 0] += 0.22 * dry[:-delay, 1]
        mix[delay:, 1] += 0.22 * dry[:-delay, 0]


def _master(mix: np.ndarray, sample_rate: int) -> np.ndarray:
    """Gentle saturation, peak at PEAK, fade in and out."""
    peak = np.abs(mix).max()
    if peak > 0:
        mix = np.tanh(1.2 * mix / peak)
        mix *= PEAK / np.abs(mix).max()
    n = len(mix)
    fade_in = min(round(FADE_IN_S * sample_rate), n // 4)
    fade_out = min(round(FADE_OUT_S * sample_rate), n // 3)
    mix[:fade_in] *= np.linspace(0.0, 1.0, fade_in)[:, None]
    mix[n - fade_out:] *= np.linspace(1.0, 0.0, fade_out)[:, None] ** 2
    return mix.astype(np.float32)
