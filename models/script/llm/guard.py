"""The guard on language-model scripts: every reason a draft cannot be spoken as it is.

    lines = [(1, "Okay, Glow Serum is the real deal."), (2, "..."), (3, "...")]
    guard(lines, brief, prompt=prompt_text)   # [] or ["segment 2 is cut off", ...]

Each reason is a short sentence that starts with a stable name (see REASONS), so reasons can be
tallied across jobs. Nothing here repairs a draft: a rejected draft is rewritten by the model
or replaced by the template copywriter, never patched.
"""

from __future__ import annotations

import math
import re
import unicodedata

from models.base import ScriptBrief

# The stable names each reason starts with ("segment N" comes first for per-segment reasons).
REASONS = ("wrong segment count", "is empty", "is too short", "is over budget", "is cut off",
           "has a label left in", "has markup", "has emoji", "is wrapped in quotes",
           "has unspeakable characters", "states a number not in the brief", "copies the prompt",
           "product name missing", "call to action missing", "repetition loop")

LEFTOVER_LABEL = re.compile(
    r"^\W*(hook|problem|agitate|solution|proof|point|cta|call to action|segment\s*\d+|"
    r"line\s*\d+|scene\s*\d+)\b\s*[:\-)\]]|\((hook|problem|agitate|solution|proof|point|cta)\)|"
    r"\b(segment|line)\s*\d+\s*:", re.IGNORECASE)
MARKUP = re.compile(r"[*_`~#<>\[\]{}|\\@^=]|^\s*[-•]|https?://|www\.")
ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)]*$")
SPEAKABLE_PUNCT = frozenset(" .,!?;:'\"-–—()&%$€£/+…’‘“”")
QUOTES = "\"“”'‘’"
COPY_NGRAM = 4  # this many words in a row taken from the prompt's instructions or examples


def word_budget(brief: ScriptBrief) -> int:
    """Most words one segment may hold: what the voice speaks in the segment's duration."""
    return max(1, math.floor(brief.segment_duration_s * brief.words_per_second + 1e-9))


def min_words(brief: ScriptBrief) -> int:
    """Fewest words a segment should hold: a fifth of its budget, at least three."""
    return min(word_budget(brief), max(3, word_budget(brief) // 5))


def guard(lines: list[tuple[int, str]], brief: ScriptBrief, *, prompt: str = "") -> list[str]:
    """Every reason to refuse `lines` (label, text) as the script for `brief`; [] when they
    pass. `prompt` is the text the model was shown minus the brief's own facts: a segment that
    copies four words in a row from it is parroting instructions or examples."""
    labels = [label for label, _ in lines]
    if labels != list(range(1, brief.segment_count + 1)):
        shown = ", ".join(map(str, labels)) or "none"
        return [f"wrong segment count: lines {shown} for {brief.segment_count} segments"]
    texts = [text for _, text in lines]
    reasons = [f"segment {index} {problem}" for index, text in enumerate(texts, start=1)
               for problem in segment_problems(text, brief, prompt=prompt)]
    if not contains(texts, brief.product_name):
        reasons.append("product name missing")
    if brief.cta_text and not contains(texts[-1:], brief.cta_text):
        reasons.append("call to action missing")
    loop = repetition(texts, brief.product_name)
    if loop:
        reasons.append(f"repetition loop: {loop}")
    return reasons


def segment_problems(text: str, brief: ScriptBrief, *, prompt: str = "") -> list[str]:
    """What is wrong with one segment's text, each starting with a name from REASONS."""
    words = len(text.split())
    if words == 0:
        return ["is empty"]
    problems = []
    if words < min_words(brief):
        problems.append(f"is too short: {words} words")
    if words > word_budget(brief):
        problems.append(f"is over budget: {words} words, budget {word_budget(brief)}")
    if not ENDS_SENTENCE.search(text):
        problems.append("is cut off")
    problems += markup_problems(text)
    return problems + content_problems(text, brief, prompt=prompt)


def content_problems(text: str, brief: ScriptBrief, *, prompt: str = "") -> list[str]:
    """Characters a voice cannot say, made-up figures, words lifted from the prompt."""
    problems = []
    odd = sorted({ch for ch in text if not (ch.isalnum() or ch in SPEAKABLE_PUNCT
                                            or is_emoji(ch) or MARKUP.match(ch))})
    if odd:
        problems.append(f"has unspeakable characters: {''.join(odd)!r}")
    numbers = unknown_numbers(text, brief)
    if numbers:
        problems.append(f"states a number not in the brief: {', '.join(numbers)}")
    copy = copied(text, prompt, brief.product_name, brief_facts(brief)) if prompt else ""
    if copy:
        problems.append(f"copies the prompt: {copy!r}")
    return problems


def markup_problems(text: str) -> list[str]:
    problems = []
    label = LEFTOVER_LABEL.search(text)
    if label:
        problems.append(f"has a label left in: {label.group(0).strip()!r}")
    markup = MARKUP.search(text)
    if markup:
        problems.append(f"has markup: {markup.group(0).strip()!r}")
    if any(is_emoji(ch) for ch in text):
        problems.append("has emoji")
    body = text.rstrip(".!?… ")
    if len(body) > 1 and body[0] in QUOTES and body[-1] in QUOTES:
        problems.append("is wrapped in quotes")
    return problems


def is_emoji(ch: str) -> bool:
    # Other symbols ("So") cover emoji and pictographs; variation selector 16 and the
    # zero-width joiner glue them together.
    return unicodedata.category(ch) == "So" or ch in "\ufe0f\u200d"


def brief_facts(brief: ScriptBrief) -> str:
    return "\n".join([brief.product_name, *brief.selling_points, brief.cta_text or "",
                      brief.environment or ""])


def unknown_numbers(text: str, brief: ScriptBrief) -> list[str]:
    """Figures the model made up (prices, percentages, counts): digits the brief never gave."""
    known = set(re.findall(r"\d+(?:[.,]\d+)?", brief_facts(brief)))
    return [n for n in dict.fromkeys(re.findall(r"\d+(?:[.,]\d+)?", text)) if n not in known]


def words_of(text: str) -> list[str]:
    """Lowercased words without punctuation, plural-blind ("Cups" matches "cup")."""
    found = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text.lower().replace("’", "'"))
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in found]


def contains(texts: list[str], phrase: str) -> bool:
    wanted, have = words_of(phrase), words_of(" ".join(texts))
    return bool(wanted) and any(have[i:i + len(wanted)] == wanted for i in range(len(have)))


def copied(text: str, prompt: str, product_name: str, facts: str = "") -> str:
    """The first run of COPY_NGRAM words `text` shares with `prompt` but not with the brief's
    `facts` (its own selling points may be quoted), or ""."""
    name = words_of(product_name)
    source = set(_grams(collapse(words_of(prompt), name), COPY_NGRAM)) - set(
        _grams(collapse(words_of(facts), name), COPY_NGRAM))
    for gram in _grams(collapse(words_of(text), name), COPY_NGRAM):
        if gram in source:
            return " ".join(gram)
    return ""


def repetition(texts: list[str], product_name: str) -> str:
    """Describe a loop, or "" when there is none: a sentence said twice, a word three times
    running, a five-word run twice or a three-word run three times. The product name counts
    as one word, so naming it often is not a loop."""
    seen: set[tuple[str, ...]] = set()
    for sentence in (s for t in texts for s in re.split(r"(?<=[.!?…])\s+", t)):
        key = tuple(words_of(sentence))
        if len(key) >= 3 and key in seen:
            return f"sentence said twice: {sentence.strip()!r}"
        seen.add(key)
    words = collapse(words_of(" ".join(texts)), words_of(product_name))
    for i in range(len(words) - 2):
        if words[i] == words[i + 1] == words[i + 2]:
            return f"word said three times running: {words[i]!r}"
    for size, most in ((5, 1), (3, 2)):
        grams = _grams(words, size)
        for gram in dict.fromkeys(grams):
            if grams.count(gram) > most:
                return f"phrase said {grams.count(gram)} times: {' '.join(gram)!r}"
    return ""


def collapse(words: list[str], name: list[str]) -> list[str]:
    """`words` with every occurrence of the product name folded into one token."""
    out, i = [], 0
    while i < len(words):
        if name and words[i:i + len(name)] == name:
            out.append("<product>")
            i += len(name)
        else:
            out.append(words[i])
            i += 1
    return out


def _grams(words: list[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + size]) for i in range(len(words) - size + 1)]
