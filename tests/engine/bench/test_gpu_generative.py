"""The generative tier's GPU check with tiny random weights on the CPU (the GPU runs it at full size)."""

from __future__ import annotations

import json

import pytest

from engine.bench.gpu_smoke import main

pytestmark = pytest.mark.integration
pytest.importorskip("diffusers")


def test_the_generative_check_times_keyframes_motion_and_lip_sync_and_projects_an_ad(
        tmp_path, capsys):
    out = tmp_path / "check"
    code = main(["--tier", "generative", "--tiny", "--device", "cpu", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "generative tier check (tiny random weights, device cpu)" in printed
    result = json.loads((out / "generative.json").read_text())
    assert result["size"] == "tiny" and result["steps"] == 3
    (run,) = result["runs"]
    assert run["dtype"] == "float32" and run["compile"] is False
    keyframe, motion, lipsync = run["keyframe"], run["motion"], run["lipsync"]
    assert keyframe["wall_s"] > 0 and keyframe["per_step_s"] >= 0 and keyframe["fixed_s"] >= 0
    assert (keyframe["width"], keyframe["height"]) == (64, 128)
    assert motion["frames"] == 25 and motion["fps"] == 24.0 and motion["s_per_video_s"] > 0
    assert lipsync["s_per_frame"] > 0 and keyframe["gpu_peak_gib"] is None
    projected = run["ad_30s_gpu_s"]
    assert projected["release"] >= projected["distilled"] > 0
