"""The instruments of the procedural music bed: one note in, its mono samples out.

    note = Note("pad", start=0.0, length=4.0, midi=64, velocity=0.3, brightness=1)  # beats
    noise = np.random.default_rng(7).standard_normal(48000)  # what the drums are cut from
    samples = INSTRUMENTS[note.part](note, 2.1, 48000, noise)  # float64, release included

Tonal parts are wavetable (band-limited saw) or two-operator FM oscillators under an ADSR
envelope; drums are a pitch-swept sine (kick) and shaped noise (snare, hat), all cut from one
shared second of noise so a bed's drums depend only on its seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Note:
    """One sounding event. Times in beats; `midi` may be 0 for drums."""

    part: str
    start: float
    length: float
    midi: int
    velocity: float
    pan: float = 0.0  # -1 left .. 1 right
    brightness: int = 2  # 0 (dark) .. 3 (bright), the pad and arp "filter"


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


def _pad(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """Two saws detuned by +-7 cents, slow attack and release: a warm, slowly beating pad."""
    env = _adsr(length_s, sample_rate, 0.35, 0.6, 0.75, 0.9)
    hz = _hz(note.midi)
    voices = [_osc(note.brightness, hz * 2 ** (c / 1200), len(env), sample_rate, p)
              for c, p in ((-7, 0.0), (7, 0.37))]
    return 0.5 * (voices[0] + voices[1]) * env


def _keys(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A short electric-piano stab: two-operator FM whose brightness decays with the note."""
    env = _adsr(length_s, sample_rate, 0.005, 0.15, 0.4, 0.12)
    t = np.arange(len(env)) / sample_rate
    hz = _hz(note.midi)
    index = 1.6 * np.exp(-t / 0.12)
    return np.sin(2 * np.pi * hz * t + index * np.sin(2 * np.pi * hz * t)) * env


def _ep(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A soft Rhodes-like tone: mellow FM plus a faint bell partial, long decay."""
    env = _adsr(length_s, sample_rate, 0.01, 0.8, 0.35, 0.5)
    t = np.arange(len(env)) / sample_rate
    hz = _hz(note.midi)
    tone = np.sin(2 * np.pi * hz * t + 0.8 * np.exp(-t / 0.4) * np.sin(2 * np.pi * hz * t))
    return (tone + 0.08 * np.sin(2 * np.pi * 4 * hz * t) * np.exp(-t / 0.15)) * env


def _bass_tone(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A round, slightly saturated bass with a plucked start."""
    env = _adsr(length_s, sample_rate, 0.008, 0.12, 0.7, 0.06)
    t = np.arange(len(env)) / sample_rate
    hz = _hz(note.midi)
    return np.tanh(1.8 * (np.sin(2 * np.pi * hz * t) + 0.25 * np.sin(4 * np.pi * hz * t))) * env


def _sub(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A soft, nearly pure sine bass for slow grooves."""
    env = _adsr(length_s, sample_rate, 0.03, 0.3, 0.8, 0.25)
    t = np.arange(len(env)) / sample_rate
    return np.sin(2 * np.pi * _hz(note.midi) * t) * env


def _arp(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A plucked saw: quick attack, exponential decay."""
    env = _adsr(length_s, sample_rate, 0.004, 0.02, 0.9, 0.08)
    env *= np.exp(-np.arange(len(env)) / (0.12 * sample_rate))
    return _osc(note.brightness, _hz(note.midi), len(env), sample_rate) * env


def _kick(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A sine whose pitch drops from about 150 to 48 Hz: the classic electronic kick."""
    t = np.arange(round(0.35 * sample_rate)) / sample_rate
    phase = 2 * np.pi * (48 * t + 100 * 0.03 * (1 - np.exp(-t / 0.03)))
    return np.sin(phase) * np.exp(-t / 0.12)


def _snare(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A soft clap: band-passed noise burst over a short 190 Hz body."""
    t = np.arange(round(0.25 * sample_rate)) / sample_rate
    burst = np.diff(noise[: len(t) + 1])  # first difference lifts the noise to the clap range
    burst = np.convolve(burst, np.ones(4) / 4, mode="same")
    return 0.5 * burst * np.exp(-t / 0.05) + 0.35 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)


def _hat(note: Note, length_s: float, sample_rate: int, noise: np.ndarray) -> np.ndarray:
    """A closed hat: twice-differenced (high-passed) noise with a very short decay."""
    t = np.arange(round(0.06 * sample_rate)) / sample_rate
    hiss = np.diff(noise[: len(t) + 2], n=2) / 4
    return hiss * np.exp(-t / 0.015)


DRUMS = frozenset({"kick", "snare", "hat"})
INSTRUMENTS = {"pad": _pad, "keys": _keys, "ep": _ep, "bass": _bass_tone, "sub": _sub,
                "arp": _arp, "kick": _kick, "snare": _snare, "hat": _hat}
