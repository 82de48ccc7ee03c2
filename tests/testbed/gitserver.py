"""A Git smart-HTTP server on loopback: `git http-backend` behind a small threaded HTTP server.

Repositories under <root>/public are open; those under <root>/private need HTTP basic auth or a
bearer token. While a file <root>/failing exists every request answers 503 (fault tests).
Every request is appended to <root>/requests.log, so tests can count fetches from the server's
side.

Run as `python -m tests.testbed.gitserver --root DIR --port N --user U --password P --token T`.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Config:
    def __init__(self, root: Path, user: str, password: str, token: str) -> None:
        self.root = root
        self.basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.token = token
        self.lock = threading.Lock()


def make_handler(config: Config) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            with config.lock, (config.root / "requests.log").open("a") as log:
                log.write(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

        def _authorised(self) -> bool:
            if not self.path.startswith("/private/"):
                return True
            header = self.headers.get("Authorization", "")
            scheme, _, value = header.partition(" ")
            if scheme == "Basic":
                return hmac.compare_digest(value, config.basic)
            if scheme == "Bearer":
                return hmac.compare_digest(value, config.token)
            return False

        def _serve(self) -> None:
            if (config.root / "failing").exists():  # a fault test makes the server fail
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not self._authorised():
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="testbed"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, headers, body = run_backend(
                config.root, self.command, self.path, self.headers, self._body()
            )
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().strip(), 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    return Handler


def run_backend(
    root: Path, method: str, raw_path: str, headers: object, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    path, _, query = raw_path.partition("?")
    get = headers.get  # type: ignore[attr-defined]
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_USER": "testbed",  # lets http-backend accept pushes
        "GIT_PROTOCOL": get("Git-Protocol", ""),
        "HTTP_CONTENT_ENCODING": get("Content-Encoding", ""),
    }
    result = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
    )
    head, _, payload = result.stdout.partition(b"\r\n\r\n")
    status, out_headers = 200, []
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            out_headers.append((name, value.strip()))
    return status, out_headers, payload


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    config = Config(args.root, args.user, args.password, args.token)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(config))
    server.serve_forever()


if __name__ == "__main__":
    main()
