"""Loopback HTTP servers for the worker tests: the API that records events, and static files.

    api = EventRecorder(secret="s3cr3t").start()
    api.url                               # http://127.0.0.1:PORT/events
    api.go_down(); api.come_up()          # connection refused in between, same port after
    api.wait_for(lambda events: ..., timeout_s=60)
    files = StaticFiles({"/product.png": data}).start(); files.url("/product.png")

The recorder checks every event's signature (hex HMAC-SHA256 of timestamp + "." + raw body)
and keeps the ones that fail it apart, so a test can assert there are none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 that can stop listening and listen again on its port."""

    def __init__(self) -> None:
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self) -> Any:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.handle(self)

            do_POST = do_PUT = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    go_down = stop

    def come_up(self) -> None:
        self.start()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class StaticFiles(_Server):
    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        data = self.files.get(handler.path)
        if data is None:
            reply(handler, 404)
        else:
            reply(handler, 200, data, "image/png")


class EventRecorder(_Server):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.events: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.bad_signatures: list[dict[str, Any]] = []
        self.status = 200  # what to answer; 503 simulates an API that is up but failing
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        if self.status != 200:
            reply(handler, self.status)
            return
        timestamp = handler.headers.get("X-UGen-Timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        body = json.loads(raw)
        with self._lock:
            if fresh and hmac.compare_digest(expected, handler.headers.get("X-UGen-Signature", "")):
                self.events.append(body)
                self.raw.append(raw)
            else:
                self.bad_signatures.append(body)
        reply(handler, 200, b'{"ok":true}', "application/json")

    def for_job(self, job_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["job_id"] == job_id]

    def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], *, job_id: str,
                 timeout_s: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events = self.for_job(job_id)
            if done(events):
                return events
            time.sleep(0.1)
        seen = [(e["seq"], e["status"], e["current_stage"], e["progress_percent"]) for e in self.for_job(job_id)]
        raise AssertionError(f"timed out after {timeout_s:.0f} s; events so far: {seen}")


def terminal(events: list[dict[str, Any]]) -> bool:
    return any(e["status"] in ("completed", "failed") for e in events)
