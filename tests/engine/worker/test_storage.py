"""Uploads: a local directory, S3 through boto3 on a real S3 server, and presigned PUT URLs."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from engine.errors import InvalidJobSpec, StorageError
from engine.worker.storage import (
    LocalStorage,
    PresignedPutStorage,
    S3Storage,
    StorageSettings,
    storage_for,
    upload_artifacts,
)
from tests.support.servers import StaticFiles

pytest_plugins = ["tests.support.fixtures"]  # real Redis, RabbitMQ, S3, API

pytestmark = pytest.mark.integration


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    files = {"final.mp4": b"\x00\x00\x00\x18ftypmp42" + b"v" * 5000, "thumbnail.jpg": b"\xff\xd8" + b"t" * 100,
             "captions.vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n", "script.json": b"{}"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


def test_local_storage_writes_each_artifact_under_a_stable_key_and_overwrites_it(tmp_path, artifacts):
    storage = LocalStorage(tmp_path / "store", "job-1", prefix="renders")
    first = upload_artifacts(storage, artifacts, retry_s=0)
    again = upload_artifacts(storage, artifacts, retry_s=0)
    assert set(first) == {"final.mp4", "thumbnail.jpg", "captions.vtt"}  # not the script
    assert first["final.mp4"].key == again["final.mp4"].key == "renders/job-1/final.mp4"
    assert sorted(p.name for p in (tmp_path / "store/renders/job-1").iterdir()) == [
        "captions.vtt", "final.mp4", "thumbnail.jpg"]
    assert first["final.mp4"].url.startswith("file://") and first["final.mp4"].size_bytes == 5012


def test_s3_uploads_large_videos_in_parts_with_their_content_types(tmp_path, s3_server, bucket):
    settings = StorageSettings(kind="s3", s3_bucket=bucket, multipart_threshold_mb=5, multipart_chunk_mb=5,
                               url_mode="presigned")
    video = tmp_path / "final.mp4"
    video.write_bytes(b"\x00" * (11 * 1024 * 1024))
    client = s3_server.client()
    stored = S3Storage(client, "job-big", bucket=bucket, prefix="renders", settings=settings).put("final.mp4", video)
    head = client.head_object(Bucket=bucket, Key="renders/job-big/final.mp4")
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] == stored.size_bytes
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    with urllib.request.urlopen(stored.url, timeout=10) as response:  # the presigned GET works
        assert response.headers["Content-Length"] == str(11 * 1024 * 1024)


def test_s3_failures_become_a_transient_storage_error(tmp_path, artifacts, s3_server, s3_proxy, bucket):
    settings = StorageSettings(kind="s3", s3_bucket=bucket)
    s3_proxy.failing = True
    storage = S3Storage(s3_server.client(s3_proxy.endpoint_url), "job-x", bucket=bucket, prefix="p",
                        settings=settings)
    with pytest.raises(StorageError) as caught:
        storage.put("captions.vtt", artifacts["captions.vtt"])
    assert caught.value.retryable and caught.value.code == "STORAGE_UNAVAILABLE"
    assert str(artifacts["captions.vtt"].parent) not in caught.value.message


def test_presigned_put_urls_from_the_job_receive_the_files(artifacts, s3_server, bucket):
    client = s3_server.client()
    urls = {name: client.generate_presigned_url("put_object", ExpiresIn=600, Params={
        "Bucket": bucket, "Key": f"api/{name}", "ContentType": ctype})
        for name, ctype in (("final.mp4", "video/mp4"), ("thumbnail.jpg", "image/jpeg"))}
    storage = storage_for("job-p", {"kind": "presigned_put", "urls": urls,
                                    "public_urls": {"final.mp4": "https://cdn.example/v.mp4"}},
                          settings=StorageSettings(), s3_client=None)
    stored = upload_artifacts(storage, artifacts, retry_s=0)
    assert set(stored) == {"final.mp4", "thumbnail.jpg"}  # no URL given for the captions
    assert stored["final.mp4"].url == "https://cdn.example/v.mp4"
    assert "?" not in stored["thumbnail.jpg"].url
    head = client.head_object(Bucket=bucket, Key="api/final.mp4")
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] == 5012


def test_a_presigned_put_refused_by_the_storage_is_a_storage_error(artifacts):
    refusing = StaticFiles({}).start()  # answers 404 to everything
    try:
        with pytest.raises(StorageError) as caught:
            PresignedPutStorage({"final.mp4": refusing.url("/v.mp4?X-Amz-Signature=x")}, {}).put(
                "final.mp4", artifacts["final.mp4"])
        assert caught.value.details["status"] == 404
    finally:
        refusing.stop()


def test_an_upload_block_the_worker_does_not_understand_fails_the_job_as_invalid():
    with pytest.raises(InvalidJobSpec):
        storage_for("j", {"kind": "ftp"}, settings=StorageSettings(), s3_client=None)
    with pytest.raises(InvalidJobSpec):
        storage_for("j", {"kind": "presigned_put", "urls": {"thumbnail.jpg": "https://x"}},
                    settings=StorageSettings(), s3_client=None)
