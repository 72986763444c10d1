"""Fetching and decoding untrusted product images, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import shutil
import ssl
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from engine import fetch
from engine.errors import (
    ProductImageForbidden,
    ProductImageInvalid,
    ProductImageTimeout,
    ProductImageTooLarge,
    ProductImageUnreachable,
)
from engine.fetch import fetch_image_bytes
from engine.image_decode import decode_product_image
from engine.settings import FetchLimits

LOCAL = FetchLimits(timeout_s=5.0, allow_private_addresses=True)
ONE_SECOND = FetchLimits(timeout_s=1.0, allow_private_addresses=True)
Respond = Callable[[BaseHTTPRequestHandler], None]


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_image(width: int = 96, height: int = 64, mode: str = "RGB") -> Image.Image:
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels).convert(mode)


PNG = encode(noise_image(), "PNG")
JPEG = encode(noise_image(), "JPEG", quality=90)


@dataclass
class LocalServer:
    base: str
    routes: dict[str, Respond]
    release: threading.Event
    hosts: list[str] = field(default_factory=list)  # Host header of every request


def send(body: bytes, *, status: int = 200, content_type: str = "image/png",
         length: bool = True) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        else:  # delimited by closing the connection
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(body)
    return respond


def send_chunked(body: bytes, piece: int = 8192) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(body), piece):
            chunk = body[start:start + piece]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")
    return respond


def redirect(location: str, status: int = 302) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return respond


class Handler(BaseHTTPRequestHandler):
    """Answers from the `routes` of the LocalServer that owns it; unknown paths get a 404."""

    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:
            return  # the client hung up on purpose: a cap or a deadline cut the transfer

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        local: LocalServer = self.server.local  # type: ignore[attr-defined]
        local.hosts.append(self.headers["Host"])
        respond = local.routes.get(urlsplit(self.path).path)
        respond(self) if respond else self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return  # keep test output quiet


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    scheme = "https" if tls else "http"
    local = LocalServer(f"{scheme}://127.0.0.1:{httpd.server_port}", {}, threading.Event())
    httpd.local = local  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield local
    finally:
        local.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name "localhost" only (not for 127.0.0.1)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def https_server(certificate: tuple[Path, Path]) -> Iterator[LocalServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with serving(context) as local:
        yield local


def fetch_and_decode(url: str, limits: FetchLimits = LOCAL) -> np.ndarray:
    data = fetch_image_bytes(url, limits=limits, allow_local_files=False)
    return decode_product_image(data, max_pixels=limits.max_pixels)


# --- fetching over HTTP ---------------------------------------------------------------------

@pytest.mark.parametrize("name, body", [("png", PNG), ("jpeg", JPEG)])
def test_a_png_or_jpeg_is_fetched_and_decoded_to_rgba(server: LocalServer, name: str, body: bytes):
    server.routes[f"/p.{name}"] = send(body, content_type=f"image/{name}")
    rgba = fetch_and_decode(f"{server.base}/p.{name}?v=1")
    assert rgba.shape == (64, 96, 4) and rgba.dtype == np.uint8
    assert (rgba[..., 3] == 255).all()
    if name == "png":
        assert np.array_equal(rgba[..., :3], np.asarray(noise_image()))
    assert server.hosts == [server.base.removeprefix("http://")]


def test_a_404_is_unreachable_and_the_message_hides_the_query(server: LocalServer):
    with pytest.raises(ProductImageUnreachable) as caught:
        fetch_image_bytes(f"{server.base}/missing.png?token=SECRET", limits=LOCAL,
                          allow_local_files=False)
    assert caught.value.details["status"] == 404
    assert "HTTP 404" in caught.value.message and "SECRET" not in caught.value.message


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_or_rate_limit_is_a_transient_timeout(server: LocalServer, status: int):
    server.routes["/busy.png"] = send(b"try later", status=status, content_type="text/plain")
    with pytest.raises(ProductImageTimeout) as caught:
        fetch_and_decode(f"{server.base}/busy.png")
    assert caught.value.retryable and caught.value.details["status"] == status


def test_an_html_page_is_not_an_image(server: LocalServer):
    page = b"<!doctype html><html><body>Buy now</body></html>"
    server.routes["/product"] = send(page, content_type="text/html; charset=utf-8")
    server.routes["/disguised.png"] = send(page, content_type="application/octet-stream")
    with pytest.raises(ProductImageInvalid, match="web page"):
        fetch_and_decode(f"{server.base}/product")
    with pytest.raises(ProductImageInvalid, match="HTML"):
        fetch_and_decode(f"{server.base}/disguised.png")


def test_a_declared_length_over_the_cap_is_refused_before_reading(server: LocalServer):
    server.routes["/huge.png"] = send(PNG + bytes(200_000))
    limits = FetchLimits(max_bytes=100_000, allow_private_addresses=True)
    with pytest.raises(ProductImageTooLarge) as caught:
        fetch_and_decode(f"{server.base}/huge.png", limits)
    assert caught.value.details == {"url": f"{server.base}/huge.png", "limit": 100_000,
                                    "size": len(PNG) + 200_000}


@pytest.mark.parametrize("respond",
                         [send_chunked(bytes(300_000)), send(bytes(300_000), length=False)],
                         ids=["chunked", "until-close"])
def test_a_body_without_length_is_cut_off_past_the_cap(server: LocalServer, respond: Respond):
    server.routes["/stream.png"] = respond
    limits = FetchLimits(max_bytes=100_000, allow_private_addresses=True)
    with pytest.raises(ProductImageTooLarge) as caught:
        fetch_and_decode(f"{server.base}/stream.png", limits)
    assert 100_000 < caught.value.details["size"] <= 100_000 + fetch.CHUNK_BYTES


def test_a_chunked_image_under_the_cap_arrives_whole(server: LocalServer):
    server.routes["/c.png"] = send_chunked(PNG, piece=1000)
    assert fetch_image_bytes(f"{server.base}/c.png", limits=LOCAL, allow_local_files=False) == PNG


def test_a_non_ascii_path_is_sent_percent_encoded(server: LocalServer):
    server.routes["/caf%C3%A9%20cr%C3%A8me.png"] = send(PNG)
    url = f"{server.base}/café%20crème.png"
    assert fetch_image_bytes(url, limits=LOCAL, allow_local_files=False) == PNG


def test_https_checks_the_certificate_against_the_host_name_while_connecting_to_its_address(
        https_server: LocalServer, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    https_server.routes["/p.png"] = send(PNG)
    port = urlsplit(https_server.base).port
    with pytest.raises(ProductImageUnreachable, match="certificate"):  # not a trusted issuer
        fetch_image_bytes(f"https://localhost:{port}/p.png", limits=LOCAL, allow_local_files=False)
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    monkeypatch.setattr(fetch.ssl, "create_default_context", lambda: trusting)
    url = f"https://localhost:{port}/p.png"
    assert fetch_image_bytes(url, limits=LOCAL, allow_local_files=False) == PNG
    assert https_server.hosts[-1] == f"localhost:{port}"
    with pytest.raises(ProductImageUnreachable, match="certificate"):  # issued for another name
        fetch_image_bytes(f"https://127.0.0.1:{port}/p.png", limits=LOCAL, allow_local_files=False)


@pytest.mark.parametrize("after_headers", [False, True], ids=["before-headers", "mid-body"])
def test_a_stalled_server_times_out_within_the_deadline(server: LocalServer, after_headers: bool):
    def stall(handler: BaseHTTPRequestHandler) -> None:
        server.release.wait(10)

    def partial(handler: BaseHTTPRequestHandler) -> None:  # declares twice what it sends
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(PNG) * 2))
        handler.end_headers()
        handler.wfile.write(PNG)
        server.release.wait(10)

    server.routes["/slow.png"] = partial if after_headers else stall
    started = time.monotonic()
    with pytest.raises(ProductImageTimeout):
        fetch_and_decode(f"{server.base}/slow.png", ONE_SECOND)
    assert time.monotonic() - started < 1.8


def test_a_server_dripping_bytes_is_stopped_at_the_total_deadline(server: LocalServer):
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        while not server.release.wait(0.1):  # each byte comes well inside any socket timeout
            handler.wfile.write(b"x")
            handler.wfile.flush()

    server.routes["/drip.png"] = drip
    started = time.monotonic()
    with pytest.raises(ProductImageTimeout):
        fetch_and_decode(f"{server.base}/drip.png", ONE_SECOND)
    assert time.monotonic() - started < 1.8


def test_redirects_are_followed_to_the_image(server: LocalServer):
    server.routes["/a"] = redirect("/b", 301)
    server.routes["/b"] = redirect(f"{server.base}/img.png", 307)
    server.routes["/img.png"] = send(PNG)
    assert fetch_image_bytes(f"{server.base}/a", limits=LOCAL, allow_local_files=False) == PNG


def test_too_many_redirects_are_unreachable(server: LocalServer):
    server.routes["/loop"] = redirect("/loop")
    limits = FetchLimits(max_redirects=3, allow_private_addresses=True)
    with pytest.raises(ProductImageUnreachable, match="more than 3 times"):
        fetch_image_bytes(f"{server.base}/loop", limits=limits, allow_local_files=False)
    assert len(server.hosts) == 4


@pytest.mark.parametrize("location", ["http://169.254.169.254/latest/meta-data",
                                      "ftp://example.com/x", "file:///etc/passwd",
                                      "http://localhost:9/x.png"])
def test_a_redirect_to_a_forbidden_place_is_refused_before_connecting(
        server: LocalServer, monkeypatch: pytest.MonkeyPatch, location: str):
    # The test server's 127.0.0.1 counts as public; every other address is checked for real.
    real_check, real_connect, connected = fetch.address_problem, fetch._connect, []
    monkeypatch.setattr(fetch, "address_problem",
                        lambda address: None if str(address) == "127.0.0.1" and not connected
                        else real_check(address))
    monkeypatch.setattr(fetch, "_connect", lambda target, addresses, deadline: (
        connected.append(target.host), real_connect(target, addresses, deadline))[1])
    server.routes["/hop.png"] = redirect(location)
    with pytest.raises(ProductImageForbidden):
        fetch_image_bytes(f"{server.base}/hop.png", limits=FetchLimits(), allow_local_files=True)
    assert connected == ["127.0.0.1"]


# --- refused before any connection ----------------------------------------------------------

@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []
    monkeypatch.setattr(fetch, "_connect", lambda target, *_: attempts.append(target.host))
    return attempts


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x.png", "http://localhost/x.png", "http://10.0.0.1/x.png",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/x.png", "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/", "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://[fe80::1]/", "http://[fc00::1]/", "http://2130706433/",
    "http://[2002:7f00:1::]/", "http://[64:ff9b::a9fe:a9fe]/", "http://metadata.google.internal/",
])
def test_private_and_metadata_addresses_are_forbidden_without_connecting(url: str, no_connections):
    with pytest.raises(ProductImageForbidden):
        fetch_image_bytes(url, limits=FetchLimits(), allow_local_files=False)
    assert no_connections == []


@pytest.mark.parametrize("url, fragment", [
    ("ftp://example.com/a.png", "ftp:"), ("file:///etc/passwd", "file:"),
    ("data:image/png;base64,AAAA", "data:"), ("gopher://example.com/", "gopher:"),
    ("javascript:alert(1)", "javascript:"), ("/etc/passwd", "no scheme"),
    ("http://user:hunter2@example.com/a.png", "credentials"),
])
def test_other_schemes_and_credentials_are_forbidden(url: str, fragment: str, no_connections):
    with pytest.raises(ProductImageForbidden) as caught:
        fetch_image_bytes(url, limits=FetchLimits(), allow_local_files=False)
    assert fragment in caught.value.message and "hunter2" not in caught.value.message
    assert no_connections == []


def test_a_refused_connection_is_unreachable():
    with pytest.raises(ProductImageUnreachable, match="refused"):
        fetch_image_bytes("http://127.0.0.1:9/x.png", limits=LOCAL, allow_local_files=False)


# --- local files ----------------------------------------------------------------------------

def test_local_paths_and_file_urls_are_read_when_allowed(tmp_path: Path):
    path = tmp_path / "product.png"
    path.write_bytes(PNG)
    assert fetch_image_bytes(str(path), limits=FetchLimits(), allow_local_files=True) == PNG
    assert fetch_image_bytes(path.as_uri(), limits=FetchLimits(), allow_local_files=True) == PNG
    with pytest.raises(ProductImageUnreachable):
        fetch_image_bytes(str(tmp_path / "gone.png"), limits=FetchLimits(), allow_local_files=True)
    with pytest.raises(ProductImageTooLarge):
        fetch_image_bytes(str(path), limits=FetchLimits(max_bytes=100), allow_local_files=True)


# --- decoding -------------------------------------------------------------------------------

def png_with_header_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height`."""
    data = bytearray(encode(Image.new("1", (8, 8)), "PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:33] = ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_huge_dimensions_in_few_bytes_are_refused_before_decoding(server: LocalServer):
    bomb = encode(Image.new("1", (8000, 8000)), "PNG")  # 64 Mpx in a few kB
    server.routes["/bomb.png"] = send(bomb)
    assert len(bomb) < 100_000
    with pytest.raises(ProductImageTooLarge) as caught:
        fetch_and_decode(f"{server.base}/bomb.png")
    assert caught.value.details == {"width": 8000, "height": 8000, "limit": LOCAL.max_pixels}
    with pytest.raises(ProductImageTooLarge):
        decode_product_image(png_with_header_size(100_000, 100_000), max_pixels=10**12)


@pytest.mark.parametrize("body", [PNG, JPEG], ids=["png", "jpeg"])
def test_a_truncated_image_is_invalid(server: LocalServer, body: bytes):
    server.routes["/cut"] = send(body[: len(body) * 2 // 3], content_type="image/png")
    with pytest.raises(ProductImageInvalid, match="truncated"):
        fetch_and_decode(f"{server.base}/cut")


@pytest.mark.parametrize("data, named", [
    (b"", "empty"), (b"just some text", "not an image"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    (encode(noise_image(), "TIFF"), "TIFF"),
])
def test_unsupported_or_non_image_data_is_invalid_and_named(data: bytes, named: str):
    with pytest.raises(ProductImageInvalid, match=named):
        decode_product_image(data, max_pixels=10**6)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    rgba = decode_product_image(encode(noise_image(96, 64), "JPEG", exif=exif), max_pixels=10**6)
    assert rgba.shape == (96, 64, 4)


def test_the_first_frame_of_an_animation_is_taken():
    frames = [Image.new("RGB", (20, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    rgba = decode_product_image(gif, max_pixels=10**6)
    assert rgba.shape == (10, 20, 4) and tuple(rgba[5, 10]) == (255, 0, 0, 255)


@pytest.mark.parametrize("image, fmt, expected", [
    (Image.new("P", (4, 4), 0), "PNG", None),
    (Image.new("LA", (4, 4), (128, 64)), "PNG", (128, 128, 128, 64)),
    (Image.new("CMYK", (4, 4), (0, 255, 255, 0)), "JPEG", None),
    (Image.fromarray(np.full((4, 4), 65535, np.uint16)), "PNG", (255, 255, 255, 255)),
    (Image.new("RGB", (4, 4), (10, 200, 30)), "WEBP", None),
    (Image.new("RGB", (4, 4), (10, 200, 30)), "BMP", (10, 200, 30, 255)),
])
def test_other_modes_and_formats_become_rgba(image: Image.Image, fmt: str, expected: tuple | None):
    rgba = decode_product_image(encode(image, fmt, **({"lossless": True} if fmt == "WEBP" else {})),
                                max_pixels=10**6)
    assert rgba.shape == (4, 4, 4) and rgba.dtype == np.uint8
    if expected is not None:
        assert tuple(rgba[0, 0]) == expected
    if image.mode == "CMYK":  # pure red in CMYK terms
        assert rgba[0, 0, 0] > 200 and rgba[0, 0, 1] < 60 and rgba[0, 0, 2] < 60
