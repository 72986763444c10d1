"""The shot plan: the copywriter's planner, its validation, the LLM plan and its fallback."""

from dataclasses import replace

import pytest

from models.base import ScriptBrief, ScriptSegment, WordTiming
from models.script.copywriter.writer import TemplateCopywriter
from models.script.llm.guarded import GuardedScriptWriter
from models.script.llm.prompt import LLMError, ScriptRejected
from models.script.llm.shot_plan import parse_shot_reply, sentence_spans, shot_messages
from models.script.shots import KINDS, PlannedShot, plan_shots, segment_words, timeline, validate_plan

POINTS = ("double-walled ceramic that keeps espresso hot", "dishwasher safe",
          "comes with matching saucers")
BRIEF = ScriptBrief(product_name="Morning Ritual Espresso Cups", segment_count=3,
                    segment_duration_s=8, selling_points=POINTS, cta_text="Get your set today",
                    seed=7)


def _script(brief=BRIEF):
    return TemplateCopywriter().write(brief)


def _words_of(shot, script):
    return segment_words(script.segments)[shot.segment][shot.first_word:shot.last_word + 1]


def test_the_copywriters_plan_is_the_same_for_a_seed_and_covers_every_word_once():
    first, again = _script(), _script()
    assert first.shots == again.shots and first.shots
    assert validate_plan(first.shots, first.segments) == []
    covered = [w for shot in first.shots for w in _words_of(shot, first)]
    assert covered == " ".join(s.text for s in first.segments).split()


def test_plans_differ_between_seeds_somewhere():
    plans = {tuple(_script(replace(BRIEF, seed=seed)).shots) for seed in range(8)}
    assert len(plans) > 1


def test_the_plan_opens_on_the_hook_as_a_title_and_shows_the_product_and_a_punch_in():
    script = _script()
    kinds = [shot.kind for shot in script.shots]
    assert script.shots[0].title and script.shots[0].title.startswith(script.segments[0].text[:10])
    assert {"cutaway", "punch_in"} <= set(kinds) and set(kinds) <= set(KINDS)
    cutaway = next(s for s in script.shots if s.kind == "cutaway")
    assert cutaway.title.lower() in [p.lower() for p in POINTS]


def test_shots_last_two_to_four_seconds_of_speech():
    for seed in range(6):
        script = _script(replace(BRIEF, seed=seed))
        lengths = [shot.last_word - shot.first_word + 1 for shot in script.shots]
        assert min(lengths) >= 2 and max(lengths) <= 11, lengths


@pytest.mark.parametrize("broken, reason", [
    (lambda p: p[:-1], "are in no shot"),
    (lambda p: (replace(p[0], kind="dolly"), *p[1:]), "unknown kind"),
    (lambda p: (replace(p[0], last_word=p[0].last_word + 1), *p[1:]), "starts at word"),
    (lambda p: (*p, PlannedShot(9, "closeup", 0, 1)), "does not exist"),
])
def test_a_plan_that_cannot_be_cut_is_refused_with_its_reason(broken, reason):
    script = _script()
    reasons = validate_plan(broken(script.shots), script.segments)
    assert any(reason in r for r in reasons), reasons


def test_the_timeline_cuts_in_the_pause_before_each_shots_first_word_on_a_frame():
    segments = (ScriptSegment("hook", "One two three four. Five six seven eight."),)
    words = [WordTiming(w, 0.3 + 0.5 * i, 0.7 + 0.5 * i) for i, w in
             enumerate(segments[0].text.split())]
    plan = (PlannedShot(0, "closeup", 0, 3, "One two three four."), PlannedShot(0, "medium", 4, 7))
    cut = timeline(plan, segments, words, duration_s=6.0, fps=30, end_card_s=4.5)
    assert [s.kind for s in cut] == ["closeup", "medium", "endcard"]
    assert cut[0].start_s == 0.0 and words[3].end_s <= cut[1].start_s <= words[4].start_s
    assert round(cut[1].start_s * 30, 6) == round(cut[1].start_s * 30)
    assert cut[1].end_s == cut[2].start_s == 4.5 and cut[2].end_s == 6.0
    assert cut[1].line == "Five six seven eight." and cut[0].talking and not cut[2].talking


class PlanningLLM:
    """A drafter whose script is the copywriter's and whose shot plan is a canned reply."""

    name = "planning"
    temperature = 0.5

    def __init__(self, reply):
        self.reply = reply

    def write(self, brief, *, phases=None, seed=None, temperature=None):
        return replace(_script(brief), writer=self.name, shots=())

    def plan_shots(self, brief, script, *, seed):
        if isinstance(self.reply, Exception):
            raise self.reply
        return parse_shot_reply(self.reply, script, brief)


def _reply(kinds):
    return "\n".join(f"{n}: {kind}" for n, kind in enumerate(kinds, start=1))


def test_a_valid_llm_plan_is_used_with_the_hook_title_and_selling_point_titles():
    script = _script()
    spans = sentence_spans(script)
    kinds = ["closeup", "cutaway", "medium", "split", "punch_in", "closeup", "medium"]
    kinds = (kinds * 3)[:len(spans)]
    written = GuardedScriptWriter(PlanningLLM(_reply(kinds))).write(BRIEF)
    assert written.writer == "planning" and [s.kind for s in written.shots] == kinds
    assert written.shots[0].title and not any("shot plan" in n for n in written.notes)
    assert validate_plan(written.shots, written.segments) == []


@pytest.mark.parametrize("reply, reason", [
    ("1: closeup\n2: zoom_out", "unknown kind"),
    ("1: closeup", "no shot for sentences"),
    ("I think a closeup would be best.", "no shot for sentences"),
    (LLMError("timed out"), "model unavailable"),
])
def test_an_invalid_llm_plan_falls_back_to_the_copywriters_plan(reply, reason):
    written = GuardedScriptWriter(PlanningLLM(reply)).write(BRIEF)
    copywriter = plan_shots(written.segments, product_name=BRIEF.product_name,
                            selling_points=POINTS, seed=BRIEF.seed)
    assert written.shots == copywriter
    assert any(n.startswith("shot plan fallback:") and reason in n for n in written.notes)


def test_the_shot_prompt_numbers_every_sentence_of_the_script():
    script = _script()
    asked = shot_messages(script)[-1]["content"]
    assert all(f"{n}. " in asked for n in range(1, len(sentence_spans(script)) + 1))
    with pytest.raises(ScriptRejected):
        parse_shot_reply("1: closeup\n1: medium", script, BRIEF)
