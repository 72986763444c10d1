"""Burnt-in captions on the delivered frames: readable, in the safe rows, the spoken word lit.

    track = CaptionTrack(words, style)      # the job's captions (pipelines/captions/track.py)
    media = read_media(path, crops=caption_crops(plan, track))   # the captions at full size
    result = check_captions(media, plan, track, width=1080, height=1920)

The caption track says which page is up at a time and which pixels are letters; the shot plan
says how far each shot moves it (`caption_shift`). Each check is made on the decoded frame, at
up to MAX_WORDS word midpoints spread over the video: the contrast between the letters' fill
and what lies right behind them (their outline and the picture about it) as WCAG 2 defines it
(at least 4.5:1 for the 10th-percentile sample); in karaoke, the spoken word's fill nearer to
the highlight colour than to the text colour; every caption inside the platform-safe rows. The
contrast and the highlight are read off the caption's box at full resolution where the decode
cut it out (`caption_crops`), since scaling a frame down blends a thin outline into the picture
behind it; otherwise off the analysis frame.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from pipelines.compose.shot_layout import CAPTION_ROWS, shape_of
from pipelines.contract import FPS
from pipelines.qa.media import SAMPLE_EVERY, Box, Media, Sample
from pipelines.qa.plan import Shot, ShotPlan
from pipelines.qa.result import CheckResult, graded, yes_no

MIN_CONTRAST = 4.5
MIN_HIGHLIGHT_SHARE = 0.8
MAX_WORDS = 24
SAFE_SLACK = 0.01  # of the frame height


def check_captions(media: Media, plan: ShotPlan, track, *, width: int, height: int,
                   enabled: bool = True) -> CheckResult:
    if not enabled or track is None:
        return CheckResult.of("captions", {}, {"captions": "off"})
    contrasts, lit, outside, bad_shots = [], [], [], []
    for sample in _word_samples(media, plan):
        layer, shot, (dx, dy) = _caption_at(plan, track, sample.t_s)
        if layer is None:
            continue
        image, scale, (ox, oy) = _seen(media, sample)
        placed = _placed(layer, layer.x + dx - ox, layer.y + dy - oy, scale, image.shape)
        if placed is None:
            continue
        contrast = _contrast(image, placed, track.style)
        if contrast is not None:
            contrasts.append(contrast)
            if contrast < MIN_CONTRAST and shot is not None:
                bad_shots.append(shot.index)
        lit += _highlight(image, layer, dx - ox, dy - oy, scale, track.style)
        if not _inside_rows(layer, dx, dy, width, height):
            outside.append(round(sample.t_s, 2))
            bad_shots += [shot.index] if shot is not None else []
    low = float(np.percentile(contrasts, 10)) if contrasts else float("nan")
    share = float(np.mean(lit)) if lit else 1.0
    criteria = {"highlight": graded(share, limit=MIN_HIGHLIGHT_SHARE, span=0.2),
                "safe_zone": yes_no(not outside)}
    if contrasts:  # none when no word's letters could be measured (too small, off the frame)
        criteria["contrast"] = graded(low, limit=MIN_CONTRAST, span=3.0)
    figures = {"contrast_p10": round(low, 2), "contrast_min": round(min(contrasts), 2)
               if contrasts else None, "samples": len(contrasts),
               "highlight_share": round(share, 3), "highlight_samples": len(lit),
               "outside_safe_rows_at_s": outside[:10]}
    return CheckResult.of("captions", criteria, figures, tuple(bad_shots))


def caption_crops(plan: ShotPlan, track) -> dict[int, Box]:
    """The frames the check reads and each one's caption box (frame pixels), for read_media."""
    if track is None:
        return {}
    boxes = {}
    for index in _word_frames(plan):
        layer, _, (dx, dy) = _caption_at(plan, track, index / FPS)
        if layer is not None:
            boxes[index] = (layer.x + dx, layer.y + dy, layer.rgba.shape[1], layer.rgba.shape[0])
    return boxes


def _caption_at(plan: ShotPlan, track, t_s: float) -> tuple[Any, Shot | None, tuple[int, int]]:
    """The caption layer up at `t_s` (None when none is), its shot, and the shot's shift."""
    shot = plan.at(t_s)
    return track.layer_at(t_s), shot, shot.caption_shift if shot is not None else (0, 0)


def _word_frames(plan: ShotPlan) -> list[int]:
    """Up to MAX_WORDS words spread over the video; for each, the analysis frame (a multiple
    of SAMPLE_EVERY) nearest its midpoint among those inside it."""
    words = list(plan.words)
    if len(words) > MAX_WORDS:
        words = [words[round(i)] for i in np.linspace(0, len(words) - 1, MAX_WORDS)]
    picked = []
    for w in words:
        first = int(np.ceil(w.start_s * FPS / SAMPLE_EVERY - 1e-9))
        inside = [k * SAMPLE_EVERY for k in range(first, int(w.end_s * FPS / SAMPLE_EVERY) + 2)
                  if w.start_s <= k * SAMPLE_EVERY / FPS < w.end_s]
        if inside:
            mid = (w.start_s + w.end_s) / 2
            picked.append(min(inside, key=lambda i: abs(i / FPS - mid)))
    return list(dict.fromkeys(picked))


def _word_samples(media: Media, plan: ShotPlan) -> list[Sample]:
    by_index = {s.index: s for s in media.frames}
    return [by_index[i] for i in _word_frames(plan) if i in by_index]


def _seen(media: Media, sample: Sample) -> tuple[np.ndarray, float, tuple[int, int]]:
    """What the check reads for a sample: the full-size cut-out when the decode made one
    (scale 1, its top-left), else the analysis frame."""
    if sample.index in media.crops:
        (x, y, _, _), crop = media.crops[sample.index]
        return crop, 1.0, (x, y)
    return sample.rgb, media.scale, (0, 0)


def _placed(layer, x: int, y: int, scale: float, shape) -> tuple[np.ndarray, int, int] | None:
    """The layer's RGBA at analysis scale and its top-left there, clipped to the frame."""
    rgba = layer.rgba
    if scale != 1.0:
        size = (max(1, round(rgba.shape[1] * scale)), max(1, round(rgba.shape[0] * scale)))
        rgba = cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)
    x, y = round(x * scale), round(y * scale)
    H, W = shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + rgba.shape[1]), min(H, y + rgba.shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    return rgba[y0 - y:y1 - y, x0 - x:x1 - x], x0, y0


def _fill_mask(rgba: np.ndarray, style) -> np.ndarray:
    """The letters' fill: opaque and away from the outline colour, shrunk off its edges."""
    far = np.abs(rgba[:, :, :3].astype(np.int16) - np.int16(style.stroke_rgb)).max(axis=2) > 40
    fill = ((rgba[:, :, 3] > 240) & far).astype(np.uint8)
    inner = cv2.erode(fill, np.ones((3, 3), np.uint8))
    return (inner if inner.sum() >= 20 else fill).astype(bool)


def _contrast(rgb: np.ndarray, placed, style) -> float | None:
    rgba, x, y = placed
    crop = rgb[y:y + rgba.shape[0], x:x + rgba.shape[1]]
    fill = _fill_mask(rgba, style)
    if fill.sum() < 8:
        return None
    ink = cv2.dilate((rgba[:, :, 3] > 16).astype(np.uint8), np.ones((5, 5), np.uint8))
    behind = ink.astype(bool) & ~cv2.dilate(fill.astype(np.uint8), np.ones((3, 3), np.uint8)
                                            ).astype(bool)
    if behind.sum() < 8:
        return None
    a = luminance(np.median(crop[fill], axis=0))
    b = luminance(np.median(crop[behind], axis=0))
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def luminance(rgb: np.ndarray) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def _highlight(rgb: np.ndarray, layer, dx: int, dy: int, scale: float, style) -> list[bool]:
    if not style.karaoke or layer.active is None or style.text_rgb == style.highlight_rgb:
        return []
    box = layer.word_boxes[layer.active]
    if box is None:
        return []
    word = _placed(_Cropped(layer, box), box.x + dx, box.y + dy, scale, rgb.shape)
    if word is None:
        return []
    rgba, x, y = word
    fill = _fill_mask(rgba, style)
    if fill.sum() < 4:
        return []
    seen = np.median(rgb[y:y + rgba.shape[0], x:x + rgba.shape[1]][fill], axis=0)
    to_lit = np.linalg.norm(seen - np.float64(style.highlight_rgb))
    to_text = np.linalg.norm(seen - np.float64(style.text_rgb))
    return [bool(to_lit < to_text)]


class _Cropped:
    """A word's part of a caption layer (its box is in frame pixels)."""

    def __init__(self, layer, box) -> None:
        x, y = box.x - layer.x, box.y - layer.y
        self.rgba = layer.rgba[max(0, y):y + box.h, max(0, x):x + box.w]


def _inside_rows(layer, dx: int, dy: int, width: int, height: int) -> bool:
    alpha = layer.rgba[:, :, 3] > 16
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return True
    top, bottom = (f * height for f in CAPTION_ROWS[shape_of(width, height)])
    slack = SAFE_SLACK * height
    y0, y1 = layer.y + dy + rows[0], layer.y + dy + rows[-1]
    x0, x1 = layer.x + dx + cols[0], layer.x + dx + cols[-1]
    return y0 >= top - slack and y1 <= bottom + slack and x0 >= 0 and x1 < width
