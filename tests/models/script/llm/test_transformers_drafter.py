"""The transformers backend with the real embedded SmolLM2-135M-Instruct on the CPU.

The model is loaded once for the session (about 30 s on two cores); each test generates at
most a few hundred tokens. Expected outcomes for fixed seeds were measured on this model.
"""

import os
import subprocess
import sys

import pytest

from engine.settings import REPO_ROOT
from models.base import ScriptBrief
from models.registry import Registry
from models.script.copywriter.writer import TemplateCopywriter
from models.script.llm.guarded import GuardedScriptWriter
from models.script.llm.prompt import ScriptRejected, build_messages, narrow, parse_lines, phases_for
from models.script.llm.transformers_drafter import (
    LLMOptions,
    TransformersDrafter,
    import_libraries,
    smollm2_gguf,
)

REPO = REPO_ROOT
DEMO = ScriptBrief(product_name="Morning Ritual Espresso Cups", segment_count=3,
                   segment_duration_s=8,
                   selling_points=("double-walled ceramic that keeps espresso hot",
                                   "dishwasher safe", "comes with matching saucers"),
                   cta_text="Get your set today")


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory) -> GuardedScriptWriter:
    """The script writer of the cpu-llm profile, built the way a render builds it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: loading is local-only
    registry = Registry.from_profile(REPO / "configs" / "profiles" / "cpu-llm.yaml",
                                     cache_dir=tmp_path_factory.mktemp("cache"))
    return registry.script_writer()


def sibling(**options) -> TransformersDrafter:
    """Another writer on the embedded model file (it shares the loaded model), other options."""
    return TransformersDrafter(smollm2_gguf(), name="smollm2", **options)


def test_importing_the_llm_modules_loads_no_torch():
    code = ("import sys, models.script.llm.guarded, models.script.llm.transformers_drafter, models.registry; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_a_missing_library_names_the_install_that_fixes_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"pip install 'ugen-engine\[llm\]'"):
        import_libraries()


@pytest.mark.parametrize("options", [{"device": "tpu"}, {"temperature": -1}, {"top_p": 0},
                                     {"max_new_tokens": 0}, {"repetition_penalty": 0}])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        LLMOptions("model.gguf", **options)


def test_the_embedded_model_ships_in_its_package():
    assert smollm2_gguf().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert smollm2_gguf().stat().st_size > 50_000_000


def test_auto_picks_the_cpu_in_float32_without_a_gpu(smollm2):
    torch, _ = import_libraries()
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    loaded = smollm2.llm.loaded
    assert (loaded.device, loaded.dtype) == ("cpu", "float32")
    assert next(loaded.model.parameters()).dtype == torch.float32


def test_writers_for_the_same_file_share_one_loaded_model(smollm2):
    assert sibling(temperature=0).loaded is smollm2.llm.loaded


def test_a_real_reply_is_parsed_into_one_line_per_segment(smollm2):
    phases = narrow(phases_for(DEMO))
    reply = smollm2.llm.complete(build_messages(DEMO, phases, open_reply=True), seed=0,
                                 temperature=0, max_new_tokens=120, stop="\n4:")
    lines = parse_lines(reply.text)
    assert [label for label, _ in lines] == [1, 2, 3]
    assert all(len(text.split()) >= 3 for _, text in lines)
    assert 0 < reply.new_tokens <= 120 and reply.tokens_per_s > 0


def test_the_demo_brief_gets_an_llm_script_and_the_same_one_twice(smollm2):
    first, second = smollm2.write(DEMO), smollm2.write(DEMO)
    assert first == second
    assert first.writer == "smollm2"  # seed 0 passes the guard on the first draft
    assert [s.phase for s in first.segments] == list(narrow(phases_for(DEMO)))
    text = " ".join(s.text for s in first.segments)
    assert "Morning Ritual Espresso Cups" in text and text.endswith("Get your set today.")


def test_another_seed_samples_another_reply(smollm2):
    messages = build_messages(DEMO, narrow(phases_for(DEMO)), open_reply=True)
    replies = {smollm2.llm.complete(messages, seed=seed, temperature=0.4, max_new_tokens=24,
                                    stop="").text for seed in (0, 1)}
    assert len(replies) == 2


def test_a_tiny_token_budget_cuts_the_reply_off_and_the_guard_falls_back(smollm2):
    starved = sibling(max_new_tokens=8)
    with pytest.raises(ScriptRejected) as caught:
        starved.write(DEMO)
    assert caught.value.reasons == ("wrong segment count: lines 1 for 3 segments",)
    script = GuardedScriptWriter(starved, fallback=TemplateCopywriter()).write(DEMO)
    assert script.writer == "copywriter"
    assert script.notes[0] == ("llm fallback: wrong segment count: lines 1 for 3 segments; "
                               "retry: wrong segment count: lines 1 for 3 segments")
    assert script.segments == TemplateCopywriter().write(DEMO).segments


def test_a_looping_greedy_draft_is_caught_and_falls_back(smollm2):
    # Six short segments decoded greedily: SmolLM2 says "I'm so glad you're here." on every
    # line after the first. The retry is greedy too, so it loops again.
    greedy = GuardedScriptWriter(sibling(temperature=0, repetition_penalty=1.0))
    brief = ScriptBrief(product_name="Morning Ritual Espresso Cups", segment_count=6,
                        segment_duration_s=5, selling_points=("dishwasher safe",),
                        cta_text="Get your set today")
    script = greedy.write(brief)
    assert script.writer == "copywriter"
    assert "repetition loop: sentence said twice" in script.notes[0]
    assert "; retry: " in script.notes[0]
