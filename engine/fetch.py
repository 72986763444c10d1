"""Fetch an untrusted product image's bytes under byte and time caps.

    data = fetch_image_bytes(spec.product_image_url, limits=settings.fetch, allow_local_files=False)
    rgba = decode_product_image(data, max_pixels=settings.fetch.max_pixels)  # engine.image_decode

Only http(s) URLs to public addresses are fetched (plus local files when a local render asks).
The host is resolved here, every address it resolves to is checked, and the connection goes
to a checked address, so a second DNS answer cannot send it elsewhere (DNS rebinding); TLS
still verifies the certificate against the host name. Redirects are followed here and each
hop is checked again. One deadline, `limits.timeout_s`, covers the whole fetch. The checked
resolve and connect live in engine/public_http.py, which the API's webhooks use too.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit
from urllib.request import url2pathname

from engine.errors import (ProductImageForbidden, ProductImageInvalid, ProductImageTimeout,
                           ProductImageTooLarge, ProductImageUnreachable, UGenError)
from engine.public_http import (METADATA_HOSTNAMES, Deadline, IpAddress, Watchdog, address_problem, connect_first,
                                resolve_within, secure)
from engine.settings import FetchLimits

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
URL_SAFE = "/%:@!$&'()*+,;=?~"  # left as they are in a request path or query


@dataclass(frozen=True)
class _Target:
    """One hop, parsed and checked: where to connect and what to ask for."""

    url: str
    scheme: str
    host: str  # lower case, without brackets
    port: int
    request_path: str  # path and query, as sent in the request line
    shown: str  # safe to show: no credentials, no query


def fetch_image_bytes(source: str, *, limits: FetchLimits, allow_local_files: bool) -> bytes:
    """The bytes at `source`: an http(s) URL, or a local path / file:// URL when allowed."""
    if allow_local_files and urlsplit(source).scheme.lower() in ("", "file"):
        return _read_local(source, limits.max_bytes)
    deadline = Deadline(limits.timeout_s)
    target = _parse_url(source)
    for _ in range(limits.max_redirects + 1):
        addresses = _checked_addresses(target, limits, deadline)
        body, location = _fetch_hop(target, addresses, limits, deadline)
        if location is None:
            return body
        target = _parse_url(urljoin(target.url, location))
    raise _error(ProductImageUnreachable, _shown(source),
                 f"redirected more than {limits.max_redirects} times", limit=limits.max_redirects)


def _error(kind: type[UGenError], shown: str, reason: str, /, *, noun: str = "URL",
           **details: object) -> UGenError:
    """One sentence naming the URL and the reason; details repeat the facts for machines."""
    key = "url" if noun == "URL" else noun
    return kind(f"The product image {noun} {shown} {reason}.", details={key: shown, **details})


def _read_local(source: str, max_bytes: int) -> bytes:
    parts = urlsplit(source)
    if parts.scheme.lower() == "file" and parts.netloc not in ("", "localhost"):
        raise _error(ProductImageForbidden, _shown(source), "names a remote host",
                     host=parts.netloc)
    path = Path(url2pathname(parts.path) if parts.scheme else source)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _error(ProductImageUnreachable, str(path), f"cannot be read ({exc.strerror or exc})",
                     noun="file") from exc
    if len(data) > max_bytes:
        raise _error(ProductImageTooLarge, str(path), f"is larger than {max_bytes} bytes",
                     noun="file", limit=max_bytes, size=path.stat().st_size)
    return data


def _parse_url(url: str) -> _Target:
    parts, shown = urlsplit(url), _shown(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        what = f"the {scheme}: scheme" if scheme else "no scheme"
        raise _error(ProductImageForbidden, shown, f"uses {what}; only http and https are allowed",
                     scheme=scheme)
    if parts.username is not None or parts.password is not None:
        raise _error(ProductImageForbidden, shown, "carries credentials, which are not allowed")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise _error(ProductImageForbidden, shown, "contains spaces or control characters")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise _error(ProductImageForbidden, shown, "has an invalid port") from exc
    try:  # an international name travels as its ASCII (punycode) form
        host = parts.hostname.rstrip(".").encode("idna").decode("ascii") if parts.hostname else ""
    except UnicodeError as exc:
        raise _error(ProductImageForbidden, shown, "has an invalid host name") from exc
    if not host:
        raise _error(ProductImageForbidden, shown, "has no host")
    # Non-ASCII in the path is sent percent-encoded as UTF-8, as browsers do; "%" stays as is.
    path = quote(parts.path or "/", safe=URL_SAFE)
    path += f"?{quote(parts.query, safe=URL_SAFE)}" if parts.query else ""
    return _Target(url, scheme, host, port, path, shown)


def _shown(url: str) -> str:
    """The URL without credentials, query or fragment: those may hold secrets."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path


def _checked_addresses(target: _Target, limits: FetchLimits,
                       deadline: Deadline) -> list[IpAddress]:
    """Every address the host resolves to; ProductImageForbidden if any is not public."""
    if target.host in METADATA_HOSTNAMES:
        raise _error(ProductImageForbidden, target.shown, "names a cloud metadata service",
                     host=target.host)
    addresses = _resolve(target, deadline)
    for address in addresses:
        reason = None if limits.allow_private_addresses else address_problem(address)
        if reason is not None:
            raise _error(ProductImageForbidden, target.shown,
                         f"resolves to a non-public address ({address}: {reason})",
                         address=str(address), reason=reason)
    return addresses


def _resolve(target: _Target, deadline: Deadline) -> list[IpAddress]:
    try:
        return resolve_within(target.host, target.port, deadline)
    except (OSError, UnicodeError) as exc:
        if isinstance(exc, TimeoutError) or getattr(exc, "errno", None) == socket.EAI_AGAIN:
            raise _error(ProductImageTimeout, target.shown,
                         "has a host name that did not resolve in time") from exc
        raise _error(ProductImageUnreachable, target.shown, "has a host name that does not resolve",
                     host=target.host) from exc


def _fetch_hop(target: _Target, addresses: list[IpAddress], limits: FetchLimits,
               deadline: Deadline) -> tuple[bytes, str | None]:
    """(body, None) for an image, (b"", location) for a redirect."""
    sock = _connect(target, addresses, deadline)
    watchdog = Watchdog(sock, deadline)
    connection = http.client.HTTPConnection(target.host, target.port)
    try:
        if target.scheme == "https":
            sock = secure(sock, target.host, watchdog)
        connection.sock = sock  # connected to the checked address: no second lookup
        connection.request("GET", target.request_path, headers=_headers(target))
        response = connection.getresponse()
        location = _redirect_or_raise(response, target)
        body = b"" if location is not None else _read_body(response, target, limits, deadline)
        return body, location
    except (OSError, http.client.HTTPException) as exc:
        raise _network_error(exc, target, deadline) from exc
    finally:
        watchdog.cancel()
        connection.close()
        sock.close()


def _connect(target: _Target, addresses: list[IpAddress], deadline: Deadline) -> socket.socket:
    try:  # all checked already; the first that answers is used
        return connect_first(addresses, target.port, deadline)
    except OSError as exc:
        raise _network_error(exc, target, deadline) from exc


def _headers(target: _Target) -> dict[str, str]:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != (443 if target.scheme == "https" else 80):
        host = f"{host}:{target.port}"
    return {"Host": host, "User-Agent": "ugen-engine (product image fetch)", "Accept": "image/*",
            "Accept-Encoding": "identity"}


def _redirect_or_raise(response: http.client.HTTPResponse, target: _Target) -> str | None:
    """The redirect location, None for an image response, or the error the status means."""
    status, location = response.status, response.getheader("Location")
    if status in REDIRECT_STATUSES and location:
        return location
    if status in (408, 429) or status >= 500:
        raise _error(ProductImageTimeout, target.shown, f"answered HTTP {status}", status=status)
    if not 200 <= status < 300:
        raise _error(ProductImageUnreachable, target.shown, f"answered HTTP {status}",
                     status=status)
    content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise _error(ProductImageInvalid, target.shown, "is a web page, not an image",
                     status=status, content_type=content_type)
    return None


def _read_body(response: http.client.HTTPResponse, target: _Target, limits: FetchLimits,
               deadline: Deadline) -> bytes:
    declared, limit = response.length, limits.max_bytes  # length is None when chunked
    if declared is not None and declared > limit:
        raise _error(ProductImageTooLarge, target.shown, f"declares more than {limit} bytes",
                     limit=limit, size=declared)
    chunks, size = [], 0
    while chunk := response.read1(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise _error(ProductImageTooLarge, target.shown, f"sent more than {limit} bytes",
                         limit=limit, size=size)
        chunks.append(chunk)
    if deadline.remaining() <= 0:  # the watchdog ended the read
        raise _network_error(TimeoutError(), target, deadline)
    if response.length:
        raise _error(ProductImageTimeout, target.shown, f"closed the connection after {size} bytes",
                     size=size, expected=declared)
    return b"".join(chunks)


def _network_error(exc: Exception, target: _Target, deadline: Deadline) -> UGenError:
    shown = target.shown
    if isinstance(exc, TimeoutError) or deadline.remaining() <= 0:
        return _error(ProductImageTimeout, shown, f"did not answer within {deadline.timeout_s:g} s",
                      limit=deadline.timeout_s)
    if isinstance(exc, ConnectionRefusedError):
        return _error(ProductImageUnreachable, shown, "refused the connection")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _error(ProductImageUnreachable, shown,
                      f"has a TLS certificate that fails verification ({exc.verify_message})")
    if isinstance(exc, (ConnectionError, http.client.IncompleteRead)):
        return _error(ProductImageTimeout, shown, "dropped the connection")
    if isinstance(exc, http.client.HTTPException):
        return _error(ProductImageUnreachable, shown, "did not answer with valid HTTP")
    return _error(ProductImageUnreachable, shown, f"cannot be reached ({exc})")
