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

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

MOODS = ("upbeat", "chill", "inspiring")
PEAK = 0.89  # about -1 dBFS, leaving the mix stage headroom
FADE_IN_S = 0.5
FADE_OUT_S = 1.5

# Chord shapes in semitones above the chord root.
MAJ, MIN = (0, 4, 7), (0, 3, 7)
MAJ7, MIN7, DOM7, ADD9 = (0, 4, 7, 11), (0, 3, 7, 10), (0, 4, 7, 10), (0, 4, 7, 14)
Chord = tuple[int, tuple[int, ...]]  # (root: semitones above the key, MIDI once transposed; shape)


@dataclass(frozen=True)
class _Note:
    """One sounding event. Times in beats; `midi` may be 0 for drums."""

    part: str
    start: float
    length: float
    midi: int
    velocity: float
    pan: float = 0.0  # -1 left .. 1 right
    brightness: int = 2  # 0 (dark) .. 3 (bright), the pad and arp "filter"


@dataclass(frozen=True)
class _Mood:
    bpm: float
    progressions: tuple[tuple[Chord, ...], ...]
    arrange: Callable[[tuple[Chord, ...], int, np.random.Generator], Iterator[_Note]]


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
                    rng: np.random.Generator) -> Iterator[_Note]:
    """Pop groove: offbeat key stabs, driving eighth-note bass, kick/clap/hat from bar 2."""
    for bar in range(bars):
        chord, t = prog[bar % len(prog)], bar * 4.0
        yield from (_Note("pad", t, 4.0, m, 0.28, brightness=1) for m in _voicing(chord, 64))
        for beat in (0.5, 1.5, 2.5, 3.5):
            yield from (_Note("keys", t + beat, 0.3, m, 0.42, pan=0.25)
                        for m in _voicing(chord, 69))
        root = _bass(chord)
        for eighth in range(8):
            yield _Note("bass", t + eighth / 2, 0.45, root + (12 if eighth in (3, 7) else 0),
                        0.4 if eighth % 2 == 0 else 0.3)
        if bar > 0 or bars == 1:
            yield from _drums(t, kicks=(0, 2, 2.5), snares=(1, 3), hats=0.5, rng=rng, swing=0.0)


def _arrange_chill(prog: tuple[Chord, ...], bars: int,
                   rng: np.random.Generator) -> Iterator[_Note]:
    """Laid-back: soft 7th-chord pads and electric piano, long bass notes, swung soft drums."""
    for bar in range(bars):
        chord, t = prog[bar % len(prog)], bar * 4.0
        yield from (_Note("pad", t, 4.0, m, 0.4, brightness=0) for m in _voicing(chord, 62))
        for beat, length in ((0.0, 1.5), (2.5, 1.0)):
            yield from (_Note("ep", t + beat, length, m, 0.3, pan=-0.2)
                        for m in _voicing(chord, 66))
        root = _bass(chord)
        yield _Note("sub", t, 1.75, root, 0.42)
        yield _Note("sub", t + 2.5, 1.25, root + (7 if rng.random() < 0.5 else 0), 0.34)
        yield from _drums(t, kicks=(0, 1.75, 2.5), snares=(1, 3), hats=0.5, rng=rng, swing=0.08,
                          level=0.6)


def _arrange_inspiring(prog: tuple[Chord, ...], bars: int,
                       rng: np.random.Generator) -> Iterator[_Note]:
    """A build: pads swell and open up, a sixteenth arpeggio runs throughout, drums join halfway."""
    for bar in range(bars):
        chord, t = prog[bar % len(prog)], bar * 4.0
        rise = bar / max(bars - 1, 1)
        bright = min(3, int(rise * 4))
        yield from (_Note("pad", t, 4.0, m, 0.25 + 0.25 * rise, brightness=bright)
                    for m in _voicing(chord, 62))
        tones = _voicing(chord, 69) + [m + 12 for m in _voicing(chord, 69)]
        # four rising notes a beat, starting one chord tone higher in the bar's second half
        for step in range(16):
            yield _Note("arp", t + step / 4, 0.22, tones[step % 4 + step // 8],
                        (0.7 if step % 4 == 0 else 0.45) * (0.7 + 0.3 * rise),
                        pan=0.35 if step % 2 else -0.35, brightness=max(1, bright))
        for beat in range(4):
            yield _Note("bass", t + beat, 0.9, _bass(chord), 0.3 + 0.12 * rise)
        if bar >= bars // 2:
            yield from _drums(t, kicks=(0, 1, 2, 3), snares=(1, 3) if bar > 3 * bars // 4 else (),
                              hats=0.5, rng=rng, swing=0.0, level=0.5 + 0.4 * rise)


def _drums(t: float, *, kicks, snares, hats: float, rng: np.random.Generator, swing: float,
           level: float = 1.0) -> Iterator[_Note]:
    """One bar of kick, snare and hat hits; hats every `hats` beats, off-beats pushed by `swing`."""
    yield from (_Note("kick", t + k, 0.5, 0, 0.75 * level) for k in kicks)
    yield from (_Note("snare", t + s, 0.5, 0, 0.9 * level) for s in snares)
    for i in range(int(4 / hats)):
        offbeat = i % 2 == 1
        jitter = float(rng.uniform(0.85, 1.0))  # a touch of human variation in the hats
        yield _Note("hat", t + i * hats + (swing if offbeat else 0.0), 0.1, 0,
                    (0.5 if offbeat else 0.32) * jitter * level, pan=0.3)


# --- rendering -------------------------------------------------------------------------------

def _render(notes: Iterator[_Note], *, n: int, sample_rate: int, beat_s: float,
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
            sounds[key] = _INSTRUMENTS[note.part](note, note.length * beat_s, sample_rate, noise)
        sound = sounds[key][: n - start]
        lane_key = (note.part in _DRUMS, note.pan)
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


def _hz(midi: int) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def _adsr(length_s: float, sample_rate: int, a: float, d: float, s: float, r: float) -> np.ndarray:
    """Attack/decay/sustain for `length_s`, then release: linear segments, in samples."""
    a, d = min(a, length_s), min(d, max(length_s - a, 0.0))
    points_s = [0.0, a, a + d, max(length_s, a + d), max(length_s, a + d) + r]
    return np.interp(np.arange(round(points_s[-1] * sample_rate)) / sample_rate,
                     points_s, [0.0, 1.0, s, s, 0.0])


@functools.cache
def _wavetable(brightness: int) -> np.ndarray:
    """One cycle of a band-limited saw whose upper harmonics roll off like a low-pass filter."""
    k = np.arange(1, 17)[:, None]
    phase = np.arange(4096) / 4096
    amps = np.exp(-(k - 1) * (1.1 - 0.25 * brightness)) / k
    table = (amps * np.sin(2 * np.pi * k * phase)).sum(axis=0)
    return table / np.abs(table).max()


def _osc(brightness: int, hz: float, count: int, sample_rate: int,
         phase: float = 0.0) -> np.ndarray:
    index = ((phase + hz / sample_rate * np.arange(count)) * 4096).astype(np.int64) & 4095
    return _wavetable(brightness)[index]


def _pad(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """Two saws detuned by +-7 cents, slow attack and release: a warm, slowly beating pad."""
    env = _adsr(length_s, sample_rate, 0.35, 0.6, 0.75, 0.9)
    hz = _hz(note.midi)
    voices = [_osc(note.brightness, hz * 2 ** (c / 1200), len(env), sample_rate, p)
              for c, p in ((-7, 0.0), (7, 0.37))]
    return 0.5 * (voices[0] + voices[1]) * env


def _keys(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A short electric-piano stab: two-operator FM whose brightness decays with the note."""
    env = _adsr(length_s, sample_rate, 0.005, 0.15, 0.4, 0.12)
    t = np.arange(len(env)) / sample_rate
    hz = _hz(note.midi)
    index = 1.6 * np.exp(-t / 0.12)
    return np.sin(2 * np.pi * hz * t + index * np.sin(2 * np.pi * hz * t)) * env


def _ep(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A soft Rhodes-like tone: mellow FM plus a faint bell partial, long decay."""
    env = _adsr(length_s, sample_rate, 0.01, 0.8, 0.35, 0.5)
    t = np.arange(len(env)) / sample_rate
    hz = _hz(note.midi)
    tone = np.sin(2 * np.pi * hz * t + 0.8 * np.exp(-t / 0.4) * np.sin(2 * np.pi * hz * t))
    return (tone + 0.08 * np.sin(2 * np.pi * 4 * hz * t) * np.exp(-t / 0.15)) * env


def _bass_tone(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A round, slightly saturated bass with a plucked start."""
    env = _adsr(length_s, sample_rate, 0.008, 0.12, 0.7, 0.06)
    t = np.arange(len(env)) / sample_rate
    hz = _hz(note.midi)
    return np.tanh(1.8 * (np.sin(2 * np.pi * hz * t) + 0.25 * np.sin(4 * np.pi * hz * t))) * env


def _sub(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A soft, nearly pure sine bass for slow grooves."""
    env = _adsr(length_s, sample_rate, 0.03, 0.3, 0.8, 0.25)
    t = np.arange(len(env)) / sample_rate
    return np.sin(2 * np.pi * _hz(note.midi) * t) * env


def _arp(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A plucked saw: quick attack, exponential decay."""
    env = _adsr(length_s, sample_rate, 0.004, 0.02, 0.9, 0.08)
    env *= np.exp(-np.arange(len(env)) / (0.12 * sample_rate))
    return _osc(note.brightness, _hz(note.midi), len(env), sample_rate) * env


def _kick(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A sine whose pitch drops from about 150 to 48 Hz: the classic electronic kick."""
    t = np.arange(round(0.35 * sample_rate)) / sample_rate
    phase = 2 * np.pi * (48 * t + 100 * 0.03 * (1 - np.exp(-t / 0.03)))
    return np.sin(phase) * np.exp(-t / 0.12)


def _snare(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A soft clap: band-passed noise burst over a short 190 Hz body."""
    t = np.arange(round(0.25 * sample_rate)) / sample_rate
    burst = np.diff(noise[: len(t) + 1])  # first difference lifts the noise to the clap range
    burst = np.convolve(burst, np.ones(4) / 4, mode="same")
    return 0.5 * burst * np.exp(-t / 0.05) + 0.35 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)


def _hat(note: _Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A closed hat: twice-differenced (high-passed) noise with a very short decay."""
    t = np.arange(round(0.06 * sample_rate)) / sample_rate
    hiss = np.diff(noise[: len(t) + 2], n=2) / 4
    return hiss * np.exp(-t / 0.015)


_DRUMS = frozenset({"kick", "snare", "hat"})
_INSTRUMENTS = {"pad": _pad, "keys": _keys, "ep": _ep, "bass": _bass_tone, "sub": _sub,
                "arp": _arp, "kick": _kick, "snare": _snare, "hat": _hat}
