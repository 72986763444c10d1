"""End to end: a job POSTed over HTTP to a real API server, rendered by a real worker process
(Redis broker, SeaweedFS S3), its progress reported back signed, the result read with GET, and
the account's webhook receiving exactly one signed job.completed; driven with the typed client
(api/client.py) as a customer would. An uploaded music track travels from the API to the worker
and is measured in the final video's audio."""

from __future__ import annotations

import io
import re
import secrets
import time
import urllib.request
import wave

import numpy as np
import pytest

from api.client import Job, UGenClient, verify_webhook
from pipelines.encode.ffmpeg import decode_audio
from tests.api.support import ApiServer, WebhookReceiver

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3, worker processes, product image

pytestmark = pytest.mark.integration


def stages_seen(ugen: UGenClient, job_id: str, *, timeout_s: float) -> tuple[Job, list[tuple[str, str]]]:
    """The finished job, and each (status, stage) it was seen in while polling."""
    deadline, seen = time.monotonic() + timeout_s, []
    while time.monotonic() < deadline:
        job = ugen.get_job(job_id)
        if not seen or seen[-1] != (job.status, job.current_stage):
            seen.append((job.status, job.current_stage))
        if job.finished:
            return job, seen
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} not finished after {timeout_s} s; seen {seen}")


def test_a_job_posted_to_the_api_is_rendered_by_a_worker_and_reported_back_once(
        start_worker, product_url, bucket, new_database, api_logs, tmp_path):
    worker = start_worker()
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                    UGEN_QUEUE=worker.env["UGEN_QUEUE"]).start()
    hooks = WebhookReceiver(secrets.token_hex(32)).start()
    try:
        account = api.new_account(credits=1000)
        account.client.put("/api/v1/tenants/me/webhook", json={"webhook_url": hooks.url, "webhook_secret": hooks.secret})
        ugen = UGenClient(api.url, api_key=account.key)
        spec = {"product_name": "Espresso Cups", "product_image_url": product_url, "video_resolution": "draft",
                "segment_count": 2, "segment_duration": 3, "persona_id": "grace", "seed": 1}
        assert ugen.estimate(spec).total_credits == 70
        created = ugen.create_job(spec, idempotency_key="e2e-espresso")
        assert ugen.create_job(spec, idempotency_key="e2e-espresso").replayed
        job_id = created.job_id

        job, seen = stages_seen(ugen, job_id, timeout_s=240)
        assert job.status == "completed", (job, worker.log()[-3000:], api.log()[-3000:])
        assert ("processing", "generation") in seen
        assert (job.current_stage, job.progress_percent, job.error) == ("complete", 100, None)
        assert re.search(rf"/{bucket}/renders/{job_id}/[0-9a-f]{{32}}/final\.mp4$", job.final_video_url)
        lease_folder = job.final_video_url.rsplit("/", 2)[-2]
        assert job.thumbnail_url.rsplit("/", 2)[-2:] == [lease_folder, "thumbnail.jpg"]
        assert (job.width, job.height) == (360, 640) and 5.0 < job.duration_s < 7.0
        assert 0.55 <= job.qa_score <= 1.0
        video = urllib.request.urlopen(job.final_video_url, timeout=10).read()
        assert len(video) == job.size_bytes > 10_000 and video[4:8] == b"ftyp"
        assert 0 < job.credits_consumed <= 70 and job.credits_reserved == 0
        balance = account.client.get("/api/v1/credits/balance").json()
        assert balance == {"credit_balance": 1000 - job.credits_consumed, "credit_reserved": 0,
                           "available_credits": 1000 - job.credits_consumed}

        [delivery] = hooks.wait_for(1, timeout_s=15)
        payload = verify_webhook(hooks.secret, delivery.headers, delivery.raw)
        assert (payload["event"], payload["job_id"], payload["status"]) == ("job.completed", job_id, "completed")
        assert payload["final_video_url"] == job.final_video_url
        assert payload["credits_consumed"] == job.credits_consumed
        time.sleep(3)
        assert len(hooks.deliveries) == 1
        assert "Traceback" not in api.log() and "ERROR" not in api.log()
    finally:
        hooks.stop()
        api.stop()


def test_a_job_whose_video_fails_qa_after_its_retry_fails_with_qa_failed_on_the_job_object(
        start_worker, product_url, new_database, api_logs):
    worker = start_worker()
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                    UGEN_QUEUE=worker.env["UGEN_QUEUE"]).start()
    try:
        account = api.new_account(credits=1000)
        created = account.client.post("/api/v1/jobs", json={
            "product_name": "Espresso Cups", "product_image_url": product_url,
            "video_resolution": "draft", "segment_count": 2, "segment_duration": 3, "seed": 1,
            "custom_caption_options": {"text_colour": "#2A2A2A", "highlight_colour": "#3A3A10"}})
        assert created.status_code == 201, created.text
        job, _ = stages_seen(UGenClient(api.url, api_key=account.key), created.json()["job_id"], timeout_s=240)
        assert job.status == "failed", (job, worker.log()[-3000:])
        assert job.error["code"] == "QA_FAILED" and job.qa_score is None
        details = job.error["details"]
        assert details["retries_used"] == 1  # the default max_retries_video, a new seed each
        assert "contrast" in details["failing_checks"]["captions"]["failing"]
    finally:
        api.stop()


def tone_wav(freq_hz: float, seconds: float, rate: int = 48000) -> bytes:
    """A mono 16-bit WAV holding one sine tone."""
    samples = (0.5 * np.sin(2 * np.pi * freq_hz * np.arange(int(seconds * rate)) / rate) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def test_an_uploaded_music_track_is_fetched_by_the_worker_and_heard_in_the_final_video(
        start_worker, product_url, bucket, new_database, api_logs, tmp_path):
    tone_hz, rate = 5000.0, 48000
    worker = start_worker()
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                    UGEN_QUEUE=worker.env["UGEN_QUEUE"]).start()
    try:
        account = api.new_account(credits=1000)
        uploaded = account.client.post("/api/v1/music/custom", data={"title": "Test tone"},
                                       files={"file": ("tone.wav", tone_wav(tone_hz, 2.0), "audio/wav")})
        assert uploaded.status_code == 201, uploaded.text
        ugen = UGenClient(api.url, api_key=account.key)
        spec = {"product_name": "Espresso Cups", "product_image_url": product_url, "video_resolution": "draft",
                "segment_count": 1, "segment_duration": 3, "persona_id": "grace", "seed": 2,
                "custom_music_id": uploaded.json()["id"], "music_volume": 0.5}
        job, _ = stages_seen(ugen, ugen.create_job(spec).job_id, timeout_s=240)
        assert job.status == "completed", (job, worker.log()[-3000:], api.log()[-3000:])
        final = tmp_path / "final.mp4"
        final.write_bytes(urllib.request.urlopen(job.final_video_url, timeout=10).read())
        audio = decode_audio(final, sample_rate=rate, channels=1)[:, 0]
        spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) ** 2
        freqs = np.fft.rfftfreq(len(audio), 1 / rate)
        band = (freqs >= 3000) & (freqs <= 8000)  # above most of speech's energy
        assert abs(freqs[band][np.argmax(spectrum[band])] - tone_hz) < 2.0
        at_tone = spectrum[np.abs(freqs - tone_hz) < 5].sum()
        near = spectrum[(np.abs(freqs - tone_hz) < 5)].size
        tone_db = 10 * np.log10(at_tone / (spectrum[band & (np.abs(freqs - tone_hz) > 50)].mean() * near))
        assert tone_db > 20, f"the tone stands {tone_db:.1f} dB over the band around it"
        assert "Traceback" not in api.log()
    finally:
        api.stop()
