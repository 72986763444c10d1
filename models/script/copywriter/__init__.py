"""The deterministic template copywriter (CPU default, and the LLM writers' fallback).

    writer.py     TemplateCopywriter: brief -> Script, sized to the voice's words per second
    plan.py       which phases (hook, problem, ...) each segment speaks, and their word budgets
    fit.py        WordFitter: fills a budget with phrases, never over it
    language.py   product names, selling points and sentences made speakable
    phrases.py    the phrase tables per structure and tone (data)
"""

from models.script.copywriter.writer import TemplateCopywriter

__all__ = ["TemplateCopywriter"]
