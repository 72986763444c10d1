"""Music: the catalog of beds, custom uploads (type and size caps, soft delete), and jobs that
name an uploaded track in `custom_music_id`, and the signed link the worker downloads it over;
through a real server on PostgreSQL."""

from __future__ import annotations

import io
import json
import subprocess
import time
import wave
from urllib.parse import parse_qs, urlsplit

import httpx
import imageio_ffmpeg
import numpy as np
import pytest

from api.dispatch import callback_secret
from api.music import CATALOG, LINK_TTL_S, MAX_BYTES, link_refusal, link_signature, music_link, sniff
from models.music.synth import MOODS, SynthMusic
from tests.api.support import ApiServer, job_body


def wav_bytes(seconds: float = 0.5, rate: int = 48000) -> bytes:
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes(tone.tobytes())
    return buffer.getvalue()


def encoded(data: bytes, fmt: str, codec: str) -> bytes:
    """`data` (a WAV) re-encoded by ffmpeg into `fmt`."""
    argv = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "wav", "-i", "pipe:0", "-c:a", codec,
            "-f", fmt, "pipe:1"]
    return subprocess.run(argv, input=data, capture_output=True, check=True, timeout=60).stdout


def upload(account, data: bytes, *, title: str = "Jingle", filename: str = "jingle.wav"):
    return account.client.post("/api/v1/music/custom", data={"title": title},
                               files={"file": (filename, data, "application/octet-stream")})


def test_the_catalog_is_a_bare_array_of_the_synths_beds_filtered_by_mood_and_tempo(account):
    tracks = account.client.get("/api/v1/music/catalog").json()
    assert sorted(t["mood"] for t in tracks) == sorted(MOODS)
    assert {"mood", "tempo", "energy_level", "bpm", "has_vocals", "artist", "tags"} <= set(tracks[0])
    [chill] = account.client.get("/api/v1/music/catalog", params={"mood": "chill"}).json()
    assert (chill["tempo"], chill["bpm"]) == ("slow", 84)
    assert [t["mood"] for t in account.client.get("/api/v1/music/catalog", params={"tempo": "fast"}).json()] == ["upbeat"]
    assert account.client.get("/api/v1/music/catalog", params={"mood": "sad"}).status_code == 422


def test_the_catalogs_tempi_are_the_synths_own():
    synth = SynthMusic()
    assert {t.mood: t.bpm for t in CATALOG} == {mood: synth._moods[mood].bpm for mood in MOODS}


@pytest.mark.parametrize(("fmt", "codec", "expected"), [("mp3", "libmp3lame", "mp3"), ("ogg", "libvorbis", "ogg"),
                                                        ("adts", "aac", "aac"), ("ipod", "aac", "m4a")])
def test_the_format_is_read_from_the_files_own_bytes(fmt, codec, expected):
    if fmt == "ipod":  # an MP4 container needs a seekable output: write it to a file
        pytest.importorskip("av")
    data = encoded(wav_bytes(), fmt, codec) if fmt != "ipod" else _m4a()
    assert sniff(data) == expected
    assert sniff(wav_bytes()) == "wav"
    assert sniff(b"<html>not audio</html>") is None and sniff(b"") is None


def _m4a() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "a.m4a"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "wav", "-i", "pipe:0", "-c:a", "aac",
                        str(out)], input=wav_bytes(), check=True, timeout=60)
        return out.read_bytes()


def test_an_uploaded_track_is_listed_newest_first_and_a_delete_hides_it(account):
    first = upload(account, wav_bytes(), title="First")
    assert first.status_code == 201, first.text
    track = first.json()
    assert (track["title"], track["format"], track["filename"], track["is_active"]) == ("First", "wav", "jingle.wav", True)
    assert track["size_bytes"] == len(wav_bytes())
    second = upload(account, encoded(wav_bytes(), "mp3", "libmp3lame"), title="Second", filename="b.mp3").json()
    assert second["format"] == "mp3"
    assert [t["title"] for t in account.client.get("/api/v1/music/custom").json()] == ["Second", "First"]
    assert account.client.delete(f"/api/v1/music/custom/{track['id']}").status_code == 204
    assert [t["id"] for t in account.client.get("/api/v1/music/custom").json()] == [second["id"]]
    again = account.client.delete(f"/api/v1/music/custom/{track['id']}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "NOT_FOUND"


def test_a_file_that_is_not_audio_is_415_and_one_over_20_mb_is_413_with_stable_codes(account):
    text = upload(account, b"#!/bin/sh\necho not music\n", filename="song.mp3")
    assert text.status_code == 415
    assert text.json()["error"]["code"] == "MUSIC_FORMAT_UNSUPPORTED"
    assert text.json()["error"]["details"]["accepted"] == ["mp3", "wav", "ogg", "aac", "m4a"]
    big = upload(account, wav_bytes()[:44] + bytes(MAX_BYTES))
    assert big.status_code == 413
    assert big.json()["error"] == {"code": "MUSIC_TOO_LARGE", "message": f"a music file may be at most {MAX_BYTES} bytes",
                                   "details": {"max_bytes": MAX_BYTES}}
    huge = upload(account, bytes(MAX_BYTES + 2 * 1024 * 1024))
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert account.client.get("/api/v1/music/custom").json() == []


def test_an_upload_without_a_title_or_file_is_422(account):
    no_title = account.client.post("/api/v1/music/custom", files={"file": ("a.wav", wav_bytes(), "audio/wav")})
    assert no_title.status_code == 422 and no_title.json()["detail"][0]["loc"] == ["body", "title"]
    no_file = account.client.post("/api/v1/music/custom", data={"title": "x"})
    assert no_file.status_code == 422 and no_file.json()["detail"][0]["loc"] == ["body", "file"]
    nul = upload(account, wav_bytes(), title="a\x00b")
    assert nul.status_code == 422 and nul.json()["detail"][0]["type"] == "string_nul"


def test_a_job_names_its_accounts_uploaded_track_and_no_one_elses(server: ApiServer, account):
    track = upload(account, wav_bytes()).json()
    created = account.client.post("/api/v1/jobs", json=job_body(custom_music_id=track["id"]))
    assert created.status_code == 201, created.text
    assert created.json()["config"]["custom_music_id"] == track["id"]
    other = server.new_account(credits=1000)
    refused = other.client.post("/api/v1/jobs", json=job_body(custom_music_id=track["id"]))
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "music_not_found"
    assert other.client.get("/api/v1/music/custom").json() == []
    assert other.client.delete(f"/api/v1/music/custom/{track['id']}").status_code == 404
    account.client.delete(f"/api/v1/music/custom/{track['id']}")
    deleted = account.client.post("/api/v1/jobs", json=job_body(custom_music_id=track["id"]))
    assert deleted.status_code == 422 and deleted.json()["detail"][0]["loc"] == ["body", "custom_music_id"]


def test_a_music_link_is_good_only_for_its_job_track_and_expiry_and_until_it_expires():
    now = 1_800_000_000
    link = music_link("http://api.internal:8000/internal/jobs/events", "job-secret", "job-1", "track-1", now_s=now)
    parts = urlsplit(link["url"])
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "api.internal:8000", "/internal/music/track-1")
    query = {k: v for k, [v] in parse_qs(parts.query).items()}
    assert query["job_id"] == "job-1" and int(query["expires"]) == now + LINK_TTL_S
    assert link["max_bytes"] == MAX_BYTES
    good = ("job-secret", "job-1", "track-1", query["expires"], query["signature"])
    assert link_refusal(*good, now_s=now + LINK_TTL_S) is None
    assert link_refusal(*good, now_s=now + LINK_TTL_S + 1) == "link_expired"
    for changed in (("other-secret", *good[1:]), (good[0], "job-2", *good[2:]), (*good[:2], "track-2", *good[3:]),
                    (*good[:3], str(int(query["expires"]) + 3600), good[4]), (*good[:4], ""), (*good[:3], "x", good[4])):
        assert link_refusal(*changed, now_s=now) == "bad_signature"
    assert link_signature("job-secret", "job-1", "track-1", now) != link_signature("job-secret", "job-1", "track-1", now + 1)


def queued_job(redis8, queue: str, job_id: str, *, timeout_s: float = 5) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for raw in redis8.hvals(f"dramatiq:{queue}.msgs"):
            if (body := json.loads(raw)["args"][0])["job_id"] == job_id:
                return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not on {queue}")


def test_the_worker_gets_a_signed_link_that_serves_the_jobs_track_and_nothing_else(server: ApiServer, account, redis8):
    data = wav_bytes()
    track = upload(account, data).json()
    job = account.client.post("/api/v1/jobs", json=job_body(custom_music_id=track["id"])).json()
    music = queued_job(redis8, server.queue, job["job_id"])["delivery"]["music"]
    assert music["url"].startswith(f"{server.url}/internal/music/{track['id']}?") and music["max_bytes"] == MAX_BYTES
    got = httpx.get(music["url"], timeout=10)
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, data, "audio/wav")
    account.client.delete(f"/api/v1/music/custom/{track['id']}")  # the accepted job keeps its track
    assert httpx.get(music["url"], timeout=10).content == data

    tampered = httpx.get(music["url"].replace("signature=", "signature=0"), timeout=10)
    assert tampered.status_code == 401 and tampered.json()["error"]["details"] == {"reason": "bad_signature"}
    secret = callback_secret(server.callback_secret, job["job_id"])
    callback = f"{server.url}/internal/jobs/events"
    expired = music_link(callback, secret, job["job_id"], track["id"], now_s=time.time() - LINK_TTL_S - 5)
    refused = httpx.get(expired["url"], timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["details"] == {"reason": "link_expired"}
    plain = account.client.post("/api/v1/jobs", json=job_body()).json()  # names no track
    other_job = music_link(callback, callback_secret(server.callback_secret, plain["job_id"]), plain["job_id"],
                           track["id"], now_s=time.time())
    assert httpx.get(other_job["url"], timeout=10).status_code == 404
    assert "music" not in queued_job(redis8, server.queue, plain["job_id"])["delivery"]
