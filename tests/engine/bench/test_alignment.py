"""scripts/measure_alignment.py on a random aligner: the code path the real weights will run."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.coqui


def test_the_alignment_measurement_runs_and_reports_each_rate(tmp_path, capsys, monkeypatch):
    from engine.bench.alignment import TEXTS, main
    from models.voice.coqui.tiny import write_random_aligner

    monkeypatch.setenv("UGEN_CACHE_DIR", str(tmp_path / "cache"))
    aligner = write_random_aligner(tmp_path / "mms-fa")
    assert main(["--aligner-dir", str(aligner), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "speed  boundaries  median ms" in printed
    result = json.loads((tmp_path / "out" / "alignment.json").read_text())
    assert [row["speed"] for row in result["rates"]] == [0.8, 1.0, 1.25]
    words = sum(len(text.split()) for text in TEXTS)
    assert result["all"]["boundaries"] == 2 * 3 * words
    assert all(row["worst_ms"] >= row["p90_ms"] >= row["median_ms"] >= 0 for row in result["rates"])


def test_missing_weights_name_the_fetch_command(tmp_path, capsys):
    from engine.bench.alignment import main

    assert main(["--aligner-dir", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 1
    assert "fetch_models.py --aligner" in capsys.readouterr().out
