"""The gate's decision on real draft renders: a retry with a new seed, QA_FAILED with none left,
and `qai_enabled: false` reporting without failing. The defect (the mouth frozen shut) is put
into the persona's animation for chosen seeds only, so a retry's new seed renders it right."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engine.errors import QaFailed
from models.persona.viseme import animator as viseme_animator
from models.persona.viseme.animator import VisemeAnimator
from models.persona.viseme.track import mouth_track
from pipelines.qa.result import graded, yes_no
from tests.conftest import render

JOB = {"segment_count": 2, "segment_duration": 4, "qai_mode": "standard", "seed": 3}


def _frozen_mouth(speech, *, fps, frame_count):
    track = mouth_track(speech, fps=fps, frame_count=frame_count)
    return dataclasses.replace(track, openness=np.zeros_like(track.openness))


@pytest.fixture
def mouth_shut_for_seeds(monkeypatch):
    """Call with the seeds whose renders get a mouth that never opens."""
    shut: set[int] = set()
    real = VisemeAnimator.animate

    def animate(self, prepared, voice, *, seed, **options):
        monkeypatch.setattr(viseme_animator, "mouth_track",
                            _frozen_mouth if seed in shut else mouth_track)
        return real(self, prepared, voice, seed=seed, **options)

    monkeypatch.setattr(VisemeAnimator, "animate", animate)
    return shut.update


def test_a_figure_at_its_limit_scores_the_standard_threshold_and_a_span_better_scores_one():
    assert graded(0.5, limit=0.5, span=0.3) == 0.70
    assert graded(0.8, limit=0.5, span=0.3) == 1.0
    assert graded(0.35, limit=0.5, span=0.3) == 0.55  # half a span short: lenient still passes
    assert graded(2.0, limit=1.2, span=0.5, lower_is_better=True) == pytest.approx(0.22)
    assert graded(float("nan"), limit=0.5, span=0.3) == 0.0
    assert (yes_no(True), yes_no(False)) == (1.0, 0.0)


@pytest.mark.integration
def test_a_qa_failure_with_a_retry_left_renders_again_with_the_next_seed(
        pipeline, tmp_path, mouth_shut_for_seeds):
    mouth_shut_for_seeds({3})
    notices: list[str] = []
    result, events = render(pipeline, tmp_path, **JOB, max_retries_video=1, notices=notices)
    qa = json.loads((tmp_path / "qa.json").read_text())
    assert (qa["verdict"], qa["retries_used"], qa["seed"]) == ("passed", 1, 4)
    first, second = qa["tries"]
    assert "persona" in first["failing_checks"] and first["seed"] == 3
    assert second["passed"] and result.report["qa"]["retries_used"] == 1
    assert notices == [f"QA scored {first['score']:.2f}, under the standard threshold 0.70 "
                       f"(persona); rendering again with seed 4 (retry 1 of 1)"]
    stages = [stage for stage, _ in events]
    again = stages.index("agents", stages.index("complete"))  # the stages run a second time,
    assert "generation" in stages[again:] and "prepare" not in stages[again:]  # from agents on
    assert stages.count("prepare") == 2  # its start and its end, once: the cut-out is kept
    percents = [percent for _, percent in events]
    assert percents == sorted(percents)


@pytest.mark.integration
def test_with_no_retry_left_the_render_fails_with_qa_failed_listing_the_check_and_figures(
        pipeline, tmp_path, mouth_shut_for_seeds):
    mouth_shut_for_seeds({3, 4})
    with pytest.raises(QaFailed) as caught:
        render(pipeline, tmp_path, **JOB, max_retries_video=1)
    details = caught.value.details
    assert caught.value.code == "QA_FAILED" and details["retries_used"] == 1
    persona = details["failing_checks"]["persona"]
    assert persona["score"] < 0.70 and "lip_gap_range" in persona["figures"]
    assert not (tmp_path / "final.mp4").exists()


@pytest.mark.integration
def test_with_qai_disabled_a_failing_video_is_delivered_with_its_score_reported(
        pipeline, tmp_path, mouth_shut_for_seeds):
    mouth_shut_for_seeds({3})
    result, _ = render(pipeline, tmp_path, **JOB, qai_enabled=False)
    qa = json.loads((tmp_path / "qa.json").read_text())
    assert (qa["verdict"], qa["passed"], qa["retries_used"]) == ("not_gated", False, 0)
    assert result.report["qa"]["score"] == qa["score"] < 0.70
    assert (tmp_path / "final.mp4").is_file()
