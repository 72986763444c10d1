"""The `agents` stage: a script sized to the video, from whichever writer the profile names.

    script = write_script(spec, writer=registry.script_writer())
    [s.text for s in script.segments]     # one entry per segment
"""

from __future__ import annotations

from dataclasses import replace

from engine.errors import InvalidJobSpec, ScriptTooLong
from engine.spec import JobSpec
from models.base import Script, ScriptBrief, ScriptTooLongError, ScriptTooShortError, ScriptWriter
from models.script.shots import plan_shots, validate_plan

# A natural UGC speaking rate for the bundled voices at speed 1.0.
WORDS_PER_SECOND = 2.5


def brief_for(spec: JobSpec) -> ScriptBrief:
    custom = spec.custom_script
    return ScriptBrief(
        product_name=spec.product_name,
        segment_count=spec.segment_count,
        segment_duration_s=float(spec.segment_duration),
        structure=spec.script_structure,
        tone=spec.script_tone,
        selling_points=() if custom else tuple(spec.key_selling_points),
        cta_text=None if custom else spec.cta_text,
        environment=spec.environment_description,
        custom_script=custom,
        words_per_second=WORDS_PER_SECOND * spec.voice_settings.speed,
        seed=spec.seed,
        language=spec.voice_settings.language,
    )


def write_script(spec: JobSpec, *, writer: ScriptWriter) -> Script:
    """The writer's script with a shot plan that can be cut: the writer's own when it passes
    `validate_plan`, otherwise the copywriter's plan of the same script (with a note)."""
    brief = brief_for(spec)
    return with_valid_shots(_write(spec, brief, writer), brief)


def with_valid_shots(script: Script, brief: ScriptBrief) -> Script:
    problems = validate_plan(script.shots, script.segments) if script.shots else ["no shot plan"]
    if not problems:
        return script
    plan = plan_shots(script.segments, product_name=brief.product_name,
                      selling_points=brief.selling_points, seed=brief.seed)
    note = f"shot plan fallback: {'; '.join(problems)}"
    return replace(script, shots=plan, notes=(*script.notes, note) if script.shots else script.notes)


def _write(spec: JobSpec, brief: ScriptBrief, writer: ScriptWriter) -> Script:
    try:
        return writer.write(brief)
    except ScriptTooShortError as exc:
        raise InvalidJobSpec(
            f"custom_script has {exc.words} words, fewer than segment_count {exc.segments}",
            details={"detail": [{"type": "value_error", "loc": ["body", "custom_script"],
                                 "msg": str(exc), "input": spec.custom_script}]},
        ) from None
    except ScriptTooLongError as exc:
        raise ScriptTooLong(
            f"script does not fit {spec.segment_count} x {spec.segment_duration} s: {exc}",
            details={"segment_count": spec.segment_count, "segment_duration": spec.segment_duration,
                     "words": exc.words, "budget_words": exc.budget},
        ) from None
