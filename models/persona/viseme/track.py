"""Per-frame drive signals for the viseme animator, all deterministic.

    mouth = mouth_track(speech, fps=30, frame_count=720)
    mouth.openness[i], mouth.rounding[i]          # 0..1 for frame i
    blinks = blink_track(fps=30, frame_count=720, seed=7)           # eyelid closure 0..1
    poses = head_track(fps=30, frame_count=720, seed=7, rotation_rad=0.02, shift_px=4.0)

Mouth openness comes from the phoneme timings mapped to visemes (open vowels wide, rounded
vowels narrower and round, m/b/p shut, f/v almost shut), scaled by the speech loudness around
each frame, then smoothed with a fast attack and a slower release. Without phoneme timings the
loudness alone drives it. Frames where the voice is below the gate and no phoneme is spoken are
exactly closed. Blinks come every 2-6 s and last 150 ms; the head sways on a few slow sinusoids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.base import PhonemeTiming, Speech
from models.persona.speech_envelope import SILENCE, loudness

# IPA symbol -> (openness, rounding), both 0..1; symbols are the ones espeak-ng gives Piper.
VISEMES: dict[str, tuple[float, float]] = {
    **dict.fromkeys("aɑæɐʌ", (1.0, 0.0)),
    "ɒ": (0.85, 0.5), "ɔ": (0.75, 0.7), "o": (0.6, 0.85), "ʊ": (0.35, 0.8), "u": (0.3, 1.0),
    "ɛ": (0.7, 0.0), "e": (0.55, 0.0), "ɜ": (0.5, 0.2), "ə": (0.45, 0.0), "ɚ": (0.4, 0.3),
    "ɪ": (0.4, 0.0), "ᵻ": (0.35, 0.0), "i": (0.3, 0.0), "y": (0.3, 0.9), "w": (0.15, 1.0),
    **dict.fromkeys("mbp", (0.0, 0.0)),
    **dict.fromkeys("fv", (0.08, 0.0)),
    **dict.fromkeys("θð", (0.2, 0.0)),
    **dict.fromkeys("tdnlszɾɫ", (0.22, 0.0)),
    **dict.fromkeys("ʃʒ", (0.25, 0.6)),
    **dict.fromkeys("ɹr", (0.25, 0.45)),
    "j": (0.25, 0.0), "h": (0.45, 0.0), "ʔ": (0.1, 0.0),
    **dict.fromkeys("kgŋx", (0.3, 0.0)),
}
STRESS = "ˈˌ"  # belongs to the next phone
LENGTH = "ː"  # belongs to the previous phone

LEAD_S = 0.04  # lips move slightly before the sound they make
ATTACK_S, RELEASE_S, ROUND_S = 0.025, 0.05, 0.06
CLOSED_BELOW = 0.03

Shape = tuple[float, float] | str | None  # a viseme, "silence", or None: follow the loudness


@dataclass(frozen=True)
class MouthTrack:
    openness: np.ndarray  # (frames,) float32, 0 = closed (rest pose), 1 = wide open
    rounding: np.ndarray  # (frames,) float32, 1 = fully rounded lips


def mouth_track(speech: Speech, *, fps: int, frame_count: int) -> MouthTrack:
    """Mouth openness and rounding for each video frame of `speech`."""
    times = np.arange(frame_count) / fps + LEAD_S
    level = loudness(speech, times)
    if speech.phonemes:
        target, rounding = _viseme_targets(speech.phonemes, times, level)
    else:
        target, rounding = 0.85 * level ** 0.8, np.zeros(frame_count)
    openness = _follow(target, fps=fps, attack_s=ATTACK_S, release_s=RELEASE_S)
    openness[openness < CLOSED_BELOW] = 0.0
    rounding = _follow(rounding, fps=fps, attack_s=ROUND_S, release_s=ROUND_S)
    return MouthTrack(openness.astype(np.float32), rounding.astype(np.float32))


def _viseme_targets(phonemes: tuple[PhonemeTiming, ...], times: np.ndarray,
                    level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Target openness and rounding per frame from the phone spoken at that time."""
    phonemes = tuple(sorted(phonemes, key=lambda p: p.start_s))  # stable: ties keep order
    starts = np.array([p.start_s for p in phonemes])
    index = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(phonemes) - 1)
    ends = np.array([p.end_s for p in phonemes])
    during = (times >= starts[index]) & (times < ends[index])
    shapes = _resolve(phonemes)
    target, rounding = np.zeros(len(times)), np.zeros(len(times))
    for i, (k, inside) in enumerate(zip(index, during)):
        shape = shapes[k] if inside else "silence"
        if shape == "silence":
            target[i] = 0.5 * level[i]  # timings can be a little off; trust a loud voice a bit
        elif shape is None:
            target[i] = 0.85 * level[i] ** 0.8
        else:
            target[i], rounding[i] = shape[0] * (0.45 + 0.55 * level[i]), shape[1]
    return target, rounding


def _resolve(phonemes: tuple[PhonemeTiming, ...]) -> list[Shape]:
    """Per phoneme: (openness, rounding), "silence", or None (unknown: follow loudness)."""
    symbols = [p.phoneme.strip() for p in phonemes]
    shapes = [_shape(s) for s in symbols]
    for i in reversed(range(len(symbols))):  # stress marks take the next phone's shape
        if symbols[i] and symbols[i][0] in STRESS and len(symbols[i]) == 1:
            shapes[i] = shapes[i + 1] if i + 1 < len(shapes) else "silence"
    for i, symbol in enumerate(symbols):  # length marks extend the previous phone
        if symbol == LENGTH:
            shapes[i] = shapes[i - 1] if i else None
    return shapes


def _shape(symbol: str) -> Shape:
    if not symbol:
        return None  # a word gap inside a phrase: let the loudness decide
    if symbol in SILENCE:
        return "silence"
    for char in symbol.lstrip(STRESS):  # "ˈa", "aɪ", "tʃ": the first known symbol leads
        if char in VISEMES:
            return VISEMES[char]
    return None


def _follow(target: np.ndarray, *, fps: int, attack_s: float, release_s: float) -> np.ndarray:
    """One-pole smoothing that rises with `attack_s` and falls with `release_s` (seconds)."""
    rise, fall = 1.0 - np.exp(-1.0 / (fps * attack_s)), 1.0 - np.exp(-1.0 / (fps * release_s))
    out, value = np.empty(len(target)), 0.0
    for i, goal in enumerate(target):
        value += (goal - value) * (rise if goal > value else fall)
        out[i] = value
    return out


# --- blinks and head motion ---------------------------------------------------------------

BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S = 0.06, 0.03, 0.06


def blink_track(*, fps: int, frame_count: int, seed: int) -> np.ndarray:
    """Eyelid closure per frame, 0..1: a 150 ms blink every 2-6 s (the first within 0.8-3 s)."""
    rng = np.random.default_rng([seed, 1])
    closure = np.zeros(frame_count, np.float32)
    length = int(np.ceil((BLINK_CLOSE_S + BLINK_HOLD_S + BLINK_OPEN_S) * fps)) + 1
    at = rng.uniform(0.8, 3.0)
    while at * fps < frame_count:
        start = int(np.ceil(at * fps))  # on a frame, so one frame sees the lid fully shut
        taus = np.arange(length) / fps
        span = closure[start:start + length]
        span[:] = np.maximum(span, _blink_profile(taus[:len(span)]))
        at += rng.uniform(2.0, 6.0)
    return closure


def _blink_profile(tau: np.ndarray) -> np.ndarray:
    closing = _ease(np.clip(tau / BLINK_CLOSE_S, 0.0, 1.0))
    opening = _ease(np.clip((tau - BLINK_CLOSE_S - BLINK_HOLD_S) / BLINK_OPEN_S, 0.0, 1.0))
    return (closing * (1.0 - opening)).astype(np.float32)


def _ease(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)


HEAD_HZ = (0.11, 0.23, 0.37)
HEAD_WEIGHTS = (0.55, 0.3, 0.15)  # sum to 1, so a sway never exceeds its amplitude


def head_track(*, fps: int, frame_count: int, seed: int, rotation_rad: float,
               shift_px: float) -> np.ndarray:
    """(frame_count, 3) float64: rotation (rad), x shift and y shift (px) per frame."""
    rng = np.random.default_rng([seed, 2])
    t = np.arange(frame_count) / fps
    poses = np.zeros((frame_count, 3))
    for axis, amplitude in enumerate((rotation_rad, shift_px, 0.6 * shift_px)):
        for hz, weight in zip(HEAD_HZ, HEAD_WEIGHTS):
            freq = hz * rng.uniform(0.8, 1.2)
            poses[:, axis] += weight * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
        poses[:, axis] *= amplitude
    return poses
