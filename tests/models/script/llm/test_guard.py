"""The prompt, parser and guard for language-model scripts, on hand-written replies (no model)."""

import pytest

from models.base import ScriptBrief
from models.script.copywriter.writer import TemplateCopywriter
from models.script.llm.guard import guard, repetition, word_budget
from models.script.llm.prompt import (
    CTA_APPENDED,
    Reply,
    ScriptRejected,
    build_messages,
    narrow,
    parse_lines,
    phases_for,
    prompt_reference,
    reply_token_limit,
    script_from_reply,
    stop_marker,
)

BRIEF = ScriptBrief(product_name="Morning Ritual Espresso Cups", segment_count=3,
                    segment_duration_s=8,
                    selling_points=("double-walled ceramic that keeps espresso hot",
                                    "dishwasher safe", "comes with matching saucers"),
                    cta_text="Get your set today", environment="a sunny kitchen")
PHASES = ("hook", "solution", "cta")
GOOD = ("1: Okay, Morning Ritual Espresso Cups just changed my mornings.\n"
        "2: The double-walled ceramic keeps my espresso hot, and they're dishwasher safe.\n"
        "3: They even come with matching saucers. Get your set today.")


def reasons_for(text: str, brief: ScriptBrief = BRIEF) -> list[str]:
    return guard(parse_lines(text), brief, prompt=prompt_reference(brief, PHASES))


def with_line(index: int, text: str) -> str:
    lines = GOOD.splitlines()
    lines[index - 1] = f"{index}: {text}"
    return "\n".join(lines)


def test_a_clean_reply_becomes_a_script_with_one_segment_per_line():
    script = script_from_reply(Reply(GOOD, 40, 1.0), BRIEF, phases=PHASES, writer="smollm2")
    assert [s.phase for s in script.segments] == list(PHASES)
    assert script.segments[0].text == "Okay, Morning Ritual Espresso Cups just changed my mornings."
    assert (script.writer, script.structure, script.tone, script.notes) == (
        "smollm2", "standard_5phase", "conversational", ())


def test_labels_are_parsed_leniently_and_chatter_after_a_blank_line_is_dropped():
    text = ("Sure! Here is your script:\n**1.** Okay, this is line one\nand it goes on.\n"
            "Line 2: Second line.\n 3) Third line.\n\nI hope this helps!")
    assert parse_lines(text) == [(1, "Okay, this is line one and it goes on."),
                                 (2, "Second line."), (3, "Third line.")]


def test_a_draft_without_the_cta_gets_it_appended_and_says_so():
    text = GOOD.replace(" Get your set today.", "")
    script = script_from_reply(Reply(text, 30, 1.0), BRIEF, phases=PHASES, writer="m")
    assert script.segments[-1].text.endswith("matching saucers. Get your set today.")
    assert script.notes == (CTA_APPENDED,)


def test_a_cut_off_last_line_gets_no_cta_and_is_rejected():
    text = GOOD.replace(" Get your set today.", " And they are")
    with pytest.raises(ScriptRejected) as caught:
        script_from_reply(Reply(text, 30, 1.0), BRIEF, phases=PHASES, writer="m")
    assert caught.value.reasons == ("segment 3 is cut off", "call to action missing")
    assert caught.value.text == text


@pytest.mark.parametrize(("text", "reason"), [
    ("1: Morning Ritual Espresso Cups rock.\n2: Yes they do.", "wrong segment count: lines 1, 2"),
    (GOOD + "\n4: Extra line.", "wrong segment count: lines 1, 2, 3, 4 for 3 segments"),
    (GOOD.replace("2: ", "3: ", 1), "wrong segment count: lines 1, 3, 3"),
    (with_line(2, ""), "segment 2 is empty"),
    (with_line(2, "So good."), "segment 2 is too short: 2 words"),
    (with_line(2, " ".join(["word"] * 20) + " and more."), "segment 2 is over budget: 22 words"),
    (with_line(2, "The ceramic keeps my espresso hot and"), "segment 2 is cut off"),
    (with_line(2, "Solution: the ceramic keeps my espresso hot."), "segment 2 has a label left in"),
    (with_line(2, "Segment 2: the ceramic keeps my espresso hot."), "segment 2 has a label"),
    (with_line(2, "The ceramic keeps my espresso **hot**."), "segment 2 has markup: '*'"),
    (with_line(2, "The ceramic keeps it hot. #coffee #morning."), "segment 2 has markup: '#'"),
    (with_line(2, "- The ceramic keeps my espresso hot."), "segment 2 has markup: '-'"),
    (with_line(2, "[Insert product benefit here]."), "segment 2 has markup: '['"),
    (with_line(2, "The ceramic keeps my espresso hot ☕."), "segment 2 has emoji"),
    (with_line(2, '"The ceramic keeps my espresso hot."'), "segment 2 is wrapped in quotes"),
    (with_line(2, "The ceramic keeps my espresso hot ~ always §."), "segment 2 has unspeakable"),
    (with_line(2, "They cost just $5, and they keep it hot."), "segment 2 states a number not in"),
    (with_line(2, "I was skeptical, but it keeps espresso hot."), "segment 2 copies the prompt"),
    (GOOD.replace("Morning Ritual Espresso Cups", "these cups"), "product name missing"),
])
def test_each_problem_is_named(text, reason):
    assert any(r.startswith(reason) for r in reasons_for(text)), reasons_for(text)


def test_the_clean_reply_passes_every_check():
    assert reasons_for(GOOD) == []


def test_the_product_name_matches_in_any_case_and_number():
    text = GOOD.replace("Morning Ritual Espresso Cups", "the morning ritual espresso cup")
    assert "product name missing" not in reasons_for(text)


def test_numbers_and_selling_points_from_the_brief_may_be_said():
    brief = ScriptBrief(product_name="Glow Serum", segment_count=1, segment_duration_s=8,
                        selling_points=("24-hour hydration",), cta_text="Get 20% off today")
    text = "1: Glow Serum gives me 24-hour hydration. Get 20% off today."
    assert guard(parse_lines(text), brief) == []


@pytest.mark.parametrize(("texts", "loop"), [
    (["I love it so much.", "Morning Ritual Espresso Cups are great.", "I love it so much."],
     "sentence said twice"),
    (["Morning Ritual Espresso Cups are so so so good."], "word said three times running"),
    (["It keeps my espresso hot all day, and then", "it keeps my espresso hot all day too."],
     "phrase said 2 times"),
    (["Buy it today. I said buy it today. Really, buy it today!"], "phrase said 3 times"),
])
def test_repetition_loops_are_caught(texts, loop):
    assert repetition(texts, BRIEF.product_name).startswith(loop)


def test_naming_the_product_often_is_not_a_loop():
    texts = ["Morning Ritual Espresso Cups are here.", "I love Morning Ritual Espresso Cups.",
             "Morning Ritual Espresso Cups keep it hot. Get your set today."]
    assert repetition(texts, BRIEF.product_name) == ""


def test_the_word_budget_is_the_segment_duration_times_the_speaking_rate():
    assert word_budget(BRIEF) == 20
    assert word_budget(ScriptBrief(product_name="x", segment_count=1, segment_duration_s=3,
                                   words_per_second=2.5 * 1.2)) == 9


def test_the_prompt_carries_the_brief_and_two_examples_with_the_same_plan():
    messages = build_messages(BRIEF, PHASES, open_reply=True)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant",
                                             "user", "assistant"]
    ask = messages[5]["content"]
    for fact in ("Morning Ritual Espresso Cups", "dishwasher safe", "Get your set today",
                 "conversational", "a sunny kitchen", "Write the 3-line script",
                 "at most 20 words"):
        assert fact in ask
    assert messages[-1] == {"role": "assistant", "content": "1:"}
    for example in (messages[2]["content"], messages[4]["content"]):
        assert [label for label, _ in parse_lines(example)] == [1, 2, 3]
    assert build_messages(BRIEF, PHASES)[-1]["role"] == "user"


def test_the_plan_is_the_copywriters_narrowed_to_one_phase_a_line():
    planned = phases_for(BRIEF)
    assert planned == tuple(s.phase for s in TemplateCopywriter().write(BRIEF).segments)
    assert len(narrow(planned)) == 3 and not any("+" in p for p in narrow(planned))
    assert narrow(("hook+problem", "solution", "cta")) == ("hook", "solution", "cta")
    assert narrow(("hook+solution+cta",)) == ("hook+cta",)
    assert narrow(("hook+solution", "proof+cta")) == ("hook", "cta")
    assert narrow(("hook+point", "point", "cta")) == ("hook", "point", "cta")


def test_generation_stops_after_the_last_line_within_a_token_budget():
    assert stop_marker(BRIEF) == "\n4:"
    assert reply_token_limit(BRIEF, cap=400) == 3 * 34 + 8
    assert reply_token_limit(BRIEF, cap=50) == 50
