"""A script writer that drafts with a language model and never ships a bad draft.

    writer = GuardedScriptWriter(TransformersDrafter(smollm2_gguf(), name="smollm2"))
    script = writer.write(brief)
    script.writer, script.notes    # "smollm2", ()  or  "copywriter", ("llm fallback: ...",)

Each job: the template copywriter writes its script first (milliseconds; it also plans the
segment phases the model is asked for, and raises ScriptTooLongError for briefs no script
fits). The model then drafts; the guard (models/script/llm/guard.py) checks the draft. A rejected
draft gets one retry with another seed and a cooler temperature; a second rejection, or a
model that cannot be reached, returns the copywriter's script with the reasons in
`Script.notes`, which script.json keeps. A custom script never goes to the model.

The registry builds these writers by name through the factories at the bottom: `smollm2`
(the embedded CPU model), `TransformersWriter` (any local model) and `openai` (a served model).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Protocol

from models.base import Script, ScriptBrief, ScriptWriter
from models.script.llm.openai_drafter import OpenAIChatDrafter
from models.script.llm.prompt import LLMError, ScriptRejected
from models.script.llm.transformers_drafter import (
    TransformersDrafter,
    smollm2_gguf,
    transformers_requirements,
)
from models.script.shots import plan_shots

RETRY_TEMPERATURE_SCALE = 0.75  # a cooler second draft strays less from the format
SEED_STRIDE = 1_000_003  # the retry's seed must not be another job's first seed


class Drafter(Protocol):
    """An unguarded LLM writer: TransformersDrafter or OpenAIChatDrafter."""

    name: str
    temperature: float

    def write(self, brief: ScriptBrief, *, phases: tuple[str, ...] | None = None,
              seed: int | None = None, temperature: float | None = None) -> Script: ...

    def plan_shots(self, brief: ScriptBrief, script: Script, *, seed: int) -> tuple: ...


class GuardedScriptWriter:
    """LLM draft, one retry, then the template copywriter; reasons recorded in the notes."""

    def __init__(self, llm: Drafter, *, fallback: ScriptWriter | None = None) -> None:
        self.llm = llm
        self.name = llm.name
        self._fallback = fallback

    @property
    def fallback(self) -> ScriptWriter:
        if self._fallback is None:
            from models.script.copywriter.writer import TemplateCopywriter  # deferred: tests may inject one

            self._fallback = TemplateCopywriter()
        return self._fallback

    def write(self, brief: ScriptBrief) -> Script:
        planned = self.fallback.write(brief)
        if brief.custom_script:
            return planned
        phases = tuple(segment.phase for segment in planned.segments)
        rejections: list[str] = []
        for seed, temperature in self.attempts(brief):
            try:
                script = self.llm.write(brief, phases=phases, seed=seed, temperature=temperature)
            except ScriptRejected as exc:
                rejections.append("; ".join(exc.reasons))
                continue
            except LLMError as exc:
                rejections.append(f"model unavailable: {exc}")
                break
            retried = (f"llm retry: {rejections[0]}",) if rejections else ()
            shots, shot_notes = self.shots_for(brief, script, seed=seed)
            return replace(script, notes=(*retried, *script.notes, *shot_notes), shots=shots)
        return replace(planned, notes=(fallback_note(rejections), *planned.notes))

    def shots_for(self, brief: ScriptBrief, script: Script, *,
                  seed: int) -> tuple[tuple, tuple[str, ...]]:
        """The model's shot plan for its script when it passes validation; otherwise the
        copywriter's plan of the same script, with the reason in a note."""
        try:
            return self.llm.plan_shots(brief, script, seed=seed), ()
        except ScriptRejected as exc:
            reason = "; ".join(exc.reasons)
        except LLMError as exc:
            reason = f"model unavailable: {exc}"
        fallback = plan_shots(script.segments, product_name=brief.product_name,
                              selling_points=brief.selling_points, seed=brief.seed)
        return fallback, (f"shot plan fallback: {reason}",)

    def attempts(self, brief: ScriptBrief) -> list[tuple[int, float]]:
        """(seed, temperature) of the first draft and of the retry."""
        retry_seed = (brief.seed * SEED_STRIDE + 1) % 2**32
        return [(brief.seed, self.llm.temperature),
                (retry_seed, round(self.llm.temperature * RETRY_TEMPERATURE_SCALE, 3))]


def fallback_note(rejections: list[str]) -> str:
    """e.g. "llm fallback: segment 2 is cut off; retry: product name missing"."""
    return "llm fallback: " + "; retry: ".join(rejections)


# --- factories the registry names ---------------------------------------------------------

def smollm2_writer(*, device: str = "auto", temperature: float = 0.4,
                   repetition_penalty: float = 1.1) -> GuardedScriptWriter:
    """The embedded SmolLM2-135M-Instruct (Q4_1 GGUF), tuned for format over flair."""
    return GuardedScriptWriter(TransformersDrafter(
        smollm2_gguf(), name="smollm2", device=device, temperature=temperature,
        repetition_penalty=repetition_penalty))


class TransformersWriter(GuardedScriptWriter):
    """`transformers` in a profile: any local instruct model (safetensors directory or .gguf)."""

    def __init__(self, *, model_path: str, name: str | None = None, device: str = "auto",
                 max_new_tokens: int = 400, temperature: float = 0.7, top_p: float = 0.95,
                 repetition_penalty: float = 1.05) -> None:
        super().__init__(TransformersDrafter(
            Path(model_path), name=name, device=device, max_new_tokens=max_new_tokens,
            temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty))

    @classmethod
    def check_requirements(cls, *, model_path: str | None = None, device: str = "auto",
                           name: str | None = None, max_new_tokens: int = 400,
                           temperature: float = 0.7, top_p: float = 0.95,
                           repetition_penalty: float = 1.05) -> list[str]:
        """What is missing to load the model (same options as the constructor); sampling
        options need nothing and are checked when the writer is built."""
        return transformers_requirements(model_path, device=device)


def openai_writer(*, base_url: str, model: str, api_key_env: str | None = None,
                  timeout_s: float = 60.0, max_retries: int = 2,
                  temperature: float = 0.7) -> GuardedScriptWriter:
    """A model served behind an OpenAI-compatible chat endpoint (vLLM, TGI)."""
    return GuardedScriptWriter(OpenAIChatDrafter(
        base_url, model, api_key_env=api_key_env, timeout_s=timeout_s, max_retries=max_retries,
        temperature=temperature))
