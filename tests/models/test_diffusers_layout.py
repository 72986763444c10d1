"""The strict diffusers-folder loader: what an incomplete folder says, and what counts as wrong."""

from __future__ import annotations

import json

import pytest

from models.diffusers_layout import (
    LayoutError,
    RuntimeOptions,
    loading_problems,
    missing_parts,
    pipeline_dtype,
    read_model_index,
)

PARTS = {"transformer": ("diffusers", "WanTransformer3DModel"),
         "tokenizer": ("transformers", "T5TokenizerFast"),
         "scheduler": ("diffusers", "UniPCMultistepScheduler")}


def _index(root, **extra):
    root.mkdir(parents=True, exist_ok=True)
    body = {"_class_name": "WanImageToVideoPipeline", **{k: list(v) for k, v in PARTS.items()},
            "transformer_2": [None, None], **extra}
    (root / "model_index.json").write_text(json.dumps(body))


def test_a_folder_without_model_index_json_is_named_as_not_a_pipeline(tmp_path):
    with pytest.raises(LayoutError, match=str(tmp_path / "model_index.json")):
        read_model_index(tmp_path)


def test_model_index_lists_components_and_leaves_out_the_absent_ones(tmp_path):
    _index(tmp_path, boundary_ratio=None)
    assert read_model_index(tmp_path) == PARTS


def test_each_missing_folder_config_or_weight_file_is_named_with_its_path(tmp_path):
    _index(tmp_path)
    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text("{}")
    (tmp_path / "scheduler").mkdir()
    problems = missing_parts(tmp_path, PARTS, ("transformer", "tokenizer", "scheduler", "vae"))
    assert problems == [
        f"{tmp_path / 'transformer'} has no weights (diffusion_pytorch_model.safetensors or "
        "model.safetensors)",
        f"{tmp_path / 'tokenizer'} is missing (T5TokenizerFast)",
        f"{tmp_path / 'scheduler'} has no configuration file (config.json, "
        "scheduler_config.json, tokenizer_config.json, preprocessor_config.json)",
        f"{tmp_path / 'model_index.json'} names no 'vae' component"]


def test_a_complete_folder_has_nothing_missing(tmp_path):
    _index(tmp_path)
    for name, config in (("transformer", "config.json"), ("tokenizer", "tokenizer_config.json"),
                         ("scheduler", "scheduler_config.json")):
        (tmp_path / name).mkdir()
        (tmp_path / name / config).write_text("{}")
    (tmp_path / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    assert missing_parts(tmp_path, PARTS, tuple(PARTS)) == []


def test_loading_info_with_missing_unexpected_or_mismatched_keys_is_a_problem():
    info = {"missing_keys": {"blocks.0.attn.to_q.weight"}, "unexpected_keys": [],
            "mismatched_keys": [("proj_out.weight", (4, 2), (8, 2))], "error_msgs": []}
    problems = loading_problems(info)
    assert problems[0] == "1 missing keys (blocks.0.attn.to_q.weight)"
    assert problems[1].startswith("1 mismatched keys (('proj_out.weight'")
    assert loading_problems({"missing_keys": [], "unexpected_keys": set()}) == []


def test_offload_must_be_none_model_or_sequential():
    with pytest.raises(ValueError, match="offload must be one of none, model, sequential"):
        RuntimeOptions(offload="disk")


def test_pipelines_run_in_bfloat16_on_cuda_and_float32_on_the_cpu():
    assert pipeline_dtype("cuda:0") == "bfloat16"
    assert pipeline_dtype("cpu") == "float32"
    with pytest.raises(ValueError, match="needs a CUDA device"):
        pipeline_dtype("cpu", "bf16")
