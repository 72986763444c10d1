"""Video models: the rendering tiers listed as U-Gen's models (a bare array), and `video_model`
on a job checked against them."""

from __future__ import annotations

from api.video_models import video_models
from engine.settings import REPO_ROOT
from models.registry import Registry
from tests.api.support import job_body


def test_the_models_are_a_bare_array_of_the_three_rendering_tiers_with_capabilities_and_credits(account):
    listed = account.client.get("/api/v1/models")
    assert listed.status_code == 200
    models = listed.json()
    assert [m["id"] for m in models] == ["cpu", "gpu", "gpu-generative"]
    cpu, gpu, generative = models
    assert (cpu["is_default"], gpu["is_default"], cpu["status"]) == (True, False, "available")
    assert cpu["capabilities"]["supported_aspect_ratios"] == ["9:16", "16:9", "1:1"]
    assert cpu["capabilities"]["supported_durations"] == list(range(3, 11))
    assert (cpu["capabilities"]["needs_gpu"], gpu["capabilities"]["needs_gpu"]) == (False, True)
    assert (cpu["backends"]["animator"], gpu["backends"]["animator"]) == ("viseme", "musetalk")
    assert (generative["capabilities"]["generated_keyframes"], cpu["capabilities"]["generated_keyframes"]) == (True, False)
    assert cpu["credits"]["video_per_second"] == {"draft": 1, "hd": 2, "standard": 3}
    assert cpu["description"].startswith("The default profile")


def test_one_model_is_read_by_id_and_an_unknown_one_is_404(account):
    assert account.client.get("/api/v1/models/gpu").json()["backends"]["voice"] == "coqui"
    missing = account.client.get("/api/v1/models/veo3")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_a_job_names_a_tier_in_video_model_and_an_unknown_one_is_422_model_not_found(account):
    created = account.client.post("/api/v1/jobs", json=job_body(video_model="gpu-generative"))
    assert created.status_code == 201 and created.json()["config"]["video_model"] == "gpu-generative"
    refused = account.client.post("/api/v1/jobs", json=job_body(video_model="kling3_std"))
    assert refused.status_code == 422
    [item] = refused.json()["detail"]
    assert (item["type"], item["loc"], item["input"]) == ("model_not_found", ["body", "video_model"], "kling3_std")
    estimate = account.client.post("/api/v1/credits/estimate", json=job_body(video_model="kling3_std"))
    assert estimate.status_code == 422


def test_every_listed_tier_is_a_profile_the_worker_reads_with_the_same_backends():
    for model in video_models(REPO_ROOT / "configs"):
        registry = Registry.from_profile(REPO_ROOT / "configs" / "profiles" / f"{model.id}.yaml", cache_dir=REPO_ROOT)
        assert {k: v for k, v in model.backends.items() if k != "encoder"} == registry.backends, model.id
