"""The music track download: only from the callback URL's origin, under a byte cap and a deadline,
with a stable code for each refusal and never a partial file left behind."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

import pytest

from engine.errors import MusicFetchFailed, MusicNotFound, MusicTooLarge, MusicUrlForbidden
from engine.music_fetch import fetch_music
from engine.spec import MusicLink
from tests.support.servers import _Server, reply

TRACK = b"RIFF" + bytes(range(256)) * 40


class FakeApi(_Server):
    """Answers every GET as `answer(handler)` does; records each path asked for."""

    def __init__(self, answer) -> None:
        super().__init__()
        self.answer, self.paths = answer, []

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        self.paths.append(handler.path)
        self.answer(handler)

    def link(self, path: str = "/internal/music/t1?job_id=j&expires=9&signature=SECRETSIG") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/internal/jobs/events"


@pytest.fixture
def serve():
    servers = []

    def start(answer) -> FakeApi:
        servers.append(FakeApi(answer).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def fetch(api: FakeApi, tmp_path, *, url: str | None = None, callback_url: str | None = "",
          max_bytes: int = 1 << 20, timeout_s: float = 5.0):
    link = MusicLink(url=url or api.link(), max_bytes=max_bytes)
    return fetch_music(link, callback_url=api.callback_url if callback_url == "" else callback_url,
                       dest=tmp_path / "music", timeout_s=timeout_s)


def test_the_track_is_saved_whole_from_the_callback_origin_even_at_a_private_address(serve, tmp_path):
    api = serve(lambda h: reply(h, 200, TRACK, "audio/wav"))
    path = fetch(api, tmp_path)
    assert path == tmp_path / "music.wav" and path.read_bytes() == TRACK
    assert api.paths == ["/internal/music/t1?job_id=j&expires=9&signature=SECRETSIG"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["music.wav"]


@pytest.mark.parametrize("url, callback_url", [
    ("http://127.0.0.1:1/internal/music/t1", None),                     # no origin to trust
    ("http://10.0.0.5/internal/music/t1", "http://10.0.0.6/internal/jobs/events"),   # another host
    ("https://127.0.0.1:{port}/internal/music/t1", "http://127.0.0.1:{port}/x"),     # another scheme
    ("http://127.0.0.1:{other}/internal/music/t1", "http://127.0.0.1:{port}/x"),     # another port
    ("http://user:pw@127.0.0.1:{port}/internal/music/t1", "http://127.0.0.1:{port}/x"),  # credentials
    ("file:///etc/passwd", "http://127.0.0.1:{port}/x"),
])
def test_a_link_off_the_callback_origin_is_refused_before_any_request(serve, tmp_path, url, callback_url):
    api = serve(lambda h: reply(h, 200, TRACK, "audio/wav"))
    fill = {"port": api.port, "other": api.port + 1}
    with pytest.raises(MusicUrlForbidden) as caught:
        fetch(api, tmp_path, url=url.format(**fill), callback_url=callback_url and callback_url.format(**fill))
    assert caught.value.code == "MUSIC_URL_FORBIDDEN" and not caught.value.retryable
    assert api.paths == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status, error, code", [
    (404, MusicNotFound, "MUSIC_NOT_FOUND"), (410, MusicNotFound, "MUSIC_NOT_FOUND"),
    (401, MusicUrlForbidden, "MUSIC_URL_FORBIDDEN"), (302, MusicUrlForbidden, "MUSIC_URL_FORBIDDEN"),
    (503, MusicFetchFailed, "MUSIC_FETCH_FAILED"), (429, MusicFetchFailed, "MUSIC_FETCH_FAILED"),
])
def test_each_refusal_by_the_api_has_its_stable_code_and_never_shows_the_signature(serve, tmp_path, status, error, code):
    def answer(handler):
        if status == 302:
            handler.send_response(302)
            handler.send_header("Location", "http://203.0.113.9/elsewhere")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            reply(handler, status, b'{"error": {}}', "application/json")

    api = serve(answer)
    with pytest.raises(error) as caught:
        fetch(api, tmp_path)
    assert caught.value.code == code and caught.value.retryable == (code == "MUSIC_FETCH_FAILED")
    assert caught.value.details["status"] == status
    assert "SECRETSIG" not in caught.value.message + str(caught.value.details)
    assert list(tmp_path.iterdir()) == [] and len(api.paths) == 1


def test_a_track_over_the_cap_is_refused_declared_or_streamed_and_leaves_no_file(serve, tmp_path):
    declared = serve(lambda h: reply(h, 200, TRACK, "audio/wav"))
    with pytest.raises(MusicTooLarge) as caught:
        fetch(declared, tmp_path, max_bytes=len(TRACK) - 1)
    assert caught.value.details == {"url": declared.link().split("?")[0], "limit": len(TRACK) - 1,
                                    "size": len(TRACK)}

    def unsized(handler):  # no Content-Length: the body ends when the connection closes
        handler.send_response(200)
        handler.send_header("Content-Type", "audio/wav")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(TRACK * 4)
        handler.close_connection = True

    streamed = serve(unsized)
    with pytest.raises(MusicTooLarge):
        fetch(streamed, tmp_path, max_bytes=len(TRACK) * 2)
    assert list(tmp_path.iterdir()) == []


def test_a_track_cut_short_or_too_slow_is_a_retryable_failure_and_leaves_no_file(serve, tmp_path):
    def truncated(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(TRACK)))
        handler.end_headers()
        handler.wfile.write(TRACK[:100])
        handler.close_connection = True

    with pytest.raises(MusicFetchFailed) as caught:
        fetch(serve(truncated), tmp_path)
    assert caught.value.retryable and list(tmp_path.iterdir()) == []

    def dripping(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(TRACK)))
        handler.end_headers()
        try:
            for byte in TRACK[:40]:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the fetch gave up and closed the connection, as it should

    started = time.monotonic()
    with pytest.raises(MusicFetchFailed) as caught:
        fetch(serve(dripping), tmp_path, timeout_s=1.0)
    assert time.monotonic() - started < 3.0 and "within 1 s" in caught.value.message
    assert list(tmp_path.iterdir()) == []
