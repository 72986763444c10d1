"""Carry word timings from one rendition of a text to another by dynamic time warping.

    words = transfer_words(reference, samples, sample_rate)   # reference: a Speech with words

For a voice that gives no timings (XTTS-v2 generates audio tokens, not durations), the same
text spoken by a voice that does (the bundled Piper voice, whose phoneme alignments are exact)
is the reference: both are turned into normalised cepstra (MFCC-like: log-mel, DCT, per
utterance mean and variance), a DTW path maps every reference frame to a target frame, and
each word's start and end ride along it. Different speakers say the same phones in the same
order, so the cepstral distance is smallest along the true alignment. NumPy only; 10 ms frames.
Measured on Piper speech against a copy slowed to 0.8x and shifted by 0.3 s: word boundaries
within 30 ms median (tests/models/voice/coqui/test_speech_align.py).
"""

from __future__ import annotations

import numpy as np

from models.base import PhonemeTiming, Speech, WordTiming

HOP_S = 0.010
WINDOW_S = 0.025
N_MELS = 40
N_CEPSTRA = 13
FEATURE_RATE = 16000


def transfer_words(reference: Speech, samples: np.ndarray,
                   sample_rate: int) -> tuple[WordTiming, ...]:
    """`reference.words` moved onto `samples` (mono float32), monotonic and inside the audio."""
    return transfer_timings(reference, samples, sample_rate)[0]


def transfer_timings(reference: Speech, samples: np.ndarray, sample_rate: int
                     ) -> tuple[tuple[WordTiming, ...], tuple[PhonemeTiming, ...]]:
    """The reference's words and phonemes moved onto `samples` along one DTW path."""
    if not reference.words and not reference.phonemes:
        return (), ()
    ref = cepstra(reference.samples, reference.sample_rate)
    mapping = frame_mapping(dtw_path(ref, cepstra(samples, sample_rate)), len(ref))
    duration_s = len(samples) / sample_rate
    words = _moved_spans(reference.words, mapping, duration_s)
    phones = _moved_spans(reference.phonemes, mapping, duration_s)
    return (tuple(WordTiming(w.text, s, e) for w, (s, e) in zip(reference.words, words)),
            tuple(PhonemeTiming(p.phoneme, s, e) for p, (s, e) in zip(reference.phonemes, phones)))


def _moved_spans(spans, mapping: np.ndarray, duration_s: float) -> list[tuple[float, float]]:
    moved, floor = [], 0.0
    for span in spans:
        start = max(floor, _moved(span.start_s, mapping))
        end = min(duration_s, max(start + HOP_S, _moved(span.end_s, mapping)))
        start = min(start, end)
        moved.append((round(start, 3), round(end, 3)))
        floor = end
    return moved


def _moved(t_s: float, mapping: np.ndarray) -> float:
    index = int(np.clip(round(t_s / HOP_S), 0, len(mapping) - 1))
    return float(mapping[index]) * HOP_S


def cepstra(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(frames, N_CEPSTRA - 1) normalised cepstra of mono audio, one frame per 10 ms."""
    audio = _resample(np.asarray(samples, np.float32), sample_rate, FEATURE_RATE)
    window, hop = round(WINDOW_S * FEATURE_RATE), round(HOP_S * FEATURE_RATE)
    n_fft = 1 << (window - 1).bit_length()
    audio = np.pad(audio, (window // 2, window // 2 + window))
    count = max(1, 1 + (len(audio) - window) // hop)
    frames = np.lib.stride_tricks.sliding_window_view(audio, window)[::hop][:count]
    power = np.abs(np.fft.rfft(frames * np.hanning(window), n=n_fft)) ** 2
    log_mel = np.log(power @ _mel_filters(n_fft).T + 1e-8)
    ceps = log_mel @ _dct_matrix(N_MELS, N_CEPSTRA).T
    ceps = ceps[:, 1:]  # c0 is loudness: it differs between voices more than it aligns them
    return (ceps - ceps.mean(axis=0)) / (ceps.std(axis=0) + 1e-6)


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least-cost monotonic path from (0, 0) to the ends of `a` and `b` (frame sequences).

    Each row of the cost table is one vectorised pass: the step from the left is a running
    minimum, D[i, j] = S[j] + min over k <= j of (T[k] - S[k]) with S the row's cumulative cost.
    """
    cost = np.sqrt(np.maximum(
        (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0))
    n, m = cost.shape
    total = np.empty((n, m))
    total[0] = np.cumsum(cost[0])
    for i in range(1, n):
        from_above = np.minimum(total[i - 1], np.concatenate(([np.inf], total[i - 1][:-1])))
        through = cost[i] + from_above
        running = np.cumsum(cost[i])
        total[i] = running + np.minimum.accumulate(through - running)
    return _backtrack(total)


def _backtrack(total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = total.shape[0] - 1, total.shape[1] - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            steps = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
            i, j = min(steps, key=lambda s: total[s])
        path.append((i, j))
    rows, cols = zip(*reversed(path))
    return np.asarray(rows), np.asarray(cols)


def frame_mapping(path: tuple[np.ndarray, np.ndarray], frames: int) -> np.ndarray:
    """For each reference frame, the mean target frame the path pairs it with."""
    rows, cols = path
    sums = np.bincount(rows, weights=cols, minlength=frames)
    counts = np.maximum(np.bincount(rows, minlength=frames), 1)
    return sums / counts


def _resample(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    if source == target or len(samples) == 0:
        return samples
    count = max(1, round(len(samples) * target / source))
    return np.interp(np.arange(count) * source / target, np.arange(len(samples)),
                     samples).astype(np.float32)


def _mel_filters(n_fft: int) -> np.ndarray:
    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(60.0), mel(7600.0), N_MELS + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / FEATURE_RATE)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    k, n = np.arange(n_out)[:, None], np.arange(n_in)[None, :]
    return np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))
