"""The product where the plan puts it: matched against its cut-out in each shot that shows it.

    result = check_product(media, plan, cutout_rgba, holdable=True)

For each shot with a product box, up to SAMPLES_PER_SHOT analysis frames are searched inside
that box (interpolated from the shot's start box to its end box, grown by SEARCH_MARGIN) for
the cut-out scaled to the product's drawn size (its rest box when held), at a few scales about
it. The match is 1 - the least masked RMS colour error / FULL_ERROR: 0.75-0.95 for the product
as drawn, 0.05-0.21 for the picture behind it on the draft renders (a punch-in, whose product
grows with the zoom, scores about 0.4-0.8). Where the product runs off the frame's edge, only
its part inside the frame is compared. The scaling keeps the cut-out's aspect, so a squashed
product matches poorly too. The median of a shot's samples is its match; MIN_MATCH the limit.
The search runs on the analysis frames scaled by MATCH_SCALE, where matching costs a
sixteenth. In `holdable` mode every talking shot must show it. Shots without boxes (the
generative tier's: its keyframe model places the product) are not matched.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from pipelines.qa.media import Media
from pipelines.qa.plan import Shot, ShotPlan
from pipelines.qa.result import CheckResult, graded, yes_no

MIN_MATCH = 0.3
FULL_ERROR = 90.0  # RMS colour error (0-255 levels) that scores a match of 0
SAMPLES_PER_SHOT = 3
SEARCH_MARGIN = 0.25
SCALES = (0.88, 1.0, 1.1, 1.2)
EDGE_PARTS = (0.5, 0.65, 0.8)  # shares of the cut-out kept where it runs off the frame
MATCH_SCALE = 0.5  # of the analysis frames


def check_product(media: Media, plan: ShotPlan, cutout_rgba: np.ndarray, *,
                  holdable: bool) -> CheckResult:
    matches: dict[int, float] = {}
    small = replace(plan, scale=plan.scale * MATCH_SCALE)
    for shot in plan.shots:
        samples = [s for s in media.frames if shot.start_s <= s.t_s < shot.end_s]
        if shot.product_box is None or not samples:
            continue
        picked = [samples[round(i)] for i in np.linspace(0, len(samples) - 1, SAMPLES_PER_SHOT)]
        matches[shot.index] = float(np.median([_match(_smaller(s.rgb), small, shot, s.t_s,
                                                      cutout_rgba) for s in picked]))
    # The generative tier's shots carry no boxes (its keyframe model places the product):
    # there is nothing to match against, and a talking shot's missing box says nothing.
    placed = any(s.product_box is not None for s in plan.shots)
    missing = [s.index for s in plan.shots
               if placed and holdable and s.talking and s.product_box is None]
    worst = min(matches.values()) if matches else float("nan")
    criteria = {"in_persona_shots": yes_no(not missing)} if placed else {}
    if matches:
        criteria["visible"] = graded(worst, limit=MIN_MATCH, span=0.3)
    if not plan.shots:  # no plan at all: nothing says the product was ever shown
        criteria["shot_plan"] = yes_no(False)
    figures = {"match_by_shot": {str(k): round(v, 3) for k, v in matches.items()},
               "shots_without_product": missing, "holdable": holdable,
               "boxes_in_plan": placed}
    bad = tuple(i for i, m in matches.items() if m < MIN_MATCH) + tuple(missing)
    return CheckResult.of("product", criteria, figures, bad)


def _smaller(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * MATCH_SCALE)), max(1, round(h * MATCH_SCALE)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _match(rgb: np.ndarray, plan: ShotPlan, shot: Shot, t_s: float, cutout: np.ndarray) -> float:
    """1 - (the least RMS colour error of the cut-out over the search region) / FULL_ERROR."""
    box = plan.product_box(shot, t_s)
    drawn = plan.scaled(shot.product_rest_box) or box
    region = _region(rgb, box).astype(np.float32)
    least = float("inf")
    for scale in SCALES:
        w, h = _fitted(cutout, round(drawn[2] * scale), round(drawn[3] * scale))
        if w < 6 or h < 6:
            continue
        scaled = cv2.resize(cutout, (w, h), interpolation=cv2.INTER_AREA)
        for small in _visible_parts(scaled, drawn, box, rgb.shape):
            if small.shape[0] < 6 or small.shape[1] < 6 or small.shape[0] > region.shape[0] \
                    or small.shape[1] > region.shape[1]:
                continue
            mask = (small[:, :, 3] > 128).astype(np.float32)
            if mask.sum() < 16:
                continue
            found = cv2.matchTemplate(region, np.ascontiguousarray(small[:, :, :3]).astype(
                np.float32), cv2.TM_SQDIFF, mask=cv2.merge([mask] * 3))
            least = min(least, float(np.sqrt(max(0.0, float(found.min())) / (3 * mask.sum()))))
    return max(0.0, 1.0 - least / FULL_ERROR) if np.isfinite(least) else 0.0


def _visible_parts(scaled: np.ndarray, drawn, box, shape) -> list[np.ndarray]:
    """The cut-out as it may show: its part inside the frame when centred on `drawn`, and,
    where the shot's box meets the frame's lower or side edge (a product rising into the frame,
    grown by a punch-in), only its top or inner EDGE_PARTS."""
    parts = [_on_frame(scaled, drawn, shape)]
    h, w = scaled.shape[:2]
    x, y, bw, bh = box
    for f in EDGE_PARTS:
        if y + bh >= shape[0] - 1:
            parts.append(scaled[:max(1, round(f * h))])
        if x + bw >= shape[1] - 1:
            parts.append(scaled[:, :max(1, round(f * w))])
        if x <= 0:
            parts.append(scaled[:, w - max(1, round(f * w)):])
    return parts


def _on_frame(small: np.ndarray, drawn: tuple[int, int, int, int], shape) -> np.ndarray:
    """The part of the scaled cut-out that stays inside the frame when centred on `drawn`
    (a held product rises from the frame's lower edge: only its visible part is compared)."""
    h, w = small.shape[:2]
    x = round(drawn[0] + drawn[2] / 2 - w / 2)
    y = round(drawn[1] + drawn[3] / 2 - h / 2)
    top, left = max(0, -y), max(0, -x)
    bottom, right = min(h, shape[0] - y), min(w, shape[1] - x)
    return small[top:max(top, bottom), left:max(left, right)]


def _region(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    mx, my = round(SEARCH_MARGIN * w), round(SEARCH_MARGIN * h)
    H, W = rgb.shape[:2]
    return np.ascontiguousarray(rgb[max(0, y - my):min(H, y + h + my),
                                    max(0, x - mx):min(W, x + w + mx)])


def _fitted(rgba: np.ndarray, w: int, h: int) -> tuple[int, int]:
    scale = min(w / rgba.shape[1], h / rgba.shape[0])
    return max(1, round(rgba.shape[1] * scale)), max(1, round(rgba.shape[0] * scale))
