"""A loopback relay in front of a test bed store (OpenBao) that can make it slow or throttling.

The store stays real: every request the relay lets through is forwarded to it and its answer
returned unchanged. What the relay adds, switchable while it runs:
- `delay`: every request is held that many seconds first (a store whose calls take 5 s);
- `throttling`: every request is answered at once with HTTP 429 and the body Vault and OpenBao
  send when a rate limit quota is exceeded, and never reaches the store.
Every request is recorded with its arrival time and whether it was throttled, so a test counts
from outside how often the operator called while it was told to slow down.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any


def throttled_body(path: str) -> bytes:
    """What Vault's and OpenBao's rate limit quota check answers, with status 429: the request
    path without /v1/ and the quota error (their http/util.go, rateLimitQuotaWrapping)."""
    request_path = path.split("?", 1)[0].removeprefix("/v1/")
    return json.dumps(
        {"errors": [f"request path {json.dumps(request_path)}: rate limit quota exceeded"]}
    ).encode()


@dataclasses.dataclass(frozen=True)
class Arrival:
    at: float
    """time.monotonic() when the request arrived."""
    method: str
    path: str
    throttled: bool


class StoreProxy:
    def __init__(self, upstream: str, *, delay: float = 0.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay = delay
        self.throttling = False
        self.url = ""
        self._arrivals: list[Arrival] = []
        self._lock = threading.Lock()

    def throttle(self, on: bool) -> None:
        with self._lock:
            self.throttling = on

    def arrivals(self, since: float = 0.0) -> list[Arrival]:
        with self._lock:
            return [a for a in self._arrivals if a.at >= since]

    def _admit(self, method: str, path: str) -> bool:
        """Record a request; True when it is to be answered 429."""
        with self._lock:
            arrival = Arrival(time.monotonic(), method, path, self.throttling)
            self._arrivals.append(arrival)
            return arrival.throttled

    def forward(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the test bed's store, on loopback
            self.upstream + path, body or None, headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Content-Type")


def _handler(proxy: StoreProxy) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            if proxy._admit(self.command, self.path):
                self._answer(429, throttled_body(self.path), "application/json")
                return
            if proxy.delay > 0:
                time.sleep(proxy.delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            status, data, content_type = proxy.forward(self.command, self.path, body, headers)
            self._answer(status, data, content_type or "application/json")

        do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _relay

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up on a held request (an operator stopped mid-call) is no error
        of the relay's; anything else is still printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def store_proxy(upstream: str, *, delay: float = 0.0) -> Iterator[StoreProxy]:
    """A running relay to `upstream` on a free loopback port (`proxy.url`), stopped after."""
    proxy = StoreProxy(upstream, delay=delay)
    server = _Server(("127.0.0.1", 0), _handler(proxy))
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        worker.join()
