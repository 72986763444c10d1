"""The shot plan of an ad: which shot carries each stretch of the script, cut on word boundaries.

    plan = plan_shots(script.segments, product_name="Glow Serum",
                      selling_points=("24-hour hydration",), seed=7)
    plan[0]             # PlannedShot(segment=0, kind="closeup", first_word=0, last_word=5,
                        #             title="Honestly, I didn't expect to love this.")
    validate_plan(plan, script.segments)   # [] or the reasons it cannot be cut
    timeline(plan, script.segments, speech.words, duration_s=24.0, fps=30, end_card_s=21.6)

A shot covers whole words of one segment (indices into `segment.text.split()`, the words the
voice speaks). The copywriter's planner (`plan_shots`) works on sentences and clauses of about
two to four seconds of speech (the pace of real UGC edits) and picks for each: the hook as a bold
title over a close-up, a product cutaway (the product full frame, the selling point on screen)
where a selling point is said, a split screen where the product is named, a punch-in from an
emphasis word, and otherwise close-ups and medium shots in turn. Same script, same seed, same
plan. Times come later, from the voice's word timings (`timeline`): a cut falls in the gap
before a shot's first word, on a frame, and the end card closes the video.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from models.base import ScriptSegment, WordTiming

KINDS = ("closeup", "medium", "punch_in", "cutaway", "split", "endcard")
TALKING = frozenset({"closeup", "medium", "punch_in", "split"})  # the persona speaks on screen
WORDS_PER_SHOT = (4, 10)  # about 2-4 s at the copywriter's 2.5 words/s
MAX_TITLE_CHARS = 60
LONG_PAUSE_S = 0.5  # a longer silence is cut in its middle
# Words a creator leans on; a punch-in lands on them.
EMPHASIS = frozenset("""love loved obsessed wow honestly huge favorite favourite never always
best actually seriously literally finally changed game-changer different kidding promise amazing
incredible everything nothing obsessed perfect instantly""".split())
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*$")
_CLAUSE_END = re.compile(r"[,;:–—][\"'”’)]*$")


@dataclass(frozen=True)
class PlannedShot:
    """Words first_word..last_word (inclusive) of segment `segment`, shown as `kind`.

    `title` is on-screen text drawn for the shot: the hook line, or the selling point of a
    cutaway; None for none."""

    segment: int
    kind: str
    first_word: int
    last_word: int
    title: str | None = None


@dataclass(frozen=True)
class TimedShot:
    """A planned shot placed on the video timeline (seconds, frame-aligned)."""

    index: int
    segment: int
    kind: str
    start_s: float
    end_s: float
    line: str  # the words spoken during the shot
    title: str | None = None

    @property
    def talking(self) -> bool:
        return self.kind in TALKING


def segment_words(segments: Sequence[ScriptSegment]) -> list[list[str]]:
    return [segment.text.split() for segment in segments]


# --- the copywriter's planner ---------------------------------------------------------------

def plan_shots(segments: Sequence[ScriptSegment], *, product_name: str,
               selling_points: Sequence[str] = (), seed: int = 0) -> tuple[PlannedShot, ...]:
    """The deterministic plan for `segments`: same inputs, same plan."""
    rng = random.Random(f"shots:{seed}")
    words = segment_words(segments)
    plan: list[PlannedShot] = []
    for index, seg_words in enumerate(words):
        units = sentence_units(seg_words)
        plan += _segment_shots(index, seg_words, units, product_name, selling_points, rng,
                               after=plan[-1].kind if plan else None)
    return tuple(_alternate(_merge(plan), rng))


def sentence_units(words: list[str]) -> list[tuple[int, int]]:
    """(first, last) word spans of sentences, long ones split at a clause or in the middle."""
    spans, start = [], 0
    for i, word in enumerate(words):
        if _SENTENCE_END.search(word) or i == len(words) - 1:
            spans.append((start, i))
            start = i + 1
    out: list[tuple[int, int]] = []
    for first, last in _join_single(spans):
        out += _split_long(words, first, last)
    return out


def _join_single(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A one-word sentence ("Okay.") joins the sentence after it (the one before, at the end)."""
    out: list[tuple[int, int]] = []
    carry = None
    for first, last in spans:
        first = carry if carry is not None else first
        carry = None
        if last == first:
            carry = first
            continue
        out.append((first, last))
    if carry is not None:
        out = out[:-1] + [(out[-1][0], spans[-1][1])] if out else [(carry, spans[-1][1])]
    return out


def _split_long(words: list[str], first: int, last: int) -> list[tuple[int, int]]:
    if last - first + 1 <= WORDS_PER_SHOT[1]:
        return [(first, last)]
    middle = (first + last) // 2
    clauses = [i for i in range(first + 2, last - 2) if _CLAUSE_END.search(words[i])]
    cut = min(clauses, key=lambda i: abs(i - middle)) if clauses else middle
    return _split_long(words, first, cut) + _split_long(words, cut + 1, last)


def _segment_shots(index: int, words: list[str], units: list[tuple[int, int]], product: str,
                   points: Sequence[str], rng: random.Random, *,
                   after: str | None) -> list[PlannedShot]:
    """The shots of one segment; `after` is the kind of the shot before it."""
    shots: list[PlannedShot] = []
    product_words = _norm_words(product)
    for number, (first, last) in enumerate(units):
        span = words[first:last + 1]
        if index == 0 and number == 0:  # the hook: a close-up under its line as a title
            hook = _emphasis_split(index, words, first, last, rng)
            shots += [replace(hook[0], kind="closeup", title=title_text(" ".join(span))), *hook[1:]]
            continue
        point = selling_point_in(span, points)
        if point is not None and (shots[-1].kind if shots else after) == "cutaway":
            shots.append(PlannedShot(index, "split", first, last))  # not the same picture twice
        elif point is not None:
            shots.append(PlannedShot(index, "cutaway", first, last, title_text(_capital(point))))
        elif _contains(span, product_words) and not _has(shots, "split"):
            shots.append(PlannedShot(index, "split", first, last))
        else:
            shots += _emphasis_split(index, words, first, last, rng)
    return shots


def _emphasis_split(index: int, words: list[str], first: int, last: int,
                    rng: random.Random) -> list[PlannedShot]:
    """A plain talking stretch: a punch-in from its emphasis word when it has one."""
    hits = [i for i in range(first, last + 1) if _norm(words[i]) in EMPHASIS
            or words[i].endswith("!")]
    if not hits:
        return [PlannedShot(index, "talk", first, last)]
    inside = [i for i in hits if i - first >= 2 and i < last]  # room for a shot before it
    if not inside:
        return [PlannedShot(index, "punch_in", first, last)]
    at = rng.choice(inside)
    return [PlannedShot(index, "talk", first, at - 1), PlannedShot(index, "punch_in", at, last)]


def _merge(plan: list[PlannedShot]) -> list[PlannedShot]:
    """Neighbouring plain talking shots of one segment join while they stay short."""
    out: list[PlannedShot] = []
    for shot in plan:
        prev = out[-1] if out else None
        if prev and prev.segment == shot.segment and prev.kind == shot.kind == "talk" and \
                shot.last_word - prev.first_word + 1 <= WORDS_PER_SHOT[1]:
            out[-1] = replace(prev, last_word=shot.last_word)
        else:
            out.append(shot)
    return out


def _alternate(plan: list[PlannedShot], rng: random.Random) -> list[PlannedShot]:
    """Plain talking shots alternate close-up and medium (the seed picks the first), never
    repeating the talking shot before them."""
    kinds = ["medium", "closeup"] if rng.random() < 0.5 else ["closeup", "medium"]
    out: list[PlannedShot] = []
    turn = 0
    for shot in plan:
        if shot.kind == "talk":
            kind = kinds[turn % 2]
            if out and out[-1].kind == kind:
                kind = kinds[(turn + 1) % 2]
            turn += 1
            shot = replace(shot, kind=kind)
        out.append(shot)
    return out


def selling_point_in(span: list[str], points: Sequence[str]) -> str | None:
    """The selling point this stretch says (most of its words, in order), if any."""
    said = [_norm(w) for w in span]
    best, best_share = None, 0.6
    for point in points:
        wanted = _norm_words(point)
        if not wanted:
            continue
        share = _in_order_share(wanted, said)
        if share > best_share:
            best, best_share = point, share
    return best


def _in_order_share(wanted: list[str], said: list[str]) -> float:
    found, at = 0, 0
    for word in wanted:
        try:
            at = said.index(word, at) + 1
            found += 1
        except ValueError:
            continue
    return found / len(wanted)


def _contains(span: list[str], phrase: list[str]) -> bool:
    said = [_norm(w) for w in span]
    return bool(phrase) and any(said[i:i + len(phrase)] == phrase
                                for i in range(len(said) - len(phrase) + 1))


def _has(shots: list[PlannedShot], kind: str) -> bool:
    return any(shot.kind == kind for shot in shots)


def _norm(word: str) -> str:
    return re.sub(r"[^\w'-]", "", word.lower()).strip("'-")


def _norm_words(text: str) -> list[str]:
    return [w for w in (_norm(word) for word in text.split()) if w]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def title_text(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_TITLE_CHARS:
        return text
    cut = text[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


# --- validation -----------------------------------------------------------------------------

def validate_plan(plan: Sequence[PlannedShot], segments: Sequence[ScriptSegment]) -> list[str]:
    """Every reason `plan` cannot be cut from `segments`; [] when it can. A plan must cover
    each segment's words once, in order, in shots of known kinds and at least two words."""
    words = segment_words(segments)
    reasons: list[str] = []
    expected = [(s, 0) for s in range(len(words))]
    cursor = {s: 0 for s in range(len(words))}
    for number, shot in enumerate(plan, start=1):
        reasons += _shot_problems(number, shot, words, cursor)
    for segment, _ in expected:
        if cursor.get(segment, 0) != len(words[segment]):
            reasons.append(f"segment {segment + 1} words {cursor.get(segment, 0)}-"
                           f"{len(words[segment]) - 1} are in no shot")
    if [s.segment for s in plan] != sorted(s.segment for s in plan):
        reasons.append("shots are out of segment order")
    return reasons


def _shot_problems(number: int, shot: PlannedShot, words: list[list[str]],
                   cursor: dict[int, int]) -> list[str]:
    if shot.kind not in KINDS or shot.kind == "endcard":
        return [f"shot {number} has unknown kind {shot.kind!r}"]
    if not 0 <= shot.segment < len(words):
        return [f"shot {number} names segment {shot.segment + 1}, which does not exist"]
    problems = []
    if shot.first_word != cursor[shot.segment]:
        problems.append(f"shot {number} starts at word {shot.first_word}, expected "
                        f"{cursor[shot.segment]}")
    if shot.last_word >= len(words[shot.segment]) or shot.last_word < shot.first_word:
        return problems + [f"shot {number} ends at word {shot.last_word}, outside its segment"]
    if shot.last_word - shot.first_word < 1 and len(words[shot.segment]) > 1:
        problems.append(f"shot {number} is a single word")
    if shot.title is not None and not 0 < len(shot.title) <= MAX_TITLE_CHARS + 1:
        problems.append(f"shot {number} title is {len(shot.title)} characters")
    cursor[shot.segment] = shot.last_word + 1
    return problems


# --- the timeline ---------------------------------------------------------------------------

def timeline(plan: Sequence[PlannedShot], segments: Sequence[ScriptSegment],
             words: Sequence[WordTiming], *, duration_s: float, fps: int,
             end_card_s: float | None) -> list[TimedShot]:
    """The plan on the video's timeline. Raises ValueError when the spoken words are not the
    script's (their count differs). A cut falls in the pause before a shot's first word (at most
    0.12 s ahead of it; in the middle of a pause over LONG_PAUSE_S), on a frame; shots squeezed
    under 0.4 s by the end card are dropped."""
    offsets = _word_offsets(segments, words)
    starts = [0.0] + [_cut_before(words, offsets[s.segment] + s.first_word, fps)
                      for s in plan[1:]]
    ends = starts[1:] + [duration_s]
    card = duration_s if end_card_s is None else _on_frame(end_card_s, fps)
    timed = [(shot, start, min(end, card)) for shot, start, end in zip(plan, starts, ends)]
    kept = [(shot, start, end) for shot, start, end in timed if end - start >= 0.4 or start == 0]
    shots = [TimedShot(i, shot.segment, shot.kind, start, kept[i + 1][1] if i + 1 < len(kept)
                       else end, "", shot.title) for i, (shot, start, end) in enumerate(kept)]
    if card < duration_s:
        shots.append(TimedShot(len(shots), len(segments) - 1, "endcard", card, duration_s, ""))
    return [replace(s, line=_line(words, s.start_s, s.end_s)) for s in shots]


def _word_offsets(segments: Sequence[ScriptSegment], words: Sequence[WordTiming]) -> list[int]:
    counts = [len(w) for w in segment_words(segments)]
    if sum(counts) != len(words):
        raise ValueError(f"the voice spoke {len(words)} words, the script has {sum(counts)}")
    return [sum(counts[:i]) for i in range(len(counts))]


def _cut_before(words: Sequence[WordTiming], index: int, fps: int) -> float:
    start = words[index].start_s
    previous_end = words[index - 1].end_s if index else 0.0
    if start - previous_end > LONG_PAUSE_S:  # a pause between segments: both shots share it
        return _on_frame((previous_end + start) / 2, fps)
    return _on_frame(max(previous_end, start - 0.12, (previous_end + start) / 2), fps)


def _on_frame(t_s: float, fps: int) -> float:
    return math.floor(t_s * fps + 0.5) / fps


def _line(words: Sequence[WordTiming], start_s: float, end_s: float) -> str:
    return " ".join(w.text for w in words if start_s <= (w.start_s + w.end_s) / 2 < end_s)
