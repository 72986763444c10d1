"""Where finished videos go: a local directory, S3-compatible storage, or presigned PUT URLs.

    settings = WorkerSettings.from_env().storage          # engine/worker/settings.py
    storage = storage_for(job_id, delivery.upload, settings=settings, s3_client=client, lease_token=t)
    objects = upload_artifacts(storage, result.artifacts, retry_s=60, before_each=fence)
    objects["final.mp4"].url, objects["final.mp4"].size_bytes

Keys are per job and per lease (`<prefix>/<job_id>/<lease token>/final.mp4`): whoever holds the
job's lease writes only under its own token, and the fenced commit (engine/worker/outbox.py)
makes that token's objects the job's result. A stale worker whose lease was taken over while its
upload hung can therefore never overwrite what its successor committed; `discard` removes what a
refused attempt left. Presigned PUT targets have their keys chosen by the caller: there, only the
lease check before each PUT fences. Any storage failure is a `StorageError` (transient);
`upload_artifacts` retries with backoff inside its window before giving up.

The job's `delivery.upload` picks the destination:
    {}                                               the worker's default (UGEN_STORAGE)
    {"kind": "s3", "bucket": "b", "prefix": "p"}     S3 with the worker's credentials
    {"kind": "presigned_put", "urls": {"final.mp4": "https://...", ...},
     "public_urls": {"final.mp4": "https://cdn/..."}}  PUT to URLs the API signed
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import InvalidJobSpec, StorageError
from engine.worker.idempotency import safe_id
from engine.worker.settings import StorageSettings

log = logging.getLogger(__name__)

UPLOADED = ("final.mp4", "thumbnail.jpg", "captions.vtt")
CONTENT_TYPES = {"final.mp4": "video/mp4", "thumbnail.jpg": "image/jpeg", "captions.vtt": "text/vtt"}
MIB = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    name: str
    key: str
    url: str
    size_bytes: int
    content_type: str
    bucket: str | None = None  # S3 only: with `key`, where the API can sign a URL on read


class Storage(Protocol):
    def put(self, name: str, path: Path) -> StoredObject: ...


class UploadTarget(BaseModel):
    """The job's `delivery.upload` block."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["default", "s3", "presigned_put"] = "default"
    bucket: str | None = None
    prefix: str | None = None
    urls: dict[Literal["final.mp4", "thumbnail.jpg", "captions.vtt"], str] = {}
    public_urls: dict[str, str] = {}


def object_key(prefix: str, job_id: str, name: str, lease: str = "") -> str:
    return "/".join(p for p in (prefix.strip("/"), safe_id(job_id), safe_id(lease) if lease else "", name) if p)


class LocalStorage:
    """Copies into a directory; the rename makes each object appear whole or not at all."""

    def __init__(self, root: Path, job_id: str, *, prefix: str, base_url: str | None = None,
                 lease: str = "") -> None:
        self.root, self.job_id, self.prefix, self.base_url, self.lease = root, job_id, prefix, base_url, lease

    def remove(self, stored: StoredObject) -> None:
        (self.root / stored.key).unlink(missing_ok=True)

    def put(self, name: str, path: Path) -> StoredObject:
        key = object_key(self.prefix, self.job_id, name, self.lease)
        target = self.root / key
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{name}.partial")
            shutil.copyfile(path, partial)
            os.replace(partial, target)
        except OSError as exc:
            raise StorageError(f"cannot store {name}: {exc.strerror or exc}", details={"key": key}) from None
        url = f"{self.base_url.rstrip('/')}/{quote(key)}" if self.base_url else target.resolve().as_uri()
        return StoredObject(name, key, url, target.stat().st_size, CONTENT_TYPES[name])


class S3Storage:
    """boto3 upload_file: multipart above the threshold, with a content type per object."""

    def __init__(self, client: Any, job_id: str, *, bucket: str, prefix: str, settings: StorageSettings,
                 lease: str = "") -> None:
        from boto3.s3.transfer import TransferConfig  # boto3 loads only where S3 is used

        self.client, self.job_id, self.bucket, self.prefix, self.settings = client, job_id, bucket, prefix, settings
        self.lease = lease
        self.transfer = TransferConfig(multipart_threshold=settings.multipart_threshold_mb * MIB,
                                       multipart_chunksize=settings.multipart_chunk_mb * MIB,
                                       max_concurrency=4)

    def put(self, name: str, path: Path) -> StoredObject:
        from boto3.exceptions import Boto3Error  # upload_file wraps ClientError in S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        key = object_key(self.prefix, self.job_id, name, self.lease)
        extra = {"ContentType": CONTENT_TYPES[name], "CacheControl": "public, max-age=31536000"}
        try:
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self.transfer)
        except (Boto3Error, BotoCoreError, ClientError, OSError) as exc:
            reason = str(exc).rsplit(": ", 1)[-1][:200]  # the storage's own words, not our paths
            raise StorageError(f"upload of {name} failed: {reason}",
                               details={"bucket": self.bucket, "key": key}) from None
        return StoredObject(name, key, self._url(key), path.stat().st_size, CONTENT_TYPES[name], self.bucket)

    def remove(self, stored: StoredObject) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=stored.key)

    def _url(self, key: str) -> str:
        s = self.settings
        if s.url_mode == "presigned":
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=s.presign_expiry_s)
        base = s.public_base_url or f"{self.client.meta.endpoint_url.rstrip('/')}/{self.bucket}"
        return f"{base.rstrip('/')}/{quote(key)}"


class PresignedPutStorage:
    """PUTs each file to the URL the API signed for it; reports its public URL if given."""

    def __init__(self, urls: dict[str, str], public_urls: dict[str, str], *, timeout_s: float = 120.0) -> None:
        self.urls, self.public_urls, self.timeout_s = urls, public_urls, timeout_s

    def put(self, name: str, path: Path) -> StoredObject:
        url = self.urls[name]
        try:
            status = _http_put(url, path, CONTENT_TYPES[name], timeout_s=self.timeout_s)
        except OSError as exc:
            raise StorageError(f"upload of {name} failed: {exc}", details={"name": name}) from None
        if not 200 <= status < 300:
            raise StorageError(f"upload of {name} got HTTP {status}", details={"name": name, "status": status})
        public = self.public_urls.get(name) or urlunsplit(urlsplit(url)._replace(query="", fragment=""))
        return StoredObject(name, urlsplit(url).path, public, path.stat().st_size, CONTENT_TYPES[name])


def _http_put(url: str, path: Path, content_type: str, *, timeout_s: float) -> int:
    parts = urlsplit(url)
    conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_type(parts.hostname, parts.port, timeout=timeout_s)
    try:
        with path.open("rb") as body:  # streamed: a video need not fit in memory
            conn.request("PUT", f"{parts.path}?{parts.query}" if parts.query else parts.path, body=body,
                         headers={"Content-Type": content_type, "Content-Length": str(path.stat().st_size)})
        response = conn.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        conn.close()


def parse_target(upload: dict[str, Any]) -> UploadTarget:
    try:
        return UploadTarget.model_validate(upload or {})
    except ValidationError as exc:
        raise InvalidJobSpec(f"invalid delivery.upload: {exc.errors()[0]['msg']}",
                             details={"upload": exc.errors(include_url=False, include_context=False)}) from None


def storage_for(job_id: str, upload: dict[str, Any], *, settings: StorageSettings,
                s3_client: Any | None, lease_token: str = "") -> Storage:
    target = parse_target(upload)
    if target.kind == "presigned_put":
        if "final.mp4" not in target.urls:
            raise InvalidJobSpec("delivery.upload.urls needs a URL for final.mp4")
        return PresignedPutStorage(dict(target.urls), target.public_urls)
    if target.kind == "s3" or settings.kind == "s3":
        if s3_client is None:
            raise StorageError("S3 storage is not configured on this worker")
        return S3Storage(s3_client, job_id, bucket=target.bucket or settings.s3_bucket,
                         prefix=target.prefix if target.prefix is not None else settings.prefix,
                         settings=settings, lease=lease_token)
    return LocalStorage(settings.local_dir, job_id, prefix=settings.prefix, base_url=settings.local_base_url,
                        lease=lease_token)


def upload_artifacts(storage: Storage, artifacts: dict[str, Path], *, retry_s: float,
                     only: tuple[str, ...] = UPLOADED, before_each: Callable[[], None] | None = None,
                     into: dict[str, StoredObject] | None = None) -> dict[str, StoredObject]:
    """Uploads video, thumbnail and captions (those that exist, and that the target takes).
    `before_each` may raise to stop before the next object (the lease fence); `into` collects
    the objects as they are stored, so a caller knows what an interrupted upload left."""
    names = [n for n in only if n in artifacts and (not isinstance(storage, PresignedPutStorage)
                                                    or n in storage.urls)]
    stored = into if into is not None else {}
    for name in names:
        if before_each is not None:
            before_each()
        stored[name] = _with_retries(storage, name, artifacts[name], retry_s=retry_s)
    return stored


def discard(storage: Storage, objects: Iterable[StoredObject]) -> None:
    """Best effort: removes objects of an attempt whose result will never be committed."""
    remove = getattr(storage, "remove", None)
    for stored in list(objects) if remove is not None else []:
        try:
            remove(stored)
        except Exception as exc:  # noqa: BLE001 - leftovers are harmless: nothing points at them
            log.warning("could not remove %s: %s", stored.key, exc)


def _with_retries(storage: Storage, name: str, path: Path, *, retry_s: float) -> StoredObject:
    deadline, delay_s = time.monotonic() + retry_s, 1.0
    while True:
        try:
            return storage.put(name, path)
        except StorageError as exc:
            if time.monotonic() + delay_s > deadline:
                raise
            log.warning("%s; retrying in %.0f s", exc.message, delay_s)
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, 15.0)


def make_s3_client(settings: StorageSettings) -> Any:
    """One client per process (boto3 clients are thread-safe); credentials come from the usual
    AWS variables or the instance role."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"})
    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
                        config=config)
