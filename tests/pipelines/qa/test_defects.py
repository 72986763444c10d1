"""The QA gate on real draft renders: clean, every check passes; each defect fails its own check.

One clean draft is rendered for the module; file defects (muted or shifted audio, frozen or
black frames, a wrong size, no faststart) are injected into copies of its final.mp4 with
ffmpeg and only the QA runs on them. Input defects (the mouth frozen shut, the product gone,
captions the colour of their outline) need a render of their own, with the gate off.
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from engine.spec import parse_job
from models.persona.viseme import animator as viseme_animator
from models.persona.viseme.track import mouth_track
from pipelines import render as render_module
from pipelines.compose.product_use import product_rgba
from pipelines.encode.ffmpeg import run_ffmpeg
from pipelines.product import load_product
from pipelines.qa import QaInputs, run_qa
from tests.conftest import JOBS, render

pytestmark = pytest.mark.integration

STANDARD = 0.70
JOB = {"product_image_url": str(JOBS / "espresso_cup.png"), "video_resolution": "draft",
       "segment_count": 2, "segment_duration": 4, "product_name": "Espresso Cups",
       "qai_mode": "standard", "seed": 3}
X264 = ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-colorspace", "bt709",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


@pytest.fixture(scope="module")
def cutout(pipeline):
    return product_rgba(load_product(JOB["product_image_url"], limits=pipeline.settings.fetch,
                                     allow_local_files=True, cutout=pipeline.registry.cutout()))


@pytest.fixture(scope="module")
def clean(pipeline, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    render(pipeline, out, **JOB)
    return out


def _qa(pipeline, out, cutout, video=None, **fields):
    spec = parse_job({**JOB, **fields})
    return run_qa(QaInputs(video=video or out / "final.mp4", script=out / "script.json",
                           cutout_rgba=cutout, spec=spec, configs=pipeline.catalog.root))


def _failing(report) -> dict[str, list[str]]:
    return {c.name: c.failing(STANDARD) for c in report.checks if c.score < STANDARD}


def _inject(clean, tmp_path, name: str, args: list[str]):
    target = tmp_path / name
    run_ffmpeg(["-i", str(clean / "final.mp4"), *args, "-movflags", "+faststart", str(target)],
               timeout_s=120)
    return target


def test_the_clean_draft_passes_every_check_at_standard(pipeline, clean, cutout):
    report = _qa(pipeline, clean, cutout)
    assert _failing(report) == {}
    assert report.passed and report.score >= STANDARD


def test_the_render_writes_qa_json_and_its_summary_in_the_report(clean):
    import json

    qa = json.loads((clean / "qa.json").read_text())
    summary = json.loads((clean / "report.json").read_text())["qa"]
    assert set(qa["checks"]) == {"conformance", "picture", "persona", "product", "captions"}
    assert qa["verdict"] == "passed" and qa["retries_used"] == 0 and qa["mode"] == "standard"
    assert summary["score"] == qa["score"] and summary["threshold"] == 0.70
    assert json.loads((clean / "report.json").read_text())["stages"]["complete"]["qa_wall_s"] > 0


def test_muted_audio_fails_the_loudness_of_the_conformance_check(pipeline, clean, cutout, tmp_path):
    video = _inject(clean, tmp_path, "muted.mp4", ["-c:v", "copy", "-af", "volume=0", "-c:a", "aac"])
    failing = _failing(_qa(pipeline, clean, cutout, video))
    assert "loudness" in failing["conformance"]


def test_audio_300_ms_late_fails_the_lip_lag_of_the_persona_check(pipeline, clean, cutout, tmp_path):
    video = _inject(clean, tmp_path, "late.mp4", [
        "-c:v", "copy", "-af", "adelay=300:all=1,atrim=end=8", "-c:a", "aac", "-ar", "48000"])
    report = _qa(pipeline, clean, cutout, video)
    failing = _failing(report)
    assert "lip_lag" in failing["persona"]
    persona = next(c for c in report.checks if c.name == "persona")
    assert 0.2 <= persona.figures["sync_lag_s"] <= 0.4
    assert "conformance" not in failing  # same durations and loudness: only the sync is off


def test_two_seconds_of_frozen_video_fail_the_picture_check(pipeline, clean, cutout, tmp_path):
    video = _inject(clean, tmp_path, "frozen.mp4", [
        "-filter_complex", "[0:v]split[a][b];[a][b]freezeframes=first=15:last=75:replace=15[v]",
        "-map", "[v]", "-map", "0:a", *X264, "-c:a", "copy"])
    report = _qa(pipeline, clean, cutout, video)
    assert "frozen" in _failing(report)["picture"]
    picture = next(c for c in report.checks if c.name == "picture")
    assert picture.figures["longest_frozen_s"] >= 1.5


def test_black_frames_fail_the_picture_check(pipeline, clean, cutout, tmp_path):
    video = _inject(clean, tmp_path, "black.mp4", [
        "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,2.5,3.0)'",
        *X264, "-c:a", "copy"])
    assert "black" in _failing(_qa(pipeline, clean, cutout, video))["picture"]


def test_a_wrong_frame_size_fails_the_conformance_check(pipeline, clean, cutout, tmp_path):
    video = _inject(clean, tmp_path, "small.mp4", ["-vf", "scale=352:624", *X264, "-c:a", "copy"])
    assert "size" in _failing(_qa(pipeline, clean, cutout, video))["conformance"]


def test_a_file_without_faststart_fails_the_conformance_check(pipeline, clean, cutout, tmp_path):
    video = tmp_path / "slow.mp4"
    run_ffmpeg(["-i", str(clean / "final.mp4"), "-c", "copy", str(video)], timeout_s=60)
    failing = _failing(_qa(pipeline, clean, cutout, video))
    assert failing == {"conformance": ["faststart"]}


def _with_script(pipeline, clean, cutout, tmp_path, edit):
    """QA of the clean file against its script.json changed by `edit(doc)`."""
    import json

    doc = json.loads((clean / "script.json").read_text())
    edit(doc)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(doc))
    return run_qa(QaInputs(video=clean / "final.mp4", script=script, cutout_rgba=cutout,
                           spec=parse_job(JOB), configs=pipeline.catalog.root))


def test_a_plan_without_product_boxes_is_not_failed_for_them_as_the_generative_tier_writes_it(
        pipeline, clean, cutout, tmp_path):
    """The generative tier's shots carry no boxes: its keyframe model places the product."""
    def unboxed(doc):
        doc["shots"] = [{k: v for k, v in shot.items() if not k.endswith("_box")
                         and k != "product_box_end"} for shot in doc["shots"]]

    report = _with_script(pipeline, clean, cutout, tmp_path, unboxed)
    product = next(c for c in report.checks if c.name == "product")
    assert product.criteria == {} and product.figures["boxes_in_plan"] is False
    assert _failing(report) == {}


def test_a_script_without_a_shot_plan_fails_persona_and_product_rather_than_passing_unseen(
        pipeline, clean, cutout, tmp_path):
    report = _with_script(pipeline, clean, cutout, tmp_path, lambda doc: doc.pop("shots"))
    failing = _failing(report)
    assert (failing["persona"], failing["product"]) == (["shot_plan"], ["shot_plan"])
    assert not report.passed  # (the captions are looked for unshifted, and may fail too)


def _frozen_mouth(speech, *, fps, frame_count):
    track = mouth_track(speech, fps=fps, frame_count=frame_count)
    return dataclasses.replace(track, openness=np.zeros_like(track.openness))


def test_a_mouth_frozen_shut_fails_the_persona_check(pipeline, cutout, tmp_path, monkeypatch):
    monkeypatch.setattr(viseme_animator, "mouth_track", _frozen_mouth)
    render(pipeline, tmp_path, **JOB, qai_enabled=False)
    failing = _failing(_qa(pipeline, tmp_path, cutout))
    assert "lips_move" in failing["persona"]  # the gap stays within 1 % of the face width


def test_a_render_without_the_product_fails_the_product_check(pipeline, cutout, tmp_path,
                                                               monkeypatch):
    real = render_module.load_product

    def invisible(*args, **kwargs):
        found = real(*args, **kwargs)
        rgba = found.rgba.copy()
        rgba[:, :, 3] = np.minimum(rgba[:, :, 3], 1)  # same shape and box, nothing to see
        return dataclasses.replace(found, rgba=rgba)

    monkeypatch.setattr(render_module, "load_product", invisible)
    render(pipeline, tmp_path, **JOB, qai_enabled=False)
    report = _qa(pipeline, tmp_path, cutout)
    assert "visible" in _failing(report)["product"]
    product = next(c for c in report.checks if c.name == "product")
    assert max(product.figures["match_by_shot"].values()) < 0.25  # measured 0.06-0.21


def test_captions_the_colour_of_their_outline_fail_the_captions_check(pipeline, cutout, tmp_path):
    dark = {"text_colour": "#2A2A2A", "highlight_colour": "#3A3A10"}
    render(pipeline, tmp_path, **JOB, qai_enabled=False, custom_caption_options=dark)
    report = _qa(pipeline, tmp_path, cutout, custom_caption_options=dark)
    assert "contrast" in _failing(report)["captions"]
    captions = next(c for c in report.checks if c.name == "captions")
    assert captions.figures["contrast_p10"] < 2.0
