"""Grouping timed words into caption pages, and placing a page's words in the frame.

    pages = paginate(speech.words, style)
    pages[0].text, pages[0].lines    # "This serum changed", ((0, 1), (2,))
    placement = place_page(pages[0], style)
    placement.word_boxes[2]          # Box in frame pixels where "changed" is drawn

A page is what the viewer sees at once: at most `style.max_lines` lines that fit the caption
box. Pages end at sentence ends and at pauses over PAUSE_S; within such a run the split is
chosen to keep pages near TARGET_WORDS (karaoke) and to end on commas and short pauses, so a
7-word sentence becomes 4 + 3 words rather than 6 + 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from models.base import Box, WordTiming
from pipelines.captions.fallback import is_rtl
from pipelines.captions.font import GLUE, WordShape, line_metrics, shape_word
from pipelines.captions.style import CaptionStyle

PAUSE_S = 0.5  # a silence longer than this always starts a new page
HOLD_S = 0.4  # a page stays up this long after its last word, unless the next one starts
# (target, most) words per page: karaoke pages are read while spoken, subtitles fill lines.
KARAOKE_WORDS = (4, 6)
SUBTITLE_WORDS = (8, 12)
CLAUSE_BONUS = 2.5
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
_CLAUSE_END = (",", ";", ":", "–", "—", "，")
_CLOSERS = "\"'”’»)]"
# A page in the making: its words and, per line, indices into them.
Group = tuple[list[WordTiming], list[list[int]]]


@dataclass(frozen=True)
class CaptionPage:
    """Words shown together, from the first word's start to `end_s` (seconds)."""

    words: tuple[WordTiming, ...]
    lines: tuple[tuple[int, ...], ...]  # indices into `words` per line; undrawable words absent
    start_s: float
    end_s: float

    @property
    def text(self) -> str:
        """The words as written: pieces of one CJK word (pipelines.captions.breaks) rejoin."""
        joined = " ".join(" ".join(w.text.split()) for w in self.words)
        return joined.replace(" " + GLUE, "").replace(GLUE, "")


@dataclass(frozen=True)
class PagePlacement:
    """Where a page's words land, in frame pixels (outline and shadow room included)."""

    canvas: Box  # union of the word boxes: the page image's rectangle
    word_boxes: tuple[Box | None, ...]  # aligned with page.words; None for undrawable words


def paginate(words: Sequence[WordTiming], style: CaptionStyle) -> list[CaptionPage]:
    """Split `words` (in spoken order) into caption pages. Blank words are skipped.

    Raises ValueError when a word ends before it starts or starts before the previous one.
    """
    kept = [w for w in words if w.text.strip()]
    _check_order(kept)
    groups: list[Group] = []
    for run in _runs(kept):
        groups.extend(_split_run(run, style))
    pages = []
    for i, (group, lines) in enumerate(groups):
        end_s = group[-1].end_s + HOLD_S
        if i + 1 < len(groups):
            end_s = min(end_s, groups[i + 1][0][0].start_s)
        pages.append(CaptionPage(tuple(group), tuple(tuple(line) for line in lines),
                                 group[0].start_s, max(end_s, group[0].start_s)))
    return pages


def _check_order(words: Sequence[WordTiming]) -> None:
    for i, word in enumerate(words):
        if word.end_s < word.start_s:
            raise ValueError(f"word {i} ({word.text!r}) ends at {word.end_s} s, "
                             f"before it starts at {word.start_s} s")
        if i and word.start_s < words[i - 1].start_s:
            raise ValueError(f"word {i} ({word.text!r}) starts at {word.start_s} s, "
                             "before the word before it")


def _ends_with(text: str, marks: tuple[str, ...]) -> bool:
    return text.rstrip().rstrip(_CLOSERS).endswith(marks)


def _runs(words: list[WordTiming]) -> list[list[WordTiming]]:
    """Cut at sentence ends and long pauses: no page spans either."""
    runs: list[list[WordTiming]] = []
    for i, word in enumerate(words):
        after_pause = i > 0 and word.start_s - words[i - 1].end_s > PAUSE_S
        if not runs or after_pause or _ends_with(words[i - 1].text, _SENTENCE_END):
            runs.append([])
        runs[-1].append(word)
    return runs


def _split_run(run: list[WordTiming], style: CaptionStyle) -> list[Group]:
    """Best split of one run into pages that fit: dynamic programming over page ends."""
    target, most = KARAOKE_WORDS if style.karaoke else SUBTITLE_WORDS
    shapes = [shape_word(w.text, style) for w in run]
    best = [0.0] + [math.inf] * len(run)
    choice: list[tuple[int, list[list[int]]] | None] = [None] * (len(run) + 1)
    for end in range(1, len(run) + 1):
        for start in range(end - 1, max(-1, end - 1 - most), -1):
            lines = wrap_words(shapes, start, end, style)
            if lines is None:
                break  # adding earlier words only makes the page longer
            cost = best[start] + _page_cost(run, start, end, target)
            if cost < best[end]:
                best[end], choice[end] = cost, (start, lines)
    return _walk_back(run, choice)


def _page_cost(run: list[WordTiming], start: int, end: int, target: int) -> float:
    # Half a point per word squared away from the target; a page that ends on a comma
    # earns back what one or two extra words cost, a short pause a little less.
    cost = 0.5 * (end - start - target) ** 2
    if end < len(run):
        if _ends_with(run[end - 1].text, _CLAUSE_END):
            cost -= CLAUSE_BONUS
        if run[end].start_s - run[end - 1].end_s >= 0.25:
            cost -= 1.0
    return cost


def _walk_back(run: list[WordTiming], choice: list) -> list[Group]:
    groups = []
    end = len(run)
    while end > 0:
        start, lines = choice[end]
        groups.append((run[start:end], [[i - start for i in line] for line in lines]))
        end = start
    return groups[::-1]


def wrap_words(shapes: Sequence[WordShape | None], start: int, end: int,
               style: CaptionStyle) -> list[list[int]] | None:
    """Lines (indices into `shapes`) for words start..end-1: fewest lines, then the most
    even widths, a line ending on a comma preferred. None when more than style.max_lines."""
    drawn = [i for i in range(start, end) if shapes[i] is not None]
    if not drawn:
        return []
    space = line_metrics(style.font_path, style.font_px)[2]
    words = [shapes[i] for i in drawn]
    for count in range(1, style.max_lines + 1):
        cuts = _best_cuts(words, count, space, style.box.w)
        if cuts is not None:
            return [drawn[a:b] for a, b in zip(cuts, cuts[1:])]
    return None


def _best_cuts(words: list[WordShape], count: int, space: float, limit: int) -> list[int] | None:
    """Line starts for `count` lines, every line within `limit` px; a page holds a dozen
    words at most, so trying every cut is cheap."""
    best, best_score = None, math.inf
    for inner in itertools.combinations(range(1, len(words)), count - 1):
        cuts = [0, *inner, len(words)]
        widths = [_line_width(words[a:b], space) for a, b in zip(cuts, cuts[1:])]
        if max(widths) > limit:
            continue
        # A line break after a comma reads better, worth a tenth of the box in evenness.
        commas = sum(_ends_with(words[b - 1].text, _CLAUSE_END) for b in cuts[1:-1])
        score = max(widths) - 0.1 * limit * commas
        if score < best_score:
            best, best_score = cuts, score
    return best


def _pens(shapes: Sequence[WordShape], space: float) -> list[float]:
    pens, x = [], 0.0
    for shape in shapes:
        pens.append(x)
        x += shape.advance + space
    return pens


def _line_width(shapes: Sequence[WordShape], space: float) -> float:
    pens = _pens(shapes, space)
    return pens[-1] + shapes[-1].right - shapes[0].left


def place_page(page: CaptionPage, style: CaptionStyle) -> PagePlacement:
    """Lines centred in the caption box, the block of lines centred vertically; a page that
    reads right to left (Arabic, Hebrew) has its words laid from right to left."""
    shapes = [shape_word(w.text, style) for w in page.words]
    rtl = is_rtl(page.text)
    cap, descender, space = line_metrics(style.font_path, style.font_px)
    block_h = (len(page.lines) - 1) * style.line_pitch_px + cap + descender
    top = style.box.y + (style.box.h - block_h) / 2
    boxes: list[Box | None] = [None] * len(page.words)
    for row, line in enumerate(page.lines):
        baseline = round(top + cap + row * style.line_pitch_px)
        line = line[::-1] if rtl else line
        line_shapes = [shapes[i] for i in line]
        pens = _pens(line_shapes, space)
        slack = style.box.w - _line_width(line_shapes, space)
        origin = style.box.x + slack / 2 - line_shapes[0].left
        for i, shape, pen in zip(line, line_shapes, pens):
            boxes[i] = Box(round(origin + pen) + shape.left, baseline + shape.top,
                           shape.width, shape.height)
    return _keep_inside(boxes, style.box)


def _keep_inside(boxes: list[Box | None], area: Box) -> PagePlacement:
    drawn = [b for b in boxes if b is not None]
    if not drawn:
        return PagePlacement(Box(area.x, area.y, 0, 0), tuple(boxes))
    x0, y0 = min(b.x for b in drawn), min(b.y for b in drawn)
    x1, y1 = max(b.x + b.w for b in drawn), max(b.y + b.h for b in drawn)
    # Rounding or tall accents can poke a pixel or two out; slide the page back inside.
    dx = max(0, area.x - x0) - max(0, x1 - (area.x + area.w))
    dy = max(0, area.y - y0) - max(0, y1 - (area.y + area.h))
    moved = tuple(None if b is None else Box(b.x + dx, b.y + dy, b.w, b.h) for b in boxes)
    return PagePlacement(Box(x0 + dx, y0 + dy, x1 - x0, y1 - y0), moved)
