"""Whether the broker answers, and the one line a command prints when it does not.

    why = broker_down("redis://127.0.0.1:6379/0", timeout_s=3)   # None, or "connection refused"
    print(down_line("ugen-enqueue", url, why))   # ugen-enqueue: broker redis://127.0.0.1:6379/0 is unreachable (...)

A TCP connection to the URL's host and port, nothing more: enough to tell "down" or "wrong
address" apart from everything else before a command starts work, so an operator gets one
stable line and exit code EXIT_UNAVAILABLE (sysexits' EX_UNAVAILABLE) rather than a traceback.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

EXIT_UNAVAILABLE = 69
DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}


def broker_down(url: str, *, timeout_s: float = 3.0) -> str | None:
    """None when something accepts a TCP connection at the broker's address, else why not."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return "its port is not a number"
    if not parts.hostname or port is None:
        return "the URL names no host and port"
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        return (exc.strerror or str(exc) or type(exc).__name__).lower()
    return None


def redacted(url: str) -> str:
    """The URL without its credentials, for logs and messages."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()


def down_line(prog: str, url: str, why: str) -> str:
    return f"{prog}: broker {redacted(url)} is unreachable ({why})"
