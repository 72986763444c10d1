"""Test helpers for the control plane: a real API server process, a webhook receiver, a TCP proxy.

    server = ApiServer(database_url, tmp_dir, UGEN_QUEUE="q").start()    # python -m api serve
    account = server.new_account(credits=1000)                          # via the admin API
    account.client.post("/api/v1/jobs", json={...})                     # httpx, X-API-Key set
    post_event(server, {"job_id": ..., "attempt": 1, "status": "processing", ...})   # signed

Every process started here is killed on teardown.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from api.dispatch import callback_secret
from engine.reporting import encode, signed_headers
from tests.support.seaweed import free_port
from tests.support.servers import _Server, reply
from tests.support.workers import await_ready, start_logged

ADMIN_TOKEN = "admin-" + secrets.token_hex(8)
# Apart from the worker tests' database (9), which they flush; UGEN_TEST_API_REDIS_DB moves it.
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('UGEN_TEST_API_REDIS_DB', '8')}"


def job_body(**fields: Any) -> dict[str, Any]:
    """A short draft job (2 x 3 s); the product URL is never fetched unless a worker runs."""
    return {"product_name": "Espresso Cups", "product_image_url": "https://example.com/cup.png",
            "segment_count": 2, "segment_duration": 3, "video_resolution": "draft", **fields}


@dataclass
class Account:
    id: str
    key: str
    client: httpx.Client


class ApiServer:
    def __init__(self, database_url: str, work_dir: Path, *, port: int | None = None,
                 callback_secret: str | None = None, **env: str) -> None:
        """`port` and `callback_secret` let a second server stand in for a first one."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.callback_secret = callback_secret or secrets.token_hex(32)
        self.jwt_secret = secrets.token_hex(32)
        self.queue = env.get("UGEN_QUEUE", f"api-test-{uuid.uuid4().hex[:8]}")
        self.log_path = work_dir / f"api-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.env = {**os.environ, "UGEN_API_DATABASE_URL": database_url, "UGEN_API_PORT": str(self.port),
                    "UGEN_API_ADMIN_TOKEN": ADMIN_TOKEN, "UGEN_API_JWT_SECRET": self.jwt_secret,
                    "UGEN_API_CALLBACK_SECRET": self.callback_secret, "UGEN_BROKER_URL": REDIS_URL,
                    "UGEN_QUEUE": self.queue, "UGEN_TEST_ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1", **env}
        self.process: subprocess.Popen | None = None
        self.clients: list[httpx.Client] = []

    def start(self, *, timeout_s: float = 60) -> ApiServer:
        self.process = start_logged([sys.executable, "-m", "api", "serve", "--log-level", "warning"],
                                    env=self.env, log_path=self.log_path)
        await_ready(self.process, self._healthy, timeout_s=timeout_s, what="API", log=self.log,
                    stop=self.stop)
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pause(self, seconds: float) -> None:
        """Stops the server's processes for `seconds`, as a loaded machine does to a busy one."""
        with self.frozen():
            time.sleep(seconds)

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """The server's processes stopped (SIGSTOP) for the block, then resumed."""
        os.killpg(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def client(self, **headers: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def admin(self) -> httpx.Client:
        return self.client(**{"X-Admin-Token": ADMIN_TOKEN})

    def new_account(self, *, credits: int = 1000, **limits: int) -> Account:
        response = self.admin().post("/admin/v1/accounts", json={"name": "test", "credits": credits, **limits})
        assert response.status_code == 201, response.text
        body = response.json()
        return Account(body["account_id"], body["api_key"], self.client(**{"X-API-Key": body["api_key"]}))

    def post_event(self, body: dict[str, Any], *, secret: str | None = None, now_s: float | None = None) -> httpx.Response:
        """A progress event signed as the worker signs it (the job's derived secret by default)."""
        raw = encode(body)
        key = secret if secret is not None else callback_secret(self.callback_secret, body["job_id"])
        headers = signed_headers(key, raw, now_s=now_s)
        return httpx.post(self.url + "/internal/jobs/events", content=raw, headers=headers, timeout=30)


def event(job_id: str, seq: int, status: str = "processing", *, attempt: int = 1, stage: str = "generation",
          percent: float = 50.0, **fields: Any) -> dict[str, Any]:
    return {"job_id": job_id, "attempt": attempt, "status": status, "current_stage": stage,
            "progress_percent": percent, "message": "", "seq": seq, "timestamp": "2026-01-01T00:00:00Z",
            **fields}


def completed(job_id: str, seq: int, *, attempt: int = 1, duration_s: float = 6.0) -> dict[str, Any]:
    return event(job_id, seq, "completed", attempt=attempt, stage="complete", percent=100.0,
                 final_video_url=f"https://cdn.example/renders/{job_id}/final.mp4",
                 thumbnail_url=f"https://cdn.example/renders/{job_id}/thumbnail.jpg",
                 captions_url=f"https://cdn.example/renders/{job_id}/captions.vtt",
                 duration_s=duration_s, width=360, height=640, size_bytes=123456)


def failed(job_id: str, seq: int, *, attempt: int = 1) -> dict[str, Any]:
    return event(job_id, seq, "failed", attempt=attempt, stage="prepare", percent=5.0,
                 error={"code": "PRODUCT_IMAGE_UNREACHABLE", "message": "product image answered 404",
                        "details": {"status": 404}})


@dataclass(frozen=True)
class Delivery:
    at_s: float
    raw: bytes
    headers: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)


class WebhookReceiver(_Server):
    """Records every POST with its arrival time; answers 500 to the first `fail_first` ones, and
    every answer after `delay_s` (a slow receiver)."""

    def __init__(self, secret: str | None, *, fail_first: int = 0, delay_s: float = 0.0) -> None:
        super().__init__()
        self.secret, self.fail_first, self.delay_s = secret, fail_first, delay_s
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ugen"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        with self._lock:
            self.deliveries.append(Delivery(time.monotonic(), raw, {k.lower(): v for k, v in handler.headers.items()}))
            failing = len(self.deliveries) <= self.fail_first
        time.sleep(self.delay_s)
        reply(handler, 500 if failing else 200, b"{}", "application/json")

    def signed_correctly(self, delivery: Delivery) -> bool:
        timestamp = delivery.headers.get("x-ugen-timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + delivery.raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, delivery.headers.get("x-ugen-signature", ""))

    def wait_for(self, count: int, *, timeout_s: float) -> list[Delivery]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.deliveries)} webhook deliveries after {timeout_s} s, wanted {count}")


class TcpProxy:
    """Forwards a loopback port to another; `start()` may come long after the port was handed out."""

    def __init__(self, target_port: int) -> None:
        self.port, self.target_port = free_port(), target_port
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
