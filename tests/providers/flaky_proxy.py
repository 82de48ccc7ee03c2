"""A loopback HTTP proxy that fails the first N requests, then forwards the rest to a real server.

It witnesses a client's retries from outside: every request that reaches it is recorded with its
arrival time, so a test can count the attempts a provider made and the waits between them.
Failing means a 503 answer, or (`drop=True`) closing the connection without answering, which a
client sees as the server going away mid-request.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any


class FlakyProxy:
    def __init__(self, upstream: str, fail: int, *, drop: bool = False) -> None:
        self.upstream = upstream.rstrip("/")
        self.fail = fail
        self.drop = drop
        self.arrivals: list[tuple[float, str, str]] = []
        """(monotonic time, method, path) of every request received."""
        self._lock = threading.Lock()
        self.url = ""

    @property
    def attempts(self) -> int:
        return len(self.arrivals)

    def gaps(self) -> list[float]:
        times = [t for t, _, _ in self.arrivals]
        return [b - a for a, b in itertools.pairwise(times)]

    def reset(self, fail: int) -> None:
        with self._lock:
            self.arrivals, self.fail = [], fail

    def _admit(self, method: str, path: str) -> bool:
        """Record a request; True when it is to be failed."""
        with self._lock:
            self.arrivals.append((time.monotonic(), method, path))
            return len(self.arrivals) <= self.fail


def _handler(proxy: FlakyProxy) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            if proxy._admit(self.command, self.path):
                if proxy.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._answer(503, b'{"errors":["flaky proxy: unavailable"]}', {})
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            request = urllib.request.Request(  # noqa: S310 - the test bed's server, on loopback
                proxy.upstream + self.path, body or None, headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    self._answer(response.status, response.read(), dict(response.headers))
            except urllib.error.HTTPError as error:
                self._answer(error.code, error.read(), dict(error.headers))

        do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _relay

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextlib.contextmanager
def flaky_proxy(upstream: str, fail: int, *, drop: bool = False) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream, fail, drop=drop)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        worker.join()
