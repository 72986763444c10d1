"""Download a job's uploaded music track from the API, over the link the API signed for the job.

    path = fetch_music(spec.delivery.music, callback_url=spec.delivery.callback_url,
                       dest=work / "music", timeout_s=60.0)          # work/music.wav, say

The API puts the link in the message's delivery block (docs/api.md, Music). The API usually
lives at a private address, so engine/fetch.py's public-address rule cannot hold here; instead
the link must be on the very origin (scheme, host, port) the delivery names for callbacks, the
one place the worker already sends its signed events. Any other URL is refused
(MUSIC_URL_FORBIDDEN) before anything is resolved, and redirects are not followed. One deadline
covers the whole fetch; at most `link.max_bytes` are read (MUSIC_TOO_LARGE past that). The bytes
go to a ".part" file renamed into place only when complete: a failed fetch leaves no file.
Messages and details never show the link's query, which holds its signature.
"""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import MusicFetchFailed, MusicNotFound, MusicTooLarge, MusicUrlForbidden, UGenError
from engine.public_http import Deadline, Watchdog, connect_first, resolve_within, secure
from engine.spec import MusicLink

CHUNK_BYTES = 64 * 1024
SUFFIXES = {"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/ogg": ".ogg",
            "audio/aac": ".aac", "audio/mp4": ".m4a"}
Origin = tuple[str, str, int]  # scheme, host (lower case), port


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, or None when it has no usable one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return None
    return scheme, parts.hostname.rstrip(".").lower(), port


def shown(url: str) -> str:
    """The URL without credentials, query or fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def fetch_music(link: MusicLink, *, callback_url: str | None, dest: Path, timeout_s: float) -> Path:
    """The track saved as `dest` plus the suffix its Content-Type names (".bin" if none)."""
    where = trusted_origin(link.url, callback_url)
    partial = dest.with_name(dest.name + ".part")
    deadline = Deadline(timeout_s)
    try:
        content_type = _download(link, where, partial, deadline)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    path = dest.with_suffix(SUFFIXES.get(content_type, ".bin"))
    os.replace(partial, path)
    return path


def trusted_origin(url: str, callback_url: str | None) -> Origin:
    """`url`'s origin when it is the callback URL's; MusicUrlForbidden otherwise."""
    own, trusted = origin(url), origin(callback_url or "")
    parts = urlsplit(url)
    if trusted is None:
        raise _error(MusicUrlForbidden, url, "cannot be checked: the job names no callback URL to trust")
    if own is None or parts.username is not None or parts.password is not None:
        raise _error(MusicUrlForbidden, url, "is not a plain http(s) URL")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise _error(MusicUrlForbidden, url, "contains spaces or control characters")
    if own != trusted:
        raise _error(MusicUrlForbidden, url, "is not on the API's origin (the callback URL's)",
                     trusted_origin="{}://{}:{}".format(*trusted))
    return own


def _error(kind: type[UGenError], url: str, reason: str, /, **details: object) -> UGenError:
    return kind(f"The music track link {shown(url)} {reason}.", details={"url": shown(url), **details})


def _download(link: MusicLink, where: Origin, partial: Path, deadline: Deadline) -> str:
    """Writes the body to `partial`; returns the response's content type."""
    scheme, host, port = where
    try:  # the operator's own API: a private address is expected here, and allowed for it only
        sock = connect_first(resolve_within(host, port, deadline), port, deadline)
    except (OSError, UnicodeError) as exc:
        raise _error(MusicFetchFailed, link.url, f"cannot be reached ({type(exc).__name__})") from exc
    watchdog = Watchdog(sock, deadline)
    connection = http.client.HTTPConnection(host, port)
    try:
        if scheme == "https":
            sock = secure(sock, host, watchdog)
        connection.sock = sock
        parts = urlsplit(link.url)
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           headers={"User-Agent": "ugen-engine (music fetch)", "Accept": "audio/*",
                                    "Accept-Encoding": "identity"})
        response = connection.getresponse()
        _check_status(response.status, link.url)
        _copy_body(response, partial, link, deadline)
        return (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    except (OSError, http.client.HTTPException) as exc:
        reason = (f"did not answer within {deadline.timeout_s:g} s" if deadline.remaining() <= 0
                  else f"failed mid-transfer ({type(exc).__name__})")
        raise _error(MusicFetchFailed, link.url, reason) from exc
    finally:
        watchdog.cancel()
        connection.close()
        sock.close()


def _check_status(status: int, url: str) -> None:
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise _error(MusicUrlForbidden, url, f"answered a redirect (HTTP {status}), which is not followed",
                     status=status)
    if status in (401, 403):
        raise _error(MusicUrlForbidden, url, f"was refused by the API (HTTP {status}): a bad or expired signature",
                     status=status)
    if status in (408, 425, 429) or status >= 500:
        raise _error(MusicFetchFailed, url, f"answered HTTP {status}", status=status)
    raise _error(MusicNotFound, url, f"answered HTTP {status}: the API has no such track for this job",
                 status=status)


def _copy_body(response: http.client.HTTPResponse, partial: Path, link: MusicLink, deadline: Deadline) -> None:
    declared, limit = response.length, link.max_bytes  # length is None when chunked
    if declared is not None and declared > limit:
        raise _error(MusicTooLarge, link.url, f"declares {declared} bytes, more than {limit}", limit=limit,
                     size=declared)
    size = 0
    with partial.open("wb") as out:
        while chunk := response.read1(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise _error(MusicTooLarge, link.url, f"sent more than {limit} bytes", limit=limit, size=size)
            out.write(chunk)
    if deadline.remaining() <= 0:  # the watchdog ended the read
        raise TimeoutError
    if response.length:
        raise _error(MusicFetchFailed, link.url, f"closed the connection after {size} bytes", size=size,
                     expected=declared)
