"""Black, frozen and corrupt stretches of the delivered picture, judged against the shot plan.

    result = check_picture(media, plan, duration_s=24.0)

A sample is black when its mean luma is under BLACK_LUMA with almost no spread (no shot of
the plan is black), and frozen when it differs from the previous sample by under
FROZEN_CHANGE (0-255 levels, at analysis size). Stillness the plan contains is excused: the
end card is one still image, and a persona waits almost motionless while nobody speaks. Any
other frozen run is measured; MAX_FROZEN_S is the limit. The decoded frame count must match
the duration and the decoder must not fail.
"""

from __future__ import annotations

from pipelines.contract import FPS
from pipelines.qa.media import SAMPLE_EVERY, Media
from pipelines.qa.plan import ShotPlan
from pipelines.qa.result import CheckResult, graded, yes_no

BLACK_LUMA, BLACK_SPREAD = 16.0, 6.0
FROZEN_CHANGE = 0.1
MAX_FROZEN_S = 1.2
MAX_BLACK_S = 0.1
STEP_S = SAMPLE_EVERY / FPS


def check_picture(media: Media, plan: ShotPlan, *, duration_s: float) -> CheckResult:
    black = [s.luma < BLACK_LUMA and s.luma_std < BLACK_SPREAD for s in media.frames]
    frozen = [s.change < FROZEN_CHANGE and not _still_by_plan(plan, s.t_s) for s in media.frames]
    black_run, black_at = _longest(black)
    frozen_run, frozen_at = _longest(frozen)
    # What the container declares, against what decoded: a cut-short stream decodes fewer.
    expected = round((media.video.get("duration_s") or duration_s) * FPS)
    shots = [plan.at(media.frames[i].t_s) for i in (black_at, frozen_at) if i is not None]
    criteria = {
        "black": graded(black_run * STEP_S, limit=MAX_BLACK_S, span=0.1, lower_is_better=True),
        "frozen": graded(frozen_run * STEP_S, limit=MAX_FROZEN_S, span=0.5, lower_is_better=True),
        "decodes": yes_no(not media.decode_errors and abs(media.frame_count - expected) <= 1),
    }
    figures = {"longest_black_s": round(black_run * STEP_S, 2),
               "black_from_s": _time(media, black_at), "longest_frozen_s":
               round(frozen_run * STEP_S, 2), "frozen_from_s": _time(media, frozen_at),
               "frames": media.frame_count, "expected_frames": expected,
               "decode_errors": media.decode_errors[:3]}
    bad = tuple(s.index for s, name in zip(shots, ("black", "frozen")) if s is not None
                and criteria[name] < 1.0)
    return CheckResult.of("picture", criteria, figures, bad)


def _still_by_plan(plan: ShotPlan, t_s: float) -> bool:
    """Stillness the plan contains: the end card, a persona waiting while nobody speaks (with
    no plan, any stretch in which nobody speaks)."""
    shot = plan.at(t_s)
    if shot is not None and shot.kind == "endcard":
        return True
    waits = shot is None or shot.talking
    return waits and not any(w.start_s - 0.15 <= t_s <= w.end_s + 0.15 for w in plan.words)


def _longest(flags: list[bool]) -> tuple[int, int | None]:
    """(length, start index) of the longest run of True."""
    best, best_at, run = 0, None, 0
    for i, flag in enumerate(flags):
        run = run + 1 if flag else 0
        if run > best:
            best, best_at = run, i - run + 1
    return best, best_at


def _time(media: Media, index: int | None) -> float | None:
    return None if index is None else round(media.frames[index].t_s, 2)
