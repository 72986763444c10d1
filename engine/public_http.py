"""HTTP to public addresses only, sent to the very address that was checked.

    deadline = Deadline(10.0)
    addresses = resolve_within("hooks.example.com", 443, deadline)   # every address it resolves to
    problem = address_problem(addresses[0])                           # "loopback", ... or None
    status = post_to_public("https://hooks.example.com/ugen", raw, headers, timeout_s=10,
                            allow_private=False)                        # PublicHttpRefused if not public

The host is resolved once, every address is checked (IPv4 inside IPv6 forms are unwrapped
first), and the socket connects to a checked address, so a second DNS answer cannot send the
request elsewhere (DNS rebinding). TLS still verifies the certificate against the host name.
One deadline covers resolving, connecting, TLS, the request and the response: socket timeouts
apply per call, so a watchdog shuts the socket when the deadline passes. http.client reads no
`*_PROXY` variable, so no proxy carries a request where the check did not look.
engine/fetch.py fetches product images with these pieces; the API's webhooks use `post_to_public`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Names that reach cloud metadata services whatever a given resolver says about them.
METADATA_HOSTNAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog",
                                "instance-data", "instance-data.ec2.internal"})


class PublicHttpRefused(ValueError):
    """The URL may not be sent to: not http(s), no host, or a non-public address."""


class Deadline:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._end = time.monotonic() + timeout_s

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())


def address_problem(address: IpAddress) -> str | None:
    """Why `address` must not be connected to, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 carries an IPv4 address
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("carrier-grade NAT", address in ipaddress.ip_network("100.64.0.0/10")),
              ("private", address.is_private), ("reserved", address.is_reserved),
              ("non-public", not address.is_global))
    return next((reason for reason, hit in checks if hit), None)


def resolve_within(host: str, port: int, deadline: Deadline) -> list[IpAddress]:
    """Every address `host` resolves to, once each. socket.getaddrinfo has no timeout of its
    own: it runs in a daemon thread that is left behind, not stopped, when time runs out."""
    outcome: list[list[tuple] | OSError | UnicodeError] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:
            outcome.append(exc)

    worker = threading.Thread(target=lookup, name="ugen-dns", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if not outcome:
        raise TimeoutError(f"resolving {host} took longer than {deadline.timeout_s:.1f} s")
    if isinstance(outcome[0], (OSError, UnicodeError)):
        raise outcome[0]
    # Scope ids ("fe80::1%eth0") are dropped: the address itself is what gets checked.
    found = [ipaddress.ip_address(info[4][0].partition("%")[0]) for info in outcome[0]]
    return list(dict.fromkeys(found))


def connect_first(addresses: list[IpAddress], port: int, deadline: Deadline) -> socket.socket:
    """A socket connected to the first of the (checked) addresses that answers."""
    errors: list[OSError] = []
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), deadline.remaining())
        except OSError as exc:
            errors.append(exc)
    raise errors[-1] if errors else OSError(f"no address to connect to on port {port}")


def secure(sock: socket.socket, host: str, watchdog: Watchdog) -> ssl.SSLSocket:
    """TLS over the connected socket, with SNI and certificate checks against the host name."""
    tls = ssl.create_default_context().wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    watchdog.sock = tls  # the handshake is read under the same hard deadline
    try:
        tls.do_handshake()
    except OSError:
        tls.close()  # the plain socket was handed over to `tls`: this is the one to close
        raise
    return tls


class Watchdog:
    """Wakes a blocked read at the deadline: a server dripping a byte at a time could
    otherwise stretch a request far past it."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self._timer = threading.Timer(deadline.remaining(), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        # The plain socket's shutdown, not SSLSocket's: it wakes the reader and leaves TLS alone.
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: the request ended by itself and there is nothing to stop

    def cancel(self) -> None:
        self._timer.cancel()


def checked_addresses(host: str, port: int, deadline: Deadline, *, allow_private: bool) -> list[IpAddress]:
    """`host`'s addresses; PublicHttpRefused when any of them is not public."""
    if host in METADATA_HOSTNAMES:
        raise PublicHttpRefused(f"{host} names a cloud metadata service")
    addresses = resolve_within(host, port, deadline)
    for address in addresses:
        if not allow_private and (reason := address_problem(address)) is not None:
            raise PublicHttpRefused(f"{host} resolves to a non-public address ({address}: {reason})")
    return addresses


def post_to_public(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float,
                   allow_private: bool) -> int:
    """POSTs `body` to `url` at an address checked just before; returns the HTTP status.
    Redirects are not followed. Raises PublicHttpRefused, or OSError / http.client.HTTPException
    (TimeoutError once `timeout_s` has passed)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise PublicHttpRefused("only http(s) URLs with a host are sent to")
    port = parts.port or (443 if scheme == "https" else 80)
    deadline = Deadline(timeout_s)
    sock = connect_first(checked_addresses(host, port, deadline, allow_private=allow_private), port, deadline)
    watchdog = Watchdog(sock, deadline)
    connection = http.client.HTTPConnection(host, port)
    try:
        if scheme == "https":
            sock = secure(sock, host, watchdog)
        connection.sock = sock  # connected to the checked address: no second lookup
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        if deadline.remaining() <= 0:
            raise TimeoutError(f"no answer within {timeout_s:g} s")
        return response.status
    finally:
        watchdog.cancel()
        connection.close()
        sock.close()
