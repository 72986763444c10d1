"""A loopback TCP proxy that can cut every connection: an outage of Redis (or any TCP service).

    proxy = CuttableProxy(target_port=6379).start()
    url = f"redis://127.0.0.1:{proxy.port}/10"   # give this to the process under test
    proxy.cut()        # live connections are shut, new ones refused: the service is unreachable
    proxy.restore()    # listens again on the same port and forwards as before
    proxy.stop()

Bounded: it listens on 127.0.0.1 only, forwards to 127.0.0.1 only, and closes connections
beyond `max_connections` at once, so a runaway client cannot pile up threads.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.seaweed import free_port


class CuttableProxy:
    def __init__(self, target_port: int, *, max_connections: int = 64) -> None:
        self.port, self.target_port, self.max_connections = free_port(), target_port, max_connections
        self._listener: socket.socket | None = None
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> CuttableProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        """Stops listening (connects are refused) and shuts every live connection both ways."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            live, self._live = self._live, set()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pipe threads blocked in recv
            sock.close()

    stop = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut or stopped
            with self._lock:
                full = len(self._live) >= 2 * self.max_connections
            if full or listener is not self._listener:
                client.close()
                continue
            self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._live.update((client, upstream))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with self._lock:
            self._live.discard(source)
