"""Script writers: the `ScriptWriter` protocol's backends.

    copywriter/   TemplateCopywriter: deterministic phrase templates, the CPU default and the fallback
                  (writer.py; plan.py phases per segment, fit.py word budgets, language.py, phrases.py)
    llm/          GuardedScriptWriter around an LLM Drafter (transformers_drafter.py,
                  openai_drafter.py), with prompt.py, guard.py and shot_plan.py (the model's shots)
    shots.py      the shot plan: PlannedShot, the copywriter's planner, validation, the timeline
"""

from models.script.copywriter import TemplateCopywriter
from models.script.llm import GuardedScriptWriter, TransformersWriter, openai_writer, smollm2_writer

__all__ = ["GuardedScriptWriter", "TemplateCopywriter", "TransformersWriter", "openai_writer",
           "smollm2_writer"]
