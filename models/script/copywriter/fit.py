"""The copywriter's word fitter: one phrasing per sentence slot, landing in a word budget.

    fitter = WordFitter()                      # one per script: it remembers what was said
    chosen = fitter.fit(slots, Budget(16, 18, 20)) or fitter.fallback(slots)
    [(phase, line.text) for phase, line in chosen]

A small dynamic programme over word counts picks one line per slot (or none, for an optional
slot), in the order the slot lists them, so the words land in the budget's band. A line that
repeats a sentence or a verbal habit already used is dropped and the choice made again; lines
used in earlier segments, or borrowed from another bank, rank lower but stay available.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from models.script.copywriter.language import sentences
from models.script.copywriter.plan import Budget

# Scores: a phase's first sentence is worth having; extra ones only to reach the band, so a
# segment says it in fewer, fuller sentences; then the seeded order; then fresh wording.
CORE, EXTRA, RANK_COST, STALE_COST = 10.0, -0.3, 0.01, 0.4
# Words a creator would not say twice in one breath; reused across segments only when needed.
HABITS = ("okay", "honestly", "seriously", "literally", "obsess", "game changer", "huge", "love",
          "trust me", "so,", "oh,", "plus,", "you guys", "wow", "worth", "genuinely", "real deal",
          "every single day", "in addition", "notably", "actually", "you need", "right?", "sold",
          "zero", "nothing", "total", "every time", "same", "product", "consider", "have been")


@dataclass(frozen=True)
class Line:
    text: str
    template: str
    words: int
    stale: int = 0  # habits and phrasings this script has already used


@dataclass(frozen=True)
class Slot:
    """One sentence a segment may hold: its phrasings in preference order."""

    phase: str
    lines: tuple[Line, ...]
    required: bool = False
    weight: float = EXTRA


class WordFitter:
    """Chooses the lines of each segment of one script; no sentence is said twice."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.habits: Counter[str] = Counter()
        self.templates: set[str] = set()

    def fit(self, slots: list[Slot], budget: Budget) -> list[tuple[str, Line]]:
        """(phase, line) for each slot filled, in slot order; remembered for later segments."""
        slots = [self._prefer(slot) for slot in slots]
        for _ in range(12):
            chosen = _choose(slots, budget)
            clash = self._clash(chosen)
            if clash is None:
                break
            index, line = chosen[clash]
            if slots[index].required and len(slots[index].lines) == 1:
                break  # a required sentence with no other phrasing stays
            slots[index] = replace(slots[index], lines=tuple(
                other for other in slots[index].lines if other != line))
        for _, line in chosen:
            self.used.update(sentences(line.text))
            self.habits.update(_habits(line.text))
            self.templates.add(line.template)
        return [(slots[index].phase, line) for index, line in chosen]

    def fallback(self, slots: list[Slot]) -> list[tuple[str, Line]]:
        """The shortest line, fresh if any, for a segment nothing fits: better than silence."""
        def cost(pair: tuple[Slot, Line]) -> tuple[bool, int]:
            return bool(self.used.intersection(sentences(pair[1].text))), pair[1].words

        slot, line = min(((slot, line) for slot in slots for line in slot.lines), key=cost)
        self.used.update(sentences(line.text))
        return [(slot.phase, line)]

    def _prefer(self, slot: Slot) -> Slot:
        fresh = [line for line in slot.lines if not self.used.intersection(sentences(line.text))]
        if slot.required and not fresh:
            fresh = list(slot.lines)
        stale = [replace(line, stale=line.stale + sum(self.habits[h] for h in _habits(line.text))
                         + (line.template in self.templates)) for line in fresh]
        return replace(slot, lines=tuple(sorted(stale, key=lambda line: line.stale)))

    def _clash(self, chosen: list[tuple[int, Line]]) -> int | None:
        """Position of the first chosen line that repeats a sentence or a habit of this segment."""
        seen_sentences, seen_habits = set(self.used), set()
        for position, (_, line) in enumerate(chosen):
            own, habits = sentences(line.text), _habits(line.text)
            if seen_sentences.intersection(own) or seen_habits.intersection(habits):
                return position
            seen_sentences.update(own)
            seen_habits.update(habits)
        return None


def _habits(text: str) -> set[str]:
    lowered = text.lower()
    return {habit for habit in HABITS if habit in lowered}


def _choose(slots: list[Slot], budget: Budget) -> list[tuple[int, Line]]:
    """One line (or none, if optional) per slot: closest to the band, then best filled."""
    states: dict[int, tuple[float, tuple[tuple[int, Line], ...]]] = {0: (0.0, ())}
    for index, slot in enumerate(slots):
        gain = 0.0 if slot.required else slot.weight
        options = [(line, gain - rank * RANK_COST - line.stale * STALE_COST)
                   for rank, line in enumerate(slot.lines)]
        if not slot.required or not slot.lines:
            options.append((None, 0.0))
        following: dict[int, tuple[float, tuple[tuple[int, Line], ...]]] = {}
        for words, (score, path) in states.items():
            for line, value in options:
                total = words + (line.words if line else 0)
                if total > budget.cap:
                    continue
                entry = (score + value, path + ((index, line),) if line else path)
                if total not in following or entry[0] > following[total][0]:
                    following[total] = entry
        states = following or states
    best = min(states, key=lambda words: (budget.distance(words), -states[words][0]))
    return list(states[best][1])
