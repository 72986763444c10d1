"""The prompt asks for the job's language; English jobs read as before."""

from __future__ import annotations

from dataclasses import replace

from models.base import ScriptBrief
from models.script.llm.prompt import build_messages, language_instruction

BRIEF = ScriptBrief(product_name="Tasses Rituel du Matin", segment_count=3, segment_duration_s=8,
                    cta_text="Commandez votre set")
PHASES = ("hook", "solution", "cta")


def test_a_french_job_asks_for_every_line_in_french():
    ask = build_messages(replace(BRIEF, language="fr-CA"), PHASES)[-1]["content"]
    assert "Write every line in French (fr-CA)." in ask


def test_an_english_job_gets_no_language_line_and_an_unknown_tag_is_named_as_is():
    english = build_messages(BRIEF, PHASES)
    assert not any("Write every line in" in m["content"] for m in english)
    assert language_instruction("en-GB") is None
    assert language_instruction("sw") == "Write every line in sw (sw)."
