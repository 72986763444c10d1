"""The lip-sync benchmark's CPU smoke run: tiny random release, table printed, JSON written."""

from __future__ import annotations

import importlib.util
import json

from engine.settings import REPO_ROOT


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_lipsync",
                                                  REPO_ROOT / "scripts" / "bench_lipsync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tiny_cpu_smoke_run_prints_a_row_per_batch_size_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = _bench_module().main(["--tiny", "--device", "cpu", "--batch-sizes", "1,2",
                                 "--iters", "1", "--warmup", "1", "--crop", "128",
                                 "--out", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    assert [row["batch"] for row in result["rows"]] == [1, 2]
    assert all(row["fps"] > 0 and not row["compile"] for row in result["rows"])
    assert result["device_name"] == "cpu" and result["dtype"] == "fp32" and result["tiny"]
    assert result["audio_s_per_30s"] > 0
    printed = capsys.readouterr().out
    assert "lip-sync stage on cpu" in printed and "audio features:" in printed
