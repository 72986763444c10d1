"""LLM script writers: an unguarded Drafter wrapped in a guard with the copywriter as fallback.

    guarded.py               GuardedScriptWriter, TransformersWriter, smollm2_writer, openai_writer
    transformers_drafter.py  TransformersDrafter: GGUF or safetensors through transformers (torch lazily)
    openai_drafter.py        OpenAIChatDrafter: any OpenAI-compatible endpoint
    prompt.py                messages, worked examples, reply parsing (DrafterBase)
    guard.py                 every problem a draft can have, named
"""

from models.script.llm.guarded import (
                                       Drafter,
                                       GuardedScriptWriter,
                                       TransformersWriter,
                                       openai_writer,
                                       smollm2_writer,
)
from models.script.llm.openai_drafter import OpenAIChatDrafter
from models.script.llm.transformers_drafter import TransformersDrafter

__all__ = ["Drafter", "GuardedScriptWriter", "OpenAIChatDrafter", "TransformersDrafter",
           "TransformersWriter", "openai_writer", "smollm2_writer"]
