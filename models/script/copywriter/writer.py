"""A deterministic copywriter: UGC ad scripts from phrase banks, sized to their speaking time.

    writer = TemplateCopywriter()
    script = writer.write(ScriptBrief(product_name="Glow Serum", segment_count=3,
                                      segment_duration_s=8, selling_points=("24-hour hydration",),
                                      cta_text="Get 20% off today", seed=7))
    [s.phase for s in script.segments]   # ["hook+problem", "solution+proof", "cta"]

How it writes: the structure's phases (hook, problem, ..., cta) are laid over exactly
`segment_count` segments, neighbours merged when there are fewer segments and the middle phases
repeated when there are more (`copy_plan`). Each segment gets a word budget from its duration
and `words_per_second` (80-90 % of what fits; 55-75 % for the last one, which an end card
follows) and a list of slots, one per sentence it may hold. A small dynamic programme picks one
phrasing per slot, in the order `random.Random(seed)` shuffled them, so that the words land in
the budget and no sentence or verbal habit repeats (`copy_fit`). Selling points are sorted by
grammar (adjective, noun, verb phrase, fragment, sentence; `copy_language`) so each is worked
into a phrasing that fits it.

A custom script is never reworded: it is split at sentence ends (see `split_custom`). Raises
`ScriptTooLongError` (words, budget) when the user's own words, a custom script or the product
name plus CTA, cannot be spoken in time even at 1.4x the rate; `ScriptTooShortError` when a custom
script has fewer words than there are segments.
"""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import replace
from itertools import product

from models.base import (
    Script,
    ScriptBrief,
    ScriptSegment,
    ScriptTooLongError,
    ScriptTooShortError,
    primary_language,
)
from models.script.copywriter import phrases as cp
from models.script.copywriter.fit import CORE, EXTRA, Line, Slot, WordFitter
from models.script.copywriter.language import (
    Item,
    capitalise,
    clean_name,
    place_phrase,
    point_item,
    speakable,
    split_custom,
)
from models.script.copywriter.plan import (
    POINT_PHASES,
    USER_RATE_SLACK,
    Budget,
    Part,
    assign_parts,
    partition_phases,
    points_per_segment,
    segment_phases,
    stretch_budget,
)
from models.script.shots import plan_shots

__all__ = ["ScriptTooLongError", "ScriptTooShortError", "TemplateCopywriter", "speakable",
           "split_custom"]

# A bank that runs dry in a long script borrows from its neighbour (ranked after its own lines).
SPILL = {"problem": "agitate", "agitate": "problem", "solution_more": "proof",
         "proof": "solution_more", "hook_more": "cta_lead"}


class TemplateCopywriter:
    """Writes a `Script` from a `ScriptBrief` with phrase banks; same brief, same script."""

    name = "copywriter"

    def __init__(self) -> None:
        """Nothing to load: the phrase banks are module data, so one instance serves all jobs."""

    def write(self, brief: ScriptBrief) -> Script:
        _check(brief)
        if brief.custom_script and brief.custom_script.strip():
            segments, notes = _write_custom(brief)
        else:
            segments, notes = _Draft(brief).write()
            if primary_language(brief.language) != "en":
                # Its phrase banks and grammar are English; a custom script is kept as written.
                notes.append(f"the copywriter writes English only; the job asked for {brief.language}")
        return Script(segments=tuple(segments), structure=brief.structure, tone=brief.tone,
                      writer=self.name, notes=tuple(notes), shots=plan_for(segments, brief))


def plan_for(segments, brief: ScriptBrief) -> tuple:
    """The copywriter's shot plan for `segments` (see models/script/shots.py)."""
    return plan_shots(segments, product_name=brief.product_name,
                      selling_points=brief.selling_points, seed=brief.seed)


def _check(brief: ScriptBrief) -> None:
    if brief.structure not in POINT_PHASES:
        raise ValueError(f"structure: unknown script structure {brief.structure!r}")
    if brief.tone not in cp.BANKS:
        raise ValueError(f"tone: unknown script tone {brief.tone!r}")
    if brief.segment_count < 1 or brief.segment_duration_s <= 0 or brief.words_per_second <= 0:
        raise ValueError(f"segment_count {brief.segment_count}, segment_duration_s "
                         f"{brief.segment_duration_s} and words_per_second "
                         f"{brief.words_per_second} must be positive")


def _write_custom(brief: ScriptBrief) -> tuple[list[ScriptSegment], list[str]]:
    # The segments keep the words as written (emoji and all: the captions show them); the
    # budget counts what the voice will say (pipelines.voice speaks the speakable form).
    written = " ".join("".join(c for c in brief.custom_script or ""
                               if unicodedata.category(c) != "Cc" or c.isspace()).split())
    text, n = written, brief.segment_count
    words = len(speakable(written).split())
    fits = n * brief.segment_duration_s * brief.words_per_second
    budget = math.floor(fits * USER_RATE_SLACK + 1e-9)
    if words > budget:
        raise ScriptTooLongError(
            f"{words} words; {n} x {brief.segment_duration_s:g} s fits at most {budget} "
            f"(1.4x {brief.words_per_second:g} words/s)", words=words, budget=budget)
    if words < n:
        raise ScriptTooShortError(f"{words} words cannot fill {n} segments", words=words,
                                  segments=n)
    notes = [f"custom script needs {words / fits:.2f}x the natural speaking rate"] \
        if words > fits else []
    return [ScriptSegment("custom", part) for part in split_custom(text, n)], notes


class _Draft:
    """One script being written: the brief's words prepared, the seeded choices, what is used."""

    def __init__(self, brief: ScriptBrief) -> None:
        self.brief, self.tone, self.bank = brief, brief.tone, cp.BANKS[brief.tone]
        self.rng = random.Random(brief.seed)
        self.product = clean_name(brief.product_name)
        self.place = place_phrase(brief.environment) if brief.environment else None
        self.points = [item for item in map(point_item, brief.selling_points) if item]
        generic = self.bank["generic_items"]
        self.generic = [Item(text, "clause") for text in self.rng.sample(generic, len(generic))]
        self.cta = capitalise(speakable(brief.cta_text or "").strip(), cp.TERMINAL[self.tone])
        self.name_in_solution = self.rng.random() < 0.65
        # Segments of five words or fewer cannot hold most lines; short ones join the banks.
        self.tiny = brief.segment_duration_s * brief.words_per_second < 6
        self.items: list[Item] = []
        self.naming = "hook"
        self.fitter = WordFitter()

    # --- planning -------------------------------------------------------------------------

    def write(self) -> tuple[list[ScriptSegment], list[str]]:
        plan, budgets, notes = self._plan()
        segments = []
        for number, (parts, budget) in enumerate(zip(plan, budgets), start=1):
            slots = self._slots(parts, budget, shuffle=True)
            chosen = self.fitter.fit(slots, budget) or self.fitter.fallback(slots)
            if sum(line.words for _, line in chosen) > budget.cap:
                notes.append(f"segment {number} runs over its {budget.cap}-word time")
            phases = [p for i, (p, _) in enumerate(chosen) if i == 0 or chosen[i - 1][0] != p]
            text = " ".join(line.text for _, line in chosen)
            segments.append(ScriptSegment("+".join(phases), text))
        return segments, notes

    def _plan(self) -> tuple[list[list[Part]], list[Budget], list[str]]:
        b, n = self.brief, self.brief.segment_count
        budgets = [Budget.for_segment(b.segment_duration_s, b.words_per_second, last=i == n - 1)
                   for i in range(n)]
        # "solution": a teaser hook, the solution names the product; "hook": both name it;
        # "hook-only": as "hook", and a solution sharing the hook's segment may skip its
        # introduction for a selling point; "free": any solution may skip it (no room at all).
        namings = ("solution", "hook") if self.name_in_solution else ("hook", "solution")
        namings = ("hook",) if b.structure == "listicle" else namings + ("hook-only",)
        # A selling point is worth running a little over the band for; filler is not.
        tiers = ((_hi, 1, namings), (_snug, 1, namings), (_hi, 0, namings), (_cap, 0, namings),
                 (_cap, 0, ("free",)))
        for limit, fewest, names in tiers:
            for k, naming in product(range(len(self.points), fewest - 1, -1), names):
                plan = self._layout(k, naming)
                needs = [self._need(parts, budget) for parts, budget in zip(plan, budgets)]
                if all(need <= limit(bud) for need, bud in zip(needs, budgets)):
                    return plan, budgets, self._left_out(k)
        limit = math.floor(b.segment_duration_s * b.words_per_second * USER_RATE_SLACK + 1e-9)
        return plan, [stretch_budget(need, bud, limit) for need, bud in zip(needs, budgets)], \
            self._left_out(0) + ["the product name and call to action run above the natural rate"]

    def _layout(self, points: int, naming: str) -> list[list[Part]]:
        structure, n = self.brief.structure, self.brief.segment_count
        self.naming, self.items = naming, self.points[:points]
        if structure == "listicle" and not self.tiny:  # a numbered reason per segment
            self.items += self.generic[:max(0, n - 2 - points)]
        per = points_per_segment(Budget.for_segment(
            self.brief.segment_duration_s, self.brief.words_per_second, last=False))
        phases = segment_phases(structure, n, len(self.items), math.ceil(points / per))
        groups = partition_phases(phases, n)
        return assign_parts(groups, structure, 0 if structure == "listicle" else points)

    def _need(self, parts: list[Part], budget: Budget) -> float:
        """Fewest words the segment's required sentences take (inf: too many points)."""
        if sum(len(p.items) for p in parts) > points_per_segment(budget):
            return math.inf
        slots = self._slots(parts, budget, shuffle=False)
        return sum(min(line.words for line in s.lines) for s in slots if s.required)

    def _left_out(self, kept: int) -> list[str]:
        dropped = [item.text for item in self.points[kept:]]
        return [f"left out for time: {'; '.join(dropped)}"] if dropped else []

    # --- slots ----------------------------------------------------------------------------

    def _slots(self, parts: list[Part], budget: Budget, *, shuffle: bool) -> list[Slot]:
        # Energetic lines are short, so they need one more sentence to fill the same time.
        extras = 1 + budget.hi // 10 + (self.tone == "energetic" and budget.hi >= 14)
        build = {"hook": self._hook, "solution": self._solution, "proof": self._proof,
                 "point": self._list_item, "cta": self._cta}
        slots: list[Slot] = []
        for part in parts:
            slots += build.get(part.phase, self._body)(part, extras, shuffle, budget)
        return slots

    def _hook(self, part: Part, extras: int, shuffle: bool, budget: Budget) -> list[Slot]:
        bank, place = self.bank, self.place
        if self.brief.structure == "listicle" and self.items:
            templates = bank["hook_list"]
        elif self.naming != "solution":
            templates = bank["hook_named"] + (bank["hook_named_place"] if place else ())
            templates += bank["hook_short"] if budget.cap <= 12 else ()
        else:
            templates = bank["hook"] + (bank["hook_place"] if place else ())
        hook = Slot("hook", self._order(self._render(templates), shuffle), required=True)
        return [hook, *self._spread("hook", "hook_more", extras - 1, EXTRA, shuffle)]

    def _body(self, part: Part, extras: int, shuffle: bool, budget: Budget) -> list[Slot]:
        return self._spread(part.phase, part.phase, 1 + extras, CORE, shuffle)

    def _solution(self, part: Part, extras: int, shuffle: bool, budget: Budget) -> list[Slot]:
        more = self._spread("solution", "solution_more", 1 + extras, CORE, shuffle)
        if part.nth == 0:
            intro = self._order(self._render(self.bank["solution"]), shuffle)
            # After a named hook in the same breath, the introduction may give way to a point.
            optional = self.naming == "free" or (self.naming == "hook-only" and part.with_hook)
            more = [Slot("solution", intro, not optional, CORE), *more[1:]]
        return [more[0], *self._point_slots(part, shuffle), *more[1:]]

    def _proof(self, part: Part, extras: int, shuffle: bool, budget: Budget) -> list[Slot]:
        home = self.bank["proof_home"] if self.place and self.place[1] else ()
        slots = self._spread("proof", "proof", 1 + extras, CORE, shuffle, also=home)
        if part.items:  # a reaction to the points first, then more experience
            slots[1:2] = self._spread("proof", "reaction", 1, EXTRA, shuffle)
        return [slots[0], *self._point_slots(part, shuffle), *slots[1:]]

    def _list_item(self, part: Part, extras: int, shuffle: bool, budget: Budget) -> list[Slot]:
        index = part.items[0]
        lines = self._order(self._render_item(index, bare=budget.cap <= 8), shuffle)
        item = Slot("point", lines, required=True)
        reaction = self._spread("point", "reaction", 1, EXTRA, shuffle)
        return [item, *reaction, *self._spread("point", "proof", extras - 1, EXTRA, shuffle)]

    def _cta(self, part: Part, extras: int, shuffle: bool, budget: Budget) -> list[Slot]:
        leads = self._spread("cta", "cta_lead", 1 + (budget.hi >= 14), CORE, shuffle)
        own = (Line(self.cta, "cta", len(self.cta.split())),) if self.cta else None
        call = own or self._order(self._render(self.bank["cta_default"]), shuffle)
        return [*leads, Slot("cta", call, required=True)]

    def _point_slots(self, part: Part, shuffle: bool) -> list[Slot]:
        return [Slot(part.phase, self._order(self._render_point(i), shuffle), required=True)
                for i in part.items]

    def _spread(self, phase: str, key: str, count: int, first: float, shuffle: bool,
                also: tuple[str, ...] = ()) -> list[Slot]:
        """`count` optional slots sharing a bank, each with its own lines so none repeats."""
        lines = self._order(self._render(self.bank[key] + also), shuffle)
        spill = (SPILL[key],) if key in SPILL else ()
        if self.tiny and key != "cta_lead":
            spill += ("tiny_problem",) if key in ("problem", "agitate") else ("tiny",)
        for other in spill:  # borrowed lines count as worn, so they come only when needed
            borrowed = self._order(self._render(self.bank[other]), shuffle)
            lines += tuple(replace(line, stale=2) for line in borrowed)
        return [Slot(phase, lines[i::count], weight=first if i == 0 else EXTRA)
                for i in range(max(0, count))]

    def _order(self, lines: tuple[Line, ...], shuffle: bool) -> tuple[Line, ...]:
        return tuple(self.rng.sample(lines, len(lines))) if shuffle else lines

    # --- phrasing -------------------------------------------------------------------------

    def _render(self, templates: tuple[str, ...], **values: str) -> tuple[Line, ...]:
        count = len(self.items)
        place, home = self.place or ("", False)
        words = {"product": self.product, "place": place, "home": place if home else "",
                 "count": cp.NUMBER_WORDS[max(count, 1) - 1],
                 "reasons": "reasons" if count != 1 else "reason",
                 "things": "things" if count != 1 else "thing", **values}
        words["Count"] = words["count"].capitalize()
        lines = []
        for template in templates:
            text = " ".join(template.format_map(words).split())
            if not template.startswith("{product}"):  # the name keeps its own case
                text = capitalise(text, "")
            lines.append(Line(text, template, len(text.split())))
        return tuple(lines)

    def _render_point(self, index: int) -> tuple[Line, ...]:
        item = self.items[index]
        forms = cp.POINT_FORMS[self.tone]
        first, later = forms[item.kind]
        if item.kind == "noun":
            first, later = first + forms["fragment"][0], later + forms["fragment"][1]
        templates = first + (later if index else ())
        sentence = capitalise(item.text, cp.TERMINAL[self.tone])
        return self._render(templates, p=item.text, P=capitalise(item.text, ""), S=sentence)

    def _render_item(self, index: int, *, bare: bool) -> tuple[Line, ...]:
        forms, count = cp.LIST_FORMS[self.tone], len(self.items)
        if count == 1 and self.items[0].kind != "clause":  # "First, ..." needs a second
            return self._render_point(index)
        key = "first" if index == 0 else "last" if index == count - 1 else "middle"
        templates = forms[key] + (forms["middle"] if key == "last" else ())
        if bare:  # a numbered item would not fit a very short segment
            templates += ("{C}" + cp.TERMINAL[self.tone],)
        clause = self.items[index].clause(self.tone)
        return self._render(templates, c=clause, C=capitalise(clause, ""),
                            n=cp.NUMBER_WORDS[index], N=cp.NUMBER_WORDS[index].capitalize(),
                            ordinal=cp.ORDINALS[index], Ordinal=cp.ORDINALS[index].capitalize())


def _hi(budget: Budget) -> int:
    return budget.hi


def _snug(budget: Budget) -> int:
    return (budget.hi + budget.cap) // 2


def _cap(budget: Budget) -> int:
    return budget.cap
