"""The speech envelope both animators follow: gated loudness around given times, and silence marks.

    level = loudness(speech, np.arange(720) / 30)   # 0..1 per video frame, 0 in pauses
    symbol in SILENCE                               # a phoneme symbol that is no sound

Shared by the viseme animator (mouth openness) and MuseTalk (which frames to lip-sync).
"""

from __future__ import annotations

import numpy as np

from models.base import Speech

SILENCE = set(".,;:!?-—…^$_\"'()")  # sentence marks and the voice's start/end symbols
WINDOW_S = 0.05  # loudness window around each frame
GATE = 0.12  # loudness below this share of the voice's typical level is silence
FLOOR_RMS = 10 ** (-50 / 20)  # and so is anything below -50 dBFS


def loudness(speech: Speech, times: np.ndarray) -> np.ndarray:
    """RMS around each time in `times` (s), relative to the voice's typical level, gated, 0..1."""
    samples = np.asarray(speech.samples, dtype=np.float64)
    power = np.concatenate([[0.0], np.cumsum(samples * samples)])
    half = max(1, int(WINDOW_S * speech.sample_rate / 2))
    centre = np.round(times * speech.sample_rate).astype(np.int64)
    lo = np.clip(centre - half, 0, len(samples))
    hi = np.clip(centre + half, 0, len(samples))
    rms = np.sqrt((power[hi] - power[lo]) / np.maximum(hi - lo, 1))
    voiced = rms[rms > FLOOR_RMS]
    if not len(voiced):
        return np.zeros_like(rms)
    typical = float(np.percentile(voiced, 90))
    level = np.clip(rms / typical, 0.0, 1.0)
    level[rms < max(GATE * typical, FLOOR_RMS)] = 0.0
    return level
