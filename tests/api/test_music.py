"""Music: the catalog of beds, custom uploads (type and size caps, soft delete), and jobs that
name an uploaded track in `custom_music_id`; through a real server on PostgreSQL."""

from __future__ import annotations

import io
import subprocess
import wave

import imageio_ffmpeg
import numpy as np
import pytest

from api.music import CATALOG, MAX_BYTES, sniff
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
