"""A fault-injecting, counting proxy in front of the S3 server.

    proxy = S3Proxy(upstream="http://127.0.0.1:8333").start()
    proxy.endpoint_url                  # give this to the worker instead of the server's
    proxy.failing = True                # every request answers 503 SlowDown until set back
    proxy.writes("/bucket/prefix/job/final.mp4")   # completed object writes seen for that path

The Host header is passed through unchanged, so SigV4 signatures made for the proxy's address
stay valid. An object write is a PUT without `partNumber` or the POST that completes a
multipart upload; counting them is how the tests prove "uploaded exactly once".
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.support.servers import _Server, reply

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b"<Message>injected by the test proxy</Message></Error>")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-connection"}


class S3Proxy(_Server):
    def __init__(self, upstream: str) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.failing = False
        self.refused = 0
        self._writes: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def writes(self, path: str) -> int:
        with self._lock:
            return self._writes[path]

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = _read_body(handler)
        if self.failing:
            with self._lock:
                self.refused += 1
            reply(handler, 503, SLOW_DOWN, "application/xml")
            return
        status, headers, data = self._forward(handler, body)
        if 200 <= status < 300:
            self._count(handler.command, handler.path)
        handler.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_HEADERS and name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_HEADERS}
            headers["Content-Length"] = str(len(body))
            conn.request(handler.command, handler.path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _count(self, method: str, raw_path: str) -> None:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        whole_put = method == "PUT" and "partNumber" not in query
        completed = method == "POST" and "uploadId" in query
        if whole_put or completed:
            with self._lock:
                self._writes[parts.path] += 1


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while (size := int(handler.rfile.readline().split(b";")[0], 16)) > 0:
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        handler.rfile.readline()
        return b"".join(chunks)
    return handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
