"""The product where the plan puts it: matched against its cut-out in each shot that shows it.

    result = check_product(media, plan, cutout_rgba, holdable=True)

For each shot with a product box, up to SAMPLES_PER_SHOT analysis frames are searched inside
that box (interpolated from the shot's start box to its end box, grown by SEARCH_MARGIN) for
the cut-out scaled to the product's drawn size (its rest box when held), at a few scales about
it: the best masked normalised cross-correlation is the shot's match (about 1 for the product
as drawn, near 0 for whatever else lies there). The scaling keeps the cut-out's aspect, so a
squashed product matches poorly too. In `holdable` mode every talking shot must show it.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipelines.qa.media import Media
from pipelines.qa.plan import Shot, ShotPlan
from pipelines.qa.result import CheckResult, graded, yes_no

MIN_MATCH = 0.5
SAMPLES_PER_SHOT = 3
SEARCH_MARGIN = 0.25
SCALES = (0.88, 1.0, 1.1, 1.2)


def check_product(media: Media, plan: ShotPlan, cutout_rgba: np.ndarray, *,
                  holdable: bool) -> CheckResult:
    matches: dict[int, float] = {}
    for shot in plan.shots:
        samples = [s for s in media.frames if shot.start_s <= s.t_s < shot.end_s]
        if shot.product_box is None or not samples:
            continue
        picked = [samples[round(i)] for i in np.linspace(0, len(samples) - 1, SAMPLES_PER_SHOT)]
        matches[shot.index] = float(np.median([_match(s.rgb, plan, shot, s.t_s, cutout_rgba)
                                               for s in picked]))
    missing = [s.index for s in plan.shots if holdable and s.talking and s.product_box is None]
    worst = min(matches.values()) if matches else float("nan")
    criteria = {"visible": graded(worst, limit=MIN_MATCH, span=0.3) if matches else 0.0,
                "in_persona_shots": yes_no(not missing)}
    figures = {"match_by_shot": {str(k): round(v, 3) for k, v in matches.items()},
               "shots_without_product": missing, "holdable": holdable}
    bad = tuple(i for i, m in matches.items() if m < MIN_MATCH) + tuple(missing)
    return CheckResult.of("product", criteria, figures, bad)


def _match(rgb: np.ndarray, plan: ShotPlan, shot: Shot, t_s: float, cutout: np.ndarray) -> float:
    box = plan.product_box(shot, t_s)
    drawn = plan.scaled(shot.product_rest_box) or box
    region = _region(rgb, box)
    best = -1.0
    for scale in SCALES:
        w, h = _fitted(cutout, round(drawn[2] * scale), round(drawn[3] * scale))
        if w < 6 or h < 6 or w > region.shape[1] or h > region.shape[0]:
            continue
        small = cv2.resize(cutout, (w, h), interpolation=cv2.INTER_AREA)
        mask = (small[:, :, 3] > 128).astype(np.float32)
        if mask.sum() < 16:
            continue
        found = cv2.matchTemplate(region, np.ascontiguousarray(small[:, :, :3]),
                                  cv2.TM_CCOEFF_NORMED, mask=cv2.merge([mask] * 3))
        found = found[np.isfinite(found)]
        if found.size:
            best = max(best, float(found.max()))
    return best


def _region(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    mx, my = round(SEARCH_MARGIN * w), round(SEARCH_MARGIN * h)
    H, W = rgb.shape[:2]
    return np.ascontiguousarray(rgb[max(0, y - my):min(H, y + h + my),
                                    max(0, x - mx):min(W, x + w + mx)])


def _fitted(rgba: np.ndarray, w: int, h: int) -> tuple[int, int]:
    scale = min(w / rgba.shape[1], h / rgba.shape[0])
    return max(1, round(rgba.shape[1] * scale)), max(1, round(rgba.shape[0] * scale))
