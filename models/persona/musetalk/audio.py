"""The audio side of the recipe: whisper-tiny features, one token window per video frame.

    steps = encode_speech(models.whisper, models.features, speech, device="cuda")
    tokens = frame_tokens(steps, fps=30, frames=list(range(32)))   # (32, 50, 384)
    tokens = tokens + positional_encoding(50, 384)            # what the UNet attends to
    weights = speaking_weights(speech, fps=30, frame_count=720)  # 0 = keep the original face

The voice is resampled to 16 kHz with a windowed-sinc polyphase filter, cut into 30 s windows
for the feature extractor, and run through the whisper encoder; all its hidden states (the
embedding and every layer: 5 for whisper-tiny) are stacked at 50 steps per second. Frame i
takes the 10 steps that start 4 steps (80 ms) before its time, as MuseTalk does at its 25 fps
training rate; at other frame rates the window stays anchored in time, not in frame counts.
Steps outside the audio are zeros. The window is flattened time-major to 10 x 5 = 50 tokens.
"""

from __future__ import annotations

import math
from math import gcd
from typing import TYPE_CHECKING, Any

import numpy as np

from models.base import PhonemeTiming, Speech
from models.persona.musetalk.config import (
    AUDIO_RATE,
    AUDIO_STEPS_PER_S,
    PE_MAX_LEN,
    WINDOW_LEAD_STEPS,
    WINDOW_STEPS,
)
from models.persona.speech_envelope import SILENCE, loudness

if TYPE_CHECKING:
    import torch

SINC_ZERO_CROSSINGS = 6  # filter half-width in zero crossings of the low-pass sinc
ROLLOFF = 0.99  # cut-off as a share of the lower Nyquist frequency
SPEECH_LEAD_S = 0.1  # the lips start moving before the sound
SPEECH_TAIL_S = 0.15  # and settle after it
MIN_PAUSE_S = 0.3  # shorter pauses stay generated: swapping faces in and out would flicker
RAMP_FRAMES = 3  # frames over which the generated face fades in or out


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling (Hann-windowed sinc, polyphase), float32 in, float32 out."""
    import torch
    import torch.nn.functional as F

    divisor = gcd(rate_in, rate_out)
    up, down = rate_out // divisor, rate_in // divisor
    if up == down:
        return np.asarray(samples, dtype=np.float32)
    kernels, width = _sinc_kernels(up, down)
    wave = torch.as_tensor(np.asarray(samples, dtype=np.float32))[None, None]
    wave = F.pad(wave, (width, width + down))
    out = F.conv1d(wave, kernels.to(torch.float32), stride=down)  # (1, up, steps)
    out = out.transpose(1, 2).reshape(-1)
    return out[:math.ceil(up * len(samples) / down)].numpy().copy()


def _sinc_kernels(up: int, down: int) -> tuple[torch.Tensor, int]:
    """One low-pass kernel per output phase: `up` kernels stepping `down` input samples."""
    import torch

    cutoff = min(up, down) * ROLLOFF
    width = math.ceil(SINC_ZERO_CROSSINGS * down / cutoff)
    taps = torch.arange(-width, width + down, dtype=torch.float64)[None, None] / down
    t = torch.arange(0, -up, -1, dtype=torch.float64)[:, None, None] / up + taps
    t = (t * cutoff).clamp(-SINC_ZERO_CROSSINGS, SINC_ZERO_CROSSINGS)
    window = torch.cos(t * math.pi / SINC_ZERO_CROSSINGS / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / torch.where(t == 0, 1.0, t))
    return sinc * window * (cutoff / down), width


def encode_speech(whisper: Any, features: Any, speech: Speech, *, device: str) -> torch.Tensor:
    """(steps, hidden states, width) float32 on `device`: 50 steps per second of `speech`."""
    import torch

    audio = resample(speech.samples, speech.sample_rate, AUDIO_RATE)
    steps = math.floor(len(audio) * AUDIO_STEPS_PER_S / AUDIO_RATE)
    window = features.n_samples  # 30 s: the encoder only takes full windows
    chunks = [audio[i:i + window] for i in range(0, max(len(audio), 1), window)] or [audio]
    mel = features(chunks, sampling_rate=AUDIO_RATE, return_tensors="pt").input_features
    param = next(whisper.parameters())
    with torch.inference_mode():
        hidden = whisper(mel.to(device=param.device, dtype=param.dtype),
                         output_hidden_states=True).hidden_states
    stacked = torch.stack(hidden, dim=2)  # (chunks, 1500, states, width)
    return stacked.reshape(-1, *stacked.shape[2:])[:steps].to(device=device, dtype=torch.float32)


def frame_tokens(steps: torch.Tensor, *, fps: int, frames: list[int]) -> torch.Tensor:
    """(len(frames), WINDOW_STEPS * states, width): the window of whisper steps per frame."""
    import torch

    index = torch.as_tensor(frames, dtype=torch.long, device=steps.device)
    starts = index * AUDIO_STEPS_PER_S // fps - WINDOW_LEAD_STEPS
    window = starts[:, None] + torch.arange(WINDOW_STEPS, device=steps.device)
    inside = (window >= 0) & (window < len(steps))
    if len(steps) == 0:
        picked = steps.new_zeros(*window.shape, *steps.shape[1:])
    else:  # steps outside the audio are zeros, as in MuseTalk's zero padding
        picked = steps[window.clamp(0, len(steps) - 1)] * inside[..., None, None]
    return picked.reshape(len(frames), WINDOW_STEPS * steps.shape[1], steps.shape[-1])


def positional_encoding(length: int, width: int) -> torch.Tensor:
    """The fixed sinusoidal table (1, length, width) added to the audio tokens."""
    import torch

    if length > PE_MAX_LEN:
        raise ValueError(f"{length} audio tokens exceed the encoding's {PE_MAX_LEN}")
    position = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div)
    return table[None]


def speaking_weights(speech: Speech, *, fps: int, frame_count: int) -> np.ndarray:
    """Per frame, how much of the generated mouth to show: 0 in silence, 1 while speaking.

    A frame speaks when the voice is above the loudness gate or a phone is spoken at its
    time; short pauses are bridged, speech is widened by a lead and a tail, and the edges
    fade over a few frames.
    """
    times = np.arange(frame_count) / fps
    active = (loudness(speech, times) > 0) | _inside_phones(speech.phonemes, times)
    active = _bridge_pauses(active, max_gap=round(MIN_PAUSE_S * fps))
    lead, tail = round(SPEECH_LEAD_S * fps), round(SPEECH_TAIL_S * fps)
    widened = np.zeros(frame_count, dtype=bool)
    for i in np.flatnonzero(active):
        widened[max(0, i - lead):i + tail + 1] = True
    ramp = np.ones(2 * RAMP_FRAMES - 1) / (2 * RAMP_FRAMES - 1)
    weights = np.convolve(widened.astype(np.float64), ramp, mode="same")
    return np.clip(weights, 0.0, 1.0).astype(np.float32)


def _inside_phones(phonemes: tuple[PhonemeTiming, ...], times: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(times), dtype=bool)
    for phone in phonemes:
        symbol = phone.phoneme.strip()
        if symbol and not set(symbol) <= SILENCE:
            inside |= (times >= phone.start_s) & (times < phone.end_s)
    return inside


def _bridge_pauses(active: np.ndarray, *, max_gap: int) -> np.ndarray:
    """Fill runs of silence of at most `max_gap` frames that have speech on both sides."""
    out = active.copy()
    spoken = np.flatnonzero(active)
    for a, b in zip(spoken[:-1], spoken[1:]):
        if 1 < b - a <= max_gap + 1:
            out[a + 1:b] = True
    return out
