"""The guarded writer's retry and fallback, and building LLM writers from a profile (no model)."""


import pytest

from engine.settings import REPO_ROOT
from models.base import Script, ScriptBrief, ScriptSegment
from models.registry import ProfileError, Registry, load_profile
from models.script.copywriter.writer import TemplateCopywriter
from models.script.llm.guarded import GuardedScriptWriter, fallback_note
from models.script.llm.openai_drafter import OpenAIChatDrafter
from models.script.llm.prompt import LLMError, ScriptRejected
from models.script.llm.shot_plan import sentence_spans
from models.script.shots import PlannedShot

PROFILES = REPO_ROOT / "configs" / "profiles"
BRIEF = ScriptBrief(product_name="Morning Ritual Espresso Cups", segment_count=3,
                    segment_duration_s=8, selling_points=("dishwasher safe",),
                    cta_text="Get your set today", seed=7)


class ScriptedLLM:
    """Answers each write() with the next outcome: a Script, or an exception to raise."""

    name = "scripted"
    temperature = 0.8

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def write(self, brief, *, phases=None, seed=None, temperature=None):
        self.calls.append({"phases": phases, "seed": seed, "temperature": temperature})
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def plan_shots(self, brief, script, *, seed):
        """Every sentence a close-up: a plan that passes validation."""
        return tuple(PlannedShot(segment, "closeup", first, last)
                     for segment, first, last in sentence_spans(script))


def llm_script(notes=()):
    segments = tuple(ScriptSegment(p, f"Line for {p}.") for p in ("hook", "solution", "cta"))
    return Script(segments, "standard_5phase", "conversational", "scripted", notes)


def test_a_passing_draft_is_used_and_asked_for_the_copywriters_phases():
    llm = ScriptedLLM(llm_script())
    script = GuardedScriptWriter(llm).write(BRIEF)
    assert script.writer == "scripted" and script.notes == ()
    planned = tuple(s.phase for s in TemplateCopywriter().write(BRIEF).segments)
    assert llm.calls == [{"phases": planned, "seed": 7, "temperature": 0.8}]


def test_a_rejected_draft_is_retried_with_another_seed_and_a_cooler_temperature():
    llm = ScriptedLLM(ScriptRejected(["segment 2 is cut off"], "..."),
                      llm_script(notes=("llm: call to action appended",)))
    script = GuardedScriptWriter(llm).write(BRIEF)
    assert script.writer == "scripted"
    assert script.notes == ("llm retry: segment 2 is cut off", "llm: call to action appended")
    first, retry = llm.calls
    assert retry["seed"] != first["seed"] and retry["temperature"] < first["temperature"]


def test_two_rejections_fall_back_to_the_copywriter_with_both_reasons():
    llm = ScriptedLLM(ScriptRejected(["segment 2 is cut off", "product name missing"], "a"),
                      ScriptRejected(["repetition loop: word said three times running"], "b"))
    script = GuardedScriptWriter(llm).write(BRIEF)
    assert script.writer == "copywriter"
    assert script.notes[0] == ("llm fallback: segment 2 is cut off; product name missing; "
                               "retry: repetition loop: word said three times running")
    assert [s.text for s in script.segments] == [s.text for s in TemplateCopywriter().write(
        BRIEF).segments]


def test_an_unreachable_model_falls_back_at_once():
    llm = ScriptedLLM(LLMError("http://llm/v1/chat/completions: connection refused"))
    script = GuardedScriptWriter(llm).write(BRIEF)
    assert len(llm.calls) == 1
    assert script.writer == "copywriter"
    assert script.notes[0].startswith("llm fallback: model unavailable: http://llm/v1")


def test_a_custom_script_never_reaches_the_model():
    llm = ScriptedLLM()
    brief = ScriptBrief(product_name="Glow", segment_count=2, segment_duration_s=8,
                        custom_script="My own words here. And some more of them.")
    script = GuardedScriptWriter(llm).write(brief)
    assert llm.calls == [] and script.writer == "copywriter"


def test_the_fallback_note_reads_as_one_line():
    assert fallback_note(["a; b", "c"]) == "llm fallback: a; b; retry: c"


def test_the_cpu_llm_profile_names_the_embedded_model():
    profile = load_profile(PROFILES / "cpu-llm.yaml")
    assert profile["script"] == "smollm2"
    assert {k: v for k, v in profile.items() if k != "script"} == {
        k: v for k, v in load_profile(PROFILES / "cpu.yaml").items() if k != "script"}


def test_a_profile_entry_may_carry_backend_options(tmp_path):
    profile = tmp_path / "served.yaml"
    profile.write_text((PROFILES / "cpu.yaml").read_text().replace(
        "script: copywriter", "script: {backend: openai, options: {base_url: 'http://llm:8000/v1',"
        " model: qwen, timeout_s: 5, max_retries: 1}}\n#"))
    registry = Registry.from_profile(profile, cache_dir=tmp_path)
    writer = registry.script_writer()
    assert writer is registry.script_writer()  # built once
    assert isinstance(writer.llm, OpenAIChatDrafter)
    assert (writer.llm.options.base_url, writer.llm.options.model, writer.llm.options.timeout_s,
            writer.llm.options.max_retries) == ("http://llm:8000/v1", "qwen", 5, 1)
    assert registry.profile["voice"] == "piper"  # plain names are unchanged


@pytest.mark.parametrize("entry", ["{backend: gpt}", "{name: openai}",
                                   "{backend: openai, options: [1]}"])
def test_a_bad_profile_entry_is_refused(tmp_path, entry):
    profile = tmp_path / "bad.yaml"
    profile.write_text((PROFILES / "cpu.yaml").read_text().replace(
        "script: copywriter", f"script: {entry}\n#"))
    with pytest.raises(ProfileError, match="script"):
        load_profile(profile)
