"""Prompt and parser shared by the language-model script writers (no ML imports here).

    phases = phases_for(brief)      # the copywriter's plan: ("hook+problem", "solution", "cta")
    script = draft(model, brief, phases=phases, seed=brief.seed, temperature=0.7)
    # -> Script, or raises ScriptRejected (reasons from models/script/llm/guard.py) or LLMError

The model sees two worked examples (other products, the same segment plan) and then the brief,
and answers one line per segment labelled "1: ...". The plan is the template copywriter's, so
an LLM script and its fallback name their phases alike in script.json, with one change: where
the copywriter merges phases into one segment ("hook+problem"), the model's line carries only
the lead one ("hook"), since one short spoken line holds one idea well (see `narrow`). The
call to action is the advertiser's own words: a last line that ends cleanly without them gets
them appended, and the script's notes say so. `model` is any `ChatModel`: the transformers and
the OpenAI-compatible backends.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

from models.base import DEFAULT_CTA, Script, ScriptBrief, ScriptSegment, primary_language
from models.script.llm.guard import ENDS_SENTENCE, contains, guard, word_budget

SYSTEM_PROMPT = (
    "You write the spoken words of short vertical video ads: one creator talks to the camera "
    "about a product. Write plain spoken sentences only: no emoji, no hashtags, no markdown, "
    "no stage directions, no quotation marks around lines.")
# What a line does for each phase of the copywriter's plan, as the model is told.
PHASE_TASKS = {
    "hook": 'hooks the viewer and says "{product}"',
    "problem": "names a problem the viewer knows",
    "agitate": "says why that problem is so annoying",
    "solution": "says how it helps, using a selling point",
    "proof": "shares your own experience with it",
    "point": "gives one selling point",
    "cta": 'ends with "{cta}"',
}
# Which phase of a merged segment its line keeps; the last segment also keeps its "cta".
LEAD_ORDER = ("hook", "cta", "solution", "point", "proof", "problem", "agitate")
CTA_APPENDED = "llm: call to action appended"
TONES = {
    "conversational": "conversational: casual, warm, first person, like talking to a friend",
    "energetic": "energetic: excited, short punchy sentences",
    "professional": "professional: calm, clear and confident, no slang",
}


@dataclass(frozen=True)
class Example:
    """A worked example: a product, and lines for each phase (the nth use takes the nth line)."""

    product: str
    points: tuple[str, ...]
    cta: str
    lines: dict[str, tuple[str, ...]]


EXAMPLES = (
    Example("Glow Drop Serum", ("vitamin C", "absorbs in seconds", "fragrance free"),
            "Shop the link below", {
                "hook": ("I was skeptical, but Glow Drop Serum is the real deal.",),
                "problem": ("My skin always looked dull and tired.",
                            "Nothing I tried ever made a difference."),
                "agitate": ("And every cream just sat on top of my skin.",),
                "solution": ("It has vitamin C, and my skin looks brighter every morning.",
                             "It absorbs in seconds, so it never feels sticky.",
                             "And it's fragrance free, which my skin loves."),
                "proof": ("I use it every single morning now.",
                          "My friends keep asking what changed."),
                "point": ("It's packed with vitamin C.", "It absorbs in seconds.",
                          "And it's fragrance free."),
                "cta": ("You need this. Shop the link below.",)}),
    Example("Cloud Step Slippers", ("memory foam sole", "machine washable"),
            "Tap the link to grab a pair", {
                "hook": ("Okay, Cloud Step Slippers are the comfiest thing I own.",),
                "problem": ("My old slippers went flat in a week.",
                            "My feet were always sore at night."),
                "agitate": ("And I kept buying new pairs for nothing.",),
                "solution": ("This memory foam sole still feels like a cloud.",
                             "They're machine washable, so they stay fresh.",
                             "They keep my feet warm all evening."),
                "proof": ("I wear them every evening now.", "My sister stole my first pair."),
                "point": ("The memory foam sole feels like a cloud.", "They're machine washable.",
                          "They keep your feet warm."),
                "cta": ("They're machine washable, too! Tap the link to grab a pair.",)}),
)


@dataclass(frozen=True)
class Reply:
    """A model's raw answer and what it cost."""

    text: str
    new_tokens: int
    seconds: float

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


class ScriptRejected(ValueError):
    """A draft the guard refused; `reasons` name each problem, `text` is the raw reply."""

    def __init__(self, reasons: list[str], text: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons, self.text = tuple(reasons), text


class LLMError(RuntimeError):
    """The model could not answer: endpoint down after its retries, or a malformed response."""


class ChatModel(Protocol):
    name: str
    max_new_tokens: int  # the most new tokens one reply may take
    continues_reply: bool  # whether a trailing assistant message is continued, not answered

    def complete(self, messages: list[dict[str, str]], *, seed: int, temperature: float,
                 max_new_tokens: int, stop: str) -> Reply: ...


def draft(model: ChatModel, brief: ScriptBrief, *, phases: tuple[str, ...], seed: int,
          temperature: float) -> Script:
    """One draft from `model`: prompt, generate, parse and guard (raises ScriptRejected).
    `phases` is the copywriter's plan; the lines follow its narrowed form."""
    phases = narrow(phases)
    messages = build_messages(brief, phases, open_reply=model.continues_reply)
    reply = model.complete(messages, seed=seed, temperature=temperature, stop=stop_marker(brief),
                           max_new_tokens=reply_token_limit(brief, cap=model.max_new_tokens))
    return script_from_reply(reply, brief, phases=phases, writer=model.name)


class DrafterBase:
    """What both LLM writers share: one unguarded draft from their `options` and `complete()`."""

    options: Any  # has max_new_tokens and temperature

    @property
    def max_new_tokens(self) -> int:
        return self.options.max_new_tokens

    @property
    def temperature(self) -> float:
        return self.options.temperature

    def write(self, brief: ScriptBrief, *, phases: tuple[str, ...] | None = None,
              seed: int | None = None, temperature: float | None = None) -> Script:
        """One unguarded draft; `phases` default to the copywriter's plan, `seed` to the brief's."""
        return draft(self, brief, phases=phases or phases_for(brief),
                     seed=brief.seed if seed is None else seed,
                     temperature=self.temperature if temperature is None else temperature)

    def plan_shots(self, brief: ScriptBrief, script: Script, *, seed: int) -> tuple:
        """The model's shot plan for its `script` (raises ScriptRejected, LLMError)."""
        from models.script.llm.shot_plan import parse_shot_reply, sentence_spans, shot_messages

        reply = self.complete(shot_messages(script), seed=seed, temperature=self.temperature,
                              max_new_tokens=min(self.max_new_tokens,
                                                 8 * len(sentence_spans(script)) + 8),
                              stop="\n\n")
        return parse_shot_reply(reply.text, script, brief)


def phases_for(brief: ScriptBrief) -> tuple[str, ...]:
    """The template copywriter's phase per segment, e.g. ("hook+problem", "solution", "cta")."""
    from models.script.copywriter.writer import TemplateCopywriter  # deferred: only standalone use needs it

    return tuple(segment.phase for segment in TemplateCopywriter().write(brief).segments)


def narrow(phases: tuple[str, ...]) -> tuple[str, ...]:
    """One phase per line: ("hook+problem", "solution", "proof+cta") -> ("hook", "solution",
    "cta"); a single segment keeps its hook and call to action ("hook+cta")."""
    def lead(phase: str) -> str:
        parts = phase.split("+")
        return min(parts, key=lambda p: LEAD_ORDER.index(p) if p in LEAD_ORDER else len(LEAD_ORDER))

    narrowed = [lead(phase) for phase in phases]
    if phases and "cta" in phases[-1].split("+") and narrowed[-1] != "cta":
        narrowed[-1] += "+cta"
    return tuple(narrowed)


def reply_token_limit(brief: ScriptBrief, *, cap: int) -> int:
    """Enough new tokens for every line at its budget (about 1.5 tokens a word) plus labels."""
    per_line = math.ceil(word_budget(brief) * 1.5) + 4
    return min(cap, brief.segment_count * per_line + 8)


def stop_marker(brief: ScriptBrief) -> str:
    """Where generation stops: the label of a line past the last segment."""
    return f"\n{brief.segment_count + 1}:"


# --- prompt -------------------------------------------------------------------------------

def build_messages(brief: ScriptBrief, phases: tuple[str, ...], *,
                   open_reply: bool = False) -> list[dict[str, str]]:
    """System prompt, the worked examples as earlier turns, then the brief. With `open_reply`
    the reply is started with "1:" for a backend that continues it."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for example in EXAMPLES:
        messages.append({"role": "user", "content": _ask(_example_facts(example, brief.tone),
                                                         example.product, example.cta, phases,
                                                         word_budget(brief))})
        messages.append({"role": "assistant", "content": example_answer(example, phases)})
    messages.append({"role": "user", "content": _ask(_facts(brief), brief.product_name,
                                                     _cta(brief), phases, word_budget(brief))})
    if open_reply:
        messages.append({"role": "assistant", "content": "1:"})
    return messages


def prompt_reference(brief: ScriptBrief, phases: tuple[str, ...]) -> str:
    """Everything the model was shown except the brief's own facts (for the guard's copy check)."""
    # Placeholders, not the product name and CTA: saying those is the point, not copying.
    texts = [SYSTEM_PROMPT, instructions("(product)", "(cta)", phases, word_budget(brief))]
    texts += [example_answer(example, phases) for example in EXAMPLES]
    return "\n".join(texts)


def instructions(product: str, cta: str, phases: tuple[str, ...], budget: int) -> str:
    tasks = [f"Line {i} " + " and then ".join(_task(p) for p in phase.split("+"))
             for i, phase in enumerate(phases, start=1)]
    text = f"Write the {len(phases)}-line script. " + ". ".join(tasks)
    return text.format(product=product, cta=cta) + f". Each line has at most {budget} words."


def example_answer(example: Example, phases: tuple[str, ...]) -> str:
    used: dict[str, int] = {}
    lines = []
    for i, phase in enumerate(phases, start=1):
        sentences = []
        for part in phase.split("+"):
            # A phase the examples lack (a new copywriter phase) borrows the solution lines.
            options = example.lines.get(part, example.lines["solution"])
            sentences.append(options[used.get(part, 0) % len(options)])
            used[part] = used.get(part, 0) + 1
        lines.append(f"{i}: " + " ".join(sentences))
    return "\n".join(lines)


def _task(phase: str) -> str:
    return PHASE_TASKS.get(phase, PHASE_TASKS["solution"])


def _ask(facts: list[str], product: str, cta: str, phases: tuple[str, ...], budget: int) -> str:
    return "\n".join([*facts, "", instructions(product, cta, phases, budget)])


# Names the model is told for the languages XTTS-v2 speaks; any other tag is given as is.
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German",
                  "it": "Italian", "pt": "Portuguese", "pl": "Polish", "tr": "Turkish",
                  "ru": "Russian", "nl": "Dutch", "cs": "Czech", "ar": "Arabic",
                  "zh": "Chinese", "ja": "Japanese", "hu": "Hungarian", "ko": "Korean",
                  "hi": "Hindi"}


def language_instruction(language: str) -> str | None:
    """The line that asks for the job's language; None for English, the examples' language."""
    code = primary_language(language)
    if code == "en":
        return None
    return f"Write every line in {LANGUAGE_NAMES.get(code, language)} ({language})."


def _facts(brief: ScriptBrief) -> list[str]:
    facts = [f"Product: {brief.product_name}"]
    if language_instruction(brief.language):
        facts.append(language_instruction(brief.language))
    if brief.selling_points:
        facts.append("Selling points: " + "; ".join(brief.selling_points))
    facts.append(f"Call to action: {_cta(brief)}")
    facts.append(f"Tone: {TONES.get(brief.tone, brief.tone)}")
    if brief.environment:
        facts.append(f"The creator films in: {brief.environment}")
    return facts


def _example_facts(example: Example, tone: str) -> list[str]:
    return [f"Product: {example.product}", "Selling points: " + "; ".join(example.points),
            f"Call to action: {example.cta}", f"Tone: {TONES.get(tone, tone)}"]


def _cta(brief: ScriptBrief) -> str:
    return (brief.cta_text or DEFAULT_CTA).strip().rstrip(".!?")


# --- parser -------------------------------------------------------------------------------

LABEL = re.compile(r"^[\s*#>\-•]*(?:(?:line|segment|part|scene)\s*)?(\d{1,2})\s*[:.)][*_]*\s*(.*)$",
                   re.IGNORECASE)


def parse_lines(text: str) -> list[tuple[int, str]]:
    """(label, text) per labelled line. An unlabelled line continues the line above it unless
    a blank line came between; then it is talk about the script, not part of it, and dropped."""
    lines: list[tuple[int, str]] = []
    attached = True
    for raw in text.splitlines():
        match = LABEL.match(raw)
        if match:
            lines.append((int(match.group(1)), match.group(2).strip()))
            attached = True
        elif not raw.strip():
            attached = False
        elif lines and attached:
            label, body = lines[-1]
            lines[-1] = (label, f"{body} {raw.strip()}".strip())
    return lines


def script_from_reply(reply: Reply, brief: ScriptBrief, *, phases: tuple[str, ...],
                      writer: str) -> Script:
    """Parse and guard a reply (`phases` as narrowed): a Script, or ScriptRejected naming
    every problem found."""
    lines, appended = with_cta(parse_lines(reply.text), brief)
    reasons = guard(lines, brief, prompt=prompt_reference(brief, phases))
    if reasons:
        raise ScriptRejected(reasons, reply.text)
    segments = tuple(ScriptSegment(phase, text) for phase, (_, text) in zip(phases, lines))
    return Script(segments=segments, structure=brief.structure, tone=brief.tone, writer=writer,
                  notes=(CTA_APPENDED,) if appended else ())


def with_cta(lines: list[tuple[int, str]],
             brief: ScriptBrief) -> tuple[list[tuple[int, str]], bool]:
    """The lines with the brief's call to action appended to the last one when it ends a
    sentence without saying it; a cut-off last line is left for the guard to refuse."""
    if not (brief.cta_text and lines) or contains([lines[-1][1]], brief.cta_text):
        return lines, False
    label, text = lines[-1]
    if not ENDS_SENTENCE.search(text):
        return lines, False
    cta = brief.cta_text.strip()
    cta += "" if ENDS_SENTENCE.search(cta) else "."
    return [*lines[:-1], (label, f"{text} {cta}")], True
