"""ugen-enqueue takes the callback secret from the environment or a file, never from argv."""

from __future__ import annotations

import json

import pytest

from engine.worker.enqueue import _args, build_job

SPEC = {"product_name": "Cups", "product_image_url": "https://example.com/c.png", "segment_count": 1}


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "job.json"
    path.write_text(json.dumps(SPEC))
    return path


def test_the_secret_comes_from_the_file_the_flag_names(spec, tmp_path, monkeypatch):
    monkeypatch.delenv("UGEN_CALLBACK_SECRET", raising=False)
    (tmp_path / "secret").write_text("from-a-file\n")
    job = build_job(_args([str(spec), "--callback-secret-file", str(tmp_path / "secret")]))
    assert job["delivery"]["callback_secret"] == "from-a-file"


def test_the_secret_in_the_environment_wins_over_the_file(spec, tmp_path, monkeypatch):
    (tmp_path / "secret").write_text("from-a-file")
    monkeypatch.setenv("UGEN_CALLBACK_SECRET", "from-the-environment")
    monkeypatch.setenv("UGEN_CALLBACK_SECRET_FILE", str(tmp_path / "secret"))
    assert build_job(_args([str(spec)]))["delivery"]["callback_secret"] == "from-the-environment"


def test_a_secret_on_the_command_line_is_refused(spec, capsys):
    with pytest.raises(SystemExit) as exited:
        _args([str(spec), "--callback-secret", "hunter2"])
    assert exited.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
