"""scripts/check_gpu_profile.py with tiny random weights on the CPU: the same code path the
GPU machine runs with real-size ones."""

from __future__ import annotations

import importlib.util
import json

from scripts.check_gpu_profile import main


def test_the_gpu_profile_check_renders_a_short_draft_job_on_tiny_weights_and_reports(
        tmp_path, capsys):
    out = tmp_path / "check"
    code = main(["--tiny", "--device", "cpu", "--segments", "2", "--duration", "3",
                 "--resolution", "draft", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "profile gpu-check.yaml: every backend has what it needs" in printed
    for line in ("stage ", "generation ", "lip-sync: ", "warm-up: ", "GPU memory peak: n/a"):
        assert line in printed, line
    if importlib.util.find_spec("TTS") is None:
        assert "voice: skipped Coqui XTTS (coqui-tts is not installed here)" in printed
    result = json.loads((out / "check.json").read_text())
    report = result["report"]
    assert result["size"] == "tiny" and result["device"] == "cpu"
    assert report["video_duration_s"] >= 6.0 and report["frames"] >= 180
    assert report["profile"]["animator"]["backend"] == "musetalk"
    assert report["cutout_method"] == "segmentation"
    assert set(report["stages"]) >= {"prepare", "agents", "init", "generation", "complete"}
    assert all(stage["wall_s"] >= 0 for stage in report["stages"].values())
    assert result["lipsync"]["fps"] > 0 and result["lipsync"]["dtype"] == "float32"
    assert {"animator", "cutout"} <= set(result["warm_up_s"])
