"""The copywriter's plan: which phases each segment holds, and how many words it may take.

    phases = segment_phases("standard_5phase", 3, items=2, bearers=1)
    groups = partition_phases(phases, 3)  # [["hook", "problem"], ["solution", "proof"], ["cta"]]
    plan = assign_parts(groups, "standard_5phase", 2)  # Parts, selling points spread over them
    Budget.for_segment(8.0, 2.5, last=False)           # Budget(lo=16, hi=18, cap=20)

The structure's phases are laid over exactly `segment_count` segments: neighbours merged when
there are fewer segments, the middle phases repeated when there are more. A segment aims at
80-90 % of the words that fit its duration (55-75 % for the last, which an end card follows).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from itertools import combinations

from models.base import ScriptTooLongError

PHASES = {"standard_5phase": ("hook", "problem", "solution", "proof", "cta"),
          "problem_solution": ("hook", "problem", "agitate", "solution", "cta")}
# Which phases take the extra segments when there are more segments than phases, in turn.
GROWTH = {"standard_5phase": ("proof", "solution", "problem"),
          "problem_solution": ("solution", "agitate", "solution", "problem")}
POINT_PHASES = {"standard_5phase": ("solution", "proof"), "problem_solution": ("solution",),
                "listicle": ("point",)}
WEIGHTS = {"cta": 0.6, "agitate": 0.8}
BAND, LAST_BAND = (0.8, 0.9), (0.55, 0.75)
USER_RATE_SLACK = 1.4  # the user's own words may be spoken this much faster than the natural rate


@dataclass(frozen=True)
class Budget:
    """Words a segment may hold: aim for lo..hi, never above cap."""

    lo: int
    hi: int
    cap: int

    @classmethod
    def for_segment(cls, duration_s: float, words_per_second: float, *, last: bool) -> Budget:
        fits = duration_s * words_per_second
        low, high = LAST_BAND if last else BAND
        cap = math.floor(fits + 1e-9)
        lo = min(cap, math.ceil(low * fits - 1e-9))
        return cls(lo, max(lo, min(cap, math.floor(high * fits + 1e-9))), cap)

    def distance(self, words: int) -> int:
        return max(self.lo - words, words - self.hi, 0)


@dataclass(frozen=True)
class Part:
    """One phase inside a segment; `nth` counts earlier parts of the same phase."""

    phase: str
    nth: int
    items: tuple[int, ...] = ()  # selling points (or list items) the part carries
    with_hook: bool = False  # the segment opens with the hook


def segment_phases(structure: str, n: int, items: int, bearers: int) -> list[str]:
    """The phase of each segment-to-be; extra segments go first to carrying `bearers` point
    phases, then to the structure's growth phases in turn."""
    if structure == "listicle":  # segments beyond the items (tiny budgets) share experience
        return ["hook", *["point"] * items, *["proof"] * (n - 2 - items), "cta"]
    phases, growth = list(PHASES[structure]), GROWTH[structure]
    carriers = sum(p in POINT_PHASES[structure] for p in phases)
    extra = [growth[0]] * min(max(0, bearers - carriers), max(0, n - len(phases)))
    extra += [growth[i % len(growth)] for i in range(n - len(phases) - len(extra))]
    for phase in extra:
        phases.insert(max(j for j, p in enumerate(phases) if p == phase) + 1, phase)
    return phases


def partition_phases(phases: list[str], n: int) -> list[list[str]]:
    """Contiguous groups, the heaviest as light as possible (the last one holds less)."""
    if n >= len(phases):
        return [[phase] for phase in phases]

    def groups(cuts: tuple[int, ...]) -> list[list[str]]:
        bounds = (0, *cuts, len(phases))
        return [phases[a:b] for a, b in zip(bounds, bounds[1:])]

    def load(cuts: tuple[int, ...]) -> tuple:
        found = groups(cuts)
        loads = [sum(WEIGHTS.get(p, 1.0) for p in g) for g in found]
        loads[-1] /= LAST_BAND[1] / BAND[1]
        return (max(loads), loads[-1], loads)

    if n >= 3 and phases[-1] == "cta":  # the call to action gets a segment of its own
        return [*partition_phases(phases[:-1], n - 1), ["cta"]]
    return groups(min(combinations(range(1, len(phases)), n - 1), key=load))


def assign_parts(groups: list[list[str]], structure: str, points: int) -> list[list[Part]]:
    """Each group's phases as Parts, with selling points 0..points-1 spread over the carriers."""
    seen: Counter[str] = Counter()
    plan = []
    for group in groups:
        plan.append([])
        for phase in group:
            plan[-1].append(Part(phase, seen[phase], with_hook="hook" in group))
            seen[phase] += 1
    bearers = [(s, i) for s, parts in enumerate(plan) for i, part in enumerate(parts)
               if part.phase in POINT_PHASES[structure]]
    for index in range(points if bearers else 0):
        # Spread in order from the first carrier; a surplus goes to later ones, as the first
        # solution also has the product to introduce.
        spot = index * len(bearers) // points if points <= len(bearers) else \
            len(bearers) - 1 - (points - 1 - index) * len(bearers) // points
        s, i = bearers[spot]
        plan[s][i] = replace(plan[s][i], items=plan[s][i].items + (index,))
    if structure == "listicle":  # one list item per point part, in order
        plan = [[replace(p, items=(p.nth,)) if p.phase == "point" else p for p in parts]
                for parts in plan]
    return plan


def stretch_budget(need: float, budget: Budget, limit: int) -> Budget:
    """A budget that holds `need` words (the user's own), or the error if not even at `limit`."""
    if need > limit:
        raise ScriptTooLongError(
            f"the product name and call to action need {need:g} words; the segment fits "
            f"{limit} even at 1.4x the speaking rate", words=int(need), budget=limit)
    return budget if need <= budget.cap else Budget(int(need), int(need), int(need))


def points_per_segment(budget: Budget) -> int:
    return max(1, budget.cap // 7)  # a point takes a sentence of five to seven words
