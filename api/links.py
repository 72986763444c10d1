"""Links to a job's files, signed when they are read rather than stored for ever.

    links = Links.from_settings(settings)     # signs only when UGEN_API_SIGN_URLS=1
    job.artifacts = stored_objects(event.objects)          # {"final.mp4": {"bucket", "key"}, ...}
    links.for_job(job)                        # {"final_video_url": ..., "thumbnail_url": ..., ...}

A presigned URL the worker made at upload time lives at most 7 days, and much less when the
worker's credentials are temporary (STS, IRSA, instance roles: the URL dies with the session
token, within hours). So when the API signs, it keeps each object's bucket and key and signs a
fresh GET URL, valid `UGEN_API_SIGNED_URL_TTL_S` (1 h), every time the job is read or a webhook
is queued, with whatever credentials the API holds now (the standard AWS chain: environment,
profile, IRSA). Without signing, or for objects without a bucket (presigned PUT, local storage),
the URL the worker reported is what is served.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from api.settings import ApiSettings

URL_FIELDS = {"final_video_url": "final.mp4", "thumbnail_url": "thumbnail.jpg", "captions_url": "captions.vtt"}


def stored_objects(objects: dict[str, Any] | None) -> dict[str, dict[str, str]] | None:
    """The objects of a completed event that can be signed later: those with a bucket and a key."""
    kept = {name: {"bucket": ref["bucket"], "key": ref["key"]} for name, ref in (objects or {}).items()
            if isinstance(ref, dict) and ref.get("bucket") and ref.get("key")}
    return kept or None


@dataclass
class Links:
    sign: bool = False
    ttl_s: int = 3600
    endpoint_url: str | None = None
    region: str = "us-east-1"
    _client: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> Links:
        return cls(sign=settings.sign_urls, ttl_s=settings.signed_url_ttl_s,
                   endpoint_url=settings.s3_endpoint_url, region=settings.s3_region)

    def for_job(self, job: Any) -> dict[str, str | None]:
        """The job's three URLs as they are to be shown now."""
        urls = {name: getattr(job, name) for name in URL_FIELDS}
        if self.sign and job.artifacts:
            for name, file in URL_FIELDS.items():
                if (ref := job.artifacts.get(file)) is not None:
                    urls[name] = self._signed(ref["bucket"], ref["key"])
        return urls

    def _signed(self, bucket: str, key: str) -> str:
        return self._s3().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                                 ExpiresIn=self.ttl_s)

    def _s3(self) -> Any:
        with self._lock:  # built on first use: an API that never signs never imports boto3
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(signature_version="s3v4",  # as the worker's client (path style off AWS)
                                s3={"addressing_style": "path" if self.endpoint_url else "auto"})
                self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                            config=config)
            return self._client
