"""Git push deliveries as GitHub and GitLab send them, for the operator tests and the bench."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tests.testbed import procs

TOKEN = "webhook-" + uuid.uuid4().hex


def deliver(port: int, payload: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hooks/git",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def github(payload: dict[str, Any], secret: str = TOKEN) -> dict[str, str]:
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={digest}"}


def push(url: str, ref: str = "refs/heads/main") -> dict[str, Any]:
    return {"ref": ref, "repository": {"clone_url": url, "html_url": url.removesuffix(".git")}}


def operator_args(folder: Path) -> tuple[int, list[str]]:
    """The operator flags for a webhook on a free port, with TOKEN in a file under `folder`."""
    token_file = folder / f"token-{uuid.uuid4().hex[:6]}"
    token_file.write_text(TOKEN + "\n")  # a trailing newline, as `kubectl create secret` leaves
    port = procs.free_port()
    args = ["--webhook-address", f"127.0.0.1:{port}", "--webhook-token-file", str(token_file)]
    return port, args
