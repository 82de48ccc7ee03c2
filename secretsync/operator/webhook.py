"""Git push webhooks: POST /hooks/git, verified, then acted on by the replica that leads.

A Service in front of the replicas may hand a delivery to a standby, and Git hosts do not retry
a failed one. So a standby forwards the request unchanged to the URL the leader advertises in
the Lease, and the leader verifies it again. A forwarded request is never forwarded twice.
Nothing from the body is logged except the repository it names.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from secretsync.errors import ConfigError, SecretSyncError
from secretsync.gitsource import push

log = logging.getLogger(__name__)
PATH = "/hooks/git"
FORWARDED = "X-Secretsync-Forwarded"
_RELAYED = (
    "Content-Type",
    "X-Hub-Signature-256",
    "X-Gitea-Signature",
    "X-Forgejo-Signature",
    "X-Gogs-Signature",
    "X-Gitlab-Token",
    "X-GitHub-Event",
    "X-Gitea-Event",
    "X-Gitlab-Event",
)
FORWARD_TIMEOUT = 10.0

Reply = tuple[int, dict[str, Any]]


class TokenFile:
    """The shared secret, read again whenever its file changes: a Secret volume is updated in
    place, so rotating the token needs no restart. A file that turns empty or unreadable keeps
    the last good token, and says so in the log."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, int] | None = None
        self._token = b""
        self._lock = threading.Lock()
        if not self.current():
            raise ConfigError(f"{path} is empty", field="--webhook-token-file")

    def current(self) -> bytes:
        with self._lock:
            try:
                stat = self._path.stat()
                if (stat.st_mtime_ns, stat.st_size) != self._seen:
                    token = self._path.read_bytes().rstrip(b"\r\n")
                    if token.strip():
                        self._token, self._seen = token, (stat.st_mtime_ns, stat.st_size)
            except OSError as exc:
                if not self._token:
                    raise ConfigError(
                        f"cannot read {self._path}: {exc.strerror}", field="--webhook-token-file"
                    ) from None
                log.warning("webhook token file unreadable; keeping the last token")
            return self._token


class Receiver:
    def __init__(self, secret: Callable[[], bytes], leader_url: Callable[[], str | None]) -> None:
        self._secret, self._leader_url = secret, leader_url
        self._on_push: Callable[[push.Push], int] | None = None

    def lead(self, on_push: Callable[[push.Push], int]) -> None:
        """From now on this replica acts on pushes itself."""
        self._on_push = on_push

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        if not push.authentic(headers, body, self._secret()):
            return 401, {"error": "the signature or token is missing or wrong"}
        if push.is_ping(headers):
            return 200, {"pong": True}
        try:
            pushed = push.parse(body)
        except ConfigError as exc:
            return 400, {"error": str(exc)}
        if self._on_push is not None:
            queued = self._on_push(pushed)
            log.info(
                "git push received",
                extra={
                    "object": ",".join(sorted(pushed.repositories)),
                    "reason": f"{queued} ExternalSecrets queued",
                },
            )
            return 202, {"externalSecrets": queued}
        return self._to_leader(headers, body)

    def _to_leader(self, headers: Mapping[str, str], body: bytes) -> Reply:
        if any(k.lower() == FORWARDED.lower() for k in headers):
            return 503, {"error": "this replica does not lead; retry the delivery"}
        try:
            url = self._leader_url()
        except SecretSyncError as exc:  # the Lease could not be read: the Git host should retry
            return 503, {"error": f"the leader is unknown for now ({type(exc).__name__}); retry"}
        if not url:
            return 503, {"error": "no replica leads yet; retry the delivery"}
        return _forward(url, headers, body)


def _forward(url: str, headers: Mapping[str, str], body: bytes) -> Reply:
    relayed = {k: v for k, v in headers.items() if k.lower() in {h.lower() for h in _RELAYED}}
    request = urllib.request.Request(  # noqa: S310 - the leader's advertised http(s) URL
        url.rstrip("/") + PATH,
        data=body,
        method="POST",
        headers={**relayed, FORWARDED: "1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": f"the leader answered {exc.code}"}
    except (OSError, ValueError) as exc:
        return 502, {"error": f"forwarding to the leader failed: {type(exc).__name__}"}


def serve(address: str, receiver: Receiver) -> ThreadingHTTPServer:
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        timeout = 30  # seconds per socket read: this port faces the internet, slow clients too

        def do_POST(self) -> None:
            if self.path.split("?")[0] != PATH:
                self._reply(404, {"error": f"not found; pushes go to {PATH}"})
                return
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self._reply(411, {"error": "Content-Length is required"})
                return
            if int(length) > push.MAX_BODY:
                self._reply(413, {"error": f"the body is over {push.MAX_BODY} bytes"})
                return
            body = self.rfile.read(int(length))
            self._reply(*receiver.handle(dict(self.headers.items()), body))

        def _reply(self, code: int, payload: Mapping[str, Any]) -> None:
            data = (json.dumps(payload) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # deliveries are logged by the receiver, without their bodies

    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)  # noqa: S104
    threading.Thread(target=server.serve_forever, name="webhook", daemon=True).start()
    return server
