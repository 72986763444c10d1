"""Real draft renders whose voice is Coqui XTTS (tiny random weights, written by the tests)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.coqui

from engine.catalog import Catalog  # noqa: E402
from engine.settings import REPO_ROOT, Settings  # noqa: E402
from engine.spec import parse_job  # noqa: E402
from models.registry import Registry  # noqa: E402


def _probe(path) -> dict[str, float]:
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60).stdout)
    return {s["codec_type"]: float(s["duration"]) for s in probe["streams"]}


def test_a_draft_render_speaks_with_xtts_and_its_words_are_timed_in_order(tmp_path):
    from models.voice.coqui.tiny import write_random_xtts
    from pipelines.render import RenderPipeline

    models = tmp_path / "models"
    write_random_xtts(models / "xtts")
    profile = yaml.safe_load((REPO_ROOT / "configs" / "profiles" / "cpu.yaml").read_text())
    profile.update(device="cpu", voice={"backend": "coqui", "options": {"model_dir": "xtts"}})
    (tmp_path / "coqui.yaml").write_text(yaml.safe_dump(profile))
    settings = Settings(cache_dir=tmp_path / "cache", work_root=tmp_path, models_dir=models)
    registry = Registry.from_settings(settings, profile=str(tmp_path / "coqui.yaml"))
    assert registry.requirements() == []
    pipeline = RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                              settings=settings)
    job = parse_job({"product_name": "Espresso Cups", "video_resolution": "draft",
                     "product_image_url": str(REPO_ROOT / "configs/jobs/espresso_cup.png"),
                     "segment_count": 2, "segment_duration": 3, "music_enabled": False})
    result = pipeline.run(job, out_dir=tmp_path / "out", allow_local_files=True)

    script = json.loads(result.artifacts["script.json"].read_text())
    durations = _probe(result.artifacts["final.mp4"])
    # Every persona's voice is derived from Joe: XTTS clones Joe, then the same transform runs.
    assert script["voice_backend"] == "coqui-xtts/dtw+praat-change-gender"
    assert abs(durations["audio"] - durations["video"]) <= 1 / 30
    words = script["words"]
    assert [w["text"] for w in words] == [t for s in script["segments"] for t in s["text"].split()]
    assert all(0.0 <= w["start_s"] < w["end_s"] <= durations["video"] for w in words)
    assert all(a["end_s"] <= b["start_s"] for a, b in zip(words, words[1:]))
    for segment in script["segments"]:  # each segment's words inside its spoken span
        spoken = [w for w in words if segment["start_s"] <= w["start_s"] <= segment["end_s"]]
        assert len(spoken) == len(segment["text"].split())


FRENCH = "Bonjour à tous ! Ces tasses gardent mon café bien chaud. Elles sont légères et élégantes."


def _french_pipeline(tmp_path, *, aligner: bool):
    from models.voice.coqui.tiny import write_random_aligner, write_random_xtts
    from pipelines.render import RenderPipeline

    models = tmp_path / "models"
    write_random_xtts(models / "xtts", languages=("en", "fr"))
    options = {"model_dir": "xtts"}
    if aligner:
        write_random_aligner(models / "mms-fa")
        options["aligner_dir"] = "mms-fa"
    profile = yaml.safe_load((REPO_ROOT / "configs" / "profiles" / "cpu.yaml").read_text())
    profile.update(device="cpu", voice={"backend": "coqui", "options": options})
    (tmp_path / "coqui.yaml").write_text(yaml.safe_dump(profile))
    settings = Settings(cache_dir=tmp_path / "cache", work_root=tmp_path, models_dir=models)
    registry = Registry.from_settings(settings, profile=str(tmp_path / "coqui.yaml"))
    return RenderPipeline(registry=registry, catalog=Catalog(settings.configs_dir),
                          settings=settings), registry


def _french_job():
    return parse_job({"product_name": "Tasses Espresso", "video_resolution": "draft",
                      "product_image_url": str(REPO_ROOT / "configs/jobs/espresso_cup.png"),
                      "segment_count": 2, "segment_duration": 4, "music_enabled": False,
                      "custom_script": FRENCH, "voice_settings": {"language": "fr"}})


def test_a_french_draft_render_speaks_french_with_xtts_and_the_aligner_times_its_words(tmp_path):
    pipeline, registry = _french_pipeline(tmp_path, aligner=True)
    assert registry.requirements() == []
    result = pipeline.run(_french_job(), out_dir=tmp_path / "out", allow_local_files=True)

    script = json.loads(result.artifacts["script.json"].read_text())
    durations = _probe(result.artifacts["final.mp4"])
    assert script["voice_backend"] == "coqui-xtts/ctc+praat-change-gender"
    assert abs(durations["audio"] - durations["video"]) <= 1 / 30
    words = script["words"]
    assert [w["text"] for w in words] == FRENCH.split()
    # French sets "!" apart: a written word with nothing to say, timed as a pause (here none)
    spoken = [w for w in words if any(c.isalpha() for c in w["text"])]
    assert len(spoken) == len(words) - 1
    assert all(0.0 <= w["start_s"] < w["end_s"] <= durations["video"] for w in spoken)
    assert all(0.0 <= w["start_s"] <= w["end_s"] <= durations["video"] for w in words)
    assert all(a["end_s"] <= b["start_s"] for a, b in zip(words, words[1:]))
    for segment in script["segments"]:
        spoken = [w for w in words if segment["start_s"] <= w["start_s"] <= segment["end_s"]]
        assert len(spoken) == len(segment["text"].split())
    vtt = result.artifacts["captions.vtt"].read_text(encoding="utf-8")
    assert "légères" in vtt and "café" in vtt


def test_without_the_aligner_a_french_job_fails_validation_listing_what_xtts_can_time(tmp_path):
    from engine.errors import LanguageUnsupported

    pipeline, _ = _french_pipeline(tmp_path, aligner=False)
    with pytest.raises(LanguageUnsupported) as caught:
        pipeline.run(_french_job(), out_dir=tmp_path / "out", allow_local_files=True)
    assert caught.value.code == "LANGUAGE_UNSUPPORTED"
    assert caught.value.details["supported"] == ["en"]
    assert not (tmp_path / "out" / "final.mp4").exists()
