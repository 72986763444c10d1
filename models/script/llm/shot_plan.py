"""A language model's shot plan: asked per sentence, parsed, and checked like any plan.

    messages = shot_messages(script)            # the script's sentences, numbered
    plan = parse_shot_reply("1: closeup\\n2: punch_in\\n...", script, brief)
    # -> tuple[PlannedShot, ...], or raises ScriptRejected with every reason

The model picks one shot kind per sentence (closeup, medium, punch_in, cutaway, split); the
sentence spans come from the copywriter's planner, so a plan the model gives is cut on the same
word boundaries. The first shot carries the hook as its title; a cutaway carries the selling
point it shows (or its sentence). A reply that names an unknown kind, skips or repeats a
sentence, or fails `validate_plan` is refused; the guarded writer then uses the copywriter's
plan for the model's script.
"""

from __future__ import annotations

import re

from models.base import Script, ScriptBrief
from models.script.shots import (
    KINDS,
    PlannedShot,
    segment_words,
    selling_point_in,
    sentence_units,
    title_text,
    validate_plan,
)

SHOT_SYSTEM = ("You edit short vertical video ads. For each numbered sentence, pick the shot "
               "it is shown in. Answer one line per sentence as 'N: kind', nothing else.")
SHOT_KINDS = tuple(k for k in KINDS if k != "endcard")
SHOT_HELP = ("closeup: the creator's face; medium: the creator with the product in hand; "
             "punch_in: a quick zoom for an emphatic sentence; cutaway: the product alone, for "
             "a selling point; split: the creator above the product, when it is named.")
LINE = re.compile(r"^\s*(\d+)\s*[:.)-]\s*([a-z_]+)\s*$", re.IGNORECASE)


def sentence_spans(script: Script) -> list[tuple[int, int, int]]:
    """(segment, first word, last word) of every sentence-sized unit, in order."""
    return [(index, first, last) for index, words in enumerate(segment_words(script.segments))
            for first, last in sentence_units(words)]


def shot_messages(script: Script) -> list[dict[str, str]]:
    words = segment_words(script.segments)
    numbered = [f"{n}. {' '.join(words[s][a:b + 1])}"
                for n, (s, a, b) in enumerate(sentence_spans(script), start=1)]
    ask = f"Shot kinds: {SHOT_HELP}\n\nSentences:\n" + "\n".join(numbered)
    return [{"role": "system", "content": SHOT_SYSTEM}, {"role": "user", "content": ask}]


def parse_shot_reply(text: str, script: Script, brief: ScriptBrief) -> tuple[PlannedShot, ...]:
    """The plan in `text`, or ScriptRejected naming every problem."""
    from models.script.llm.prompt import ScriptRejected  # deferred: prompt imports the guard

    spans = sentence_spans(script)
    kinds: dict[int, str] = {}
    reasons = []
    for raw in text.splitlines():
        match = LINE.match(raw)
        if not match:
            continue
        number, kind = int(match.group(1)), match.group(2).lower()
        if kind not in SHOT_KINDS:
            reasons.append(f"shot plan: sentence {number} has unknown kind {kind!r}")
        elif number in kinds or not 1 <= number <= len(spans):
            reasons.append(f"shot plan: sentence {number} is unexpected or repeated")
        kinds.setdefault(number, kind)
    missing = [n for n in range(1, len(spans) + 1) if n not in kinds]
    if missing:
        reasons.append(f"shot plan: no shot for sentences {', '.join(map(str, missing))}")
    if reasons:
        raise ScriptRejected(reasons, text)
    plan = tuple(_shot(n, kinds[n], span, script, brief) for n, span in enumerate(spans, start=1))
    problems = validate_plan(plan, script.segments)
    if problems:
        raise ScriptRejected([f"shot plan: {p}" for p in problems], text)
    return plan


def _shot(number: int, kind: str, span: tuple[int, int, int], script: Script,
          brief: ScriptBrief) -> PlannedShot:
    segment, first, last = span
    said = segment_words(script.segments)[segment][first:last + 1]
    title = None
    if number == 1:
        title = title_text(" ".join(said))
    elif kind == "cutaway":
        point = selling_point_in(said, brief.selling_points)
        title = title_text(point[:1].upper() + point[1:] if point else " ".join(said))
    return PlannedShot(segment, kind, first, last, title)
