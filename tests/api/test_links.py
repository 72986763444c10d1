"""Links to a job's files are signed when they are read: a link the worker signed at upload time
may have died (7 days at most, hours with temporary credentials), the job's link still works.
The dead link here is one signed with credentials the store no longer knows, as after a session
token ran out, on a SeaweedFS that checks credentials."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from tests.api.support import ApiServer, completed, job_body
from tests.support.seaweed import ACCESS, SeaweedS3

pytestmark = pytest.mark.integration


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def checking_s3(tmp_path) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path / "seaweed", check_credentials=True) as server:
        yield server


def test_a_completed_jobs_links_are_signed_when_read_not_when_uploaded(checking_s3, new_database, api_logs):
    s3_server, bucket, key = checking_s3, "renders", "renders/job-1/final.mp4"
    s3 = s3_server.client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=b"\x00\x00\x00\x18ftypmp42", ContentType="video/mp4")
    # What a worker reports: a link signed at upload time with the credentials it had then, which
    # are gone now (an STS session that ran out, a rotated key): the store no longer knows them.
    gone = boto3.client("s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="expired-session", aws_secret_access_key="expired-secret",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    uploaded_link = gone.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
    api = ApiServer(new_database(), api_logs, UGEN_API_SIGN_URLS="1", UGEN_API_SIGNED_URL_TTL_S="600",
                    UGEN_S3_ENDPOINT_URL=s3_server.endpoint_url, **{k.upper(): v for k, v in ACCESS.items()}).start()
    try:
        account = api.new_account()
        job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
        event = {**completed(job_id, 3), "final_video_url": uploaded_link,
                 "objects": {"final.mp4": {"bucket": bucket, "key": key}}}
        assert api.post_event(event).json()["accepted"] is True
        assert status_of(uploaded_link) == 403  # the link as uploaded is dead
        link = account.client.get(f"/api/v1/jobs/{job_id}").json()["final_video_url"]
        assert status_of(link) == 200, link
        assert "X-Amz-Expires=600" in link
    finally:
        api.stop()
