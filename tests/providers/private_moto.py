"""A moto server of a test module's own, for what the shared one must not be used for.

- `enforce_auth`: moto checks every request's SigV4 signature against the IAM user's secret key
  and evaluates IAM policies and role trust policies (moto's /moto-api/reset-auth). Everything
  the test needs is created first with moto's open defaults, as an AWS account's administrator
  would have done it, then enforcement starts.
- `recording`: moto writes every request it receives (headers, form body) to a file, so a test
  can read what really reached STS.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from tests.testbed import binaries, procs

REGION = "us-east-1"
ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@dataclasses.dataclass(frozen=True)
class PrivateMoto:
    endpoint_url: str
    folder: Path
    admin_key_id: str = ""
    admin_secret: str = dataclasses.field(default="", repr=False)

    @property
    def recording(self) -> Path:
        return self.folder / "requests.jsonl"

    def client(self, service: str, key_id: str | None = None, secret: str | None = None) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=key_id or self.admin_key_id or "testbed",
            aws_secret_access_key=secret or self.admin_secret or "testbed-secret",
        )

    def enforce_auth(self) -> PrivateMoto:
        """Create an administrator, then make moto check signatures and policies from now on."""
        iam = self.client("iam")
        iam.create_user(UserName="administrator")
        iam.put_user_policy(UserName="administrator", PolicyName="all", PolicyDocument=ADMIN_POLICY)
        key = iam.create_access_key(UserName="administrator")["AccessKey"]
        request = urllib.request.Request(  # noqa: S310 - loopback test bed
            f"{self.endpoint_url}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},  # a form type would hide the body from moto
        )
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
        return dataclasses.replace(
            self, admin_key_id=key["AccessKeyId"], admin_secret=key["SecretAccessKey"]
        )

    def raw_requests(self, action: str) -> list[dict[str, Any]]:
        """Every recorded request for this action: its headers and its form parameters."""
        found = []
        for line in self.recording.read_text().splitlines():
            entry = json.loads(line)
            body = entry.get("body") or ""
            text = base64.b64decode(body).decode() if entry.get("body_encoded") else body
            form = urllib.parse.parse_qs(text)
            if form.get("Action") == [action]:
                found.append({"headers": entry["headers"], "form": form})
        return found

    def requests(self, action: str) -> list[dict[str, list[str]]]:
        """The form parameters of every recorded request for this action."""
        return [entry["form"] for entry in self.raw_requests(action)]


def start() -> Iterator[PrivateMoto]:
    folder = Path(tempfile.mkdtemp(prefix="secretsync-moto-"))
    port = procs.free_port()
    env = {
        "MOTO_ENABLE_RECORDING": "true",
        "MOTO_RECORDER_FILEPATH": str(folder / "requests.jsonl"),
    }
    argv = [*binaries.moto_server_argv(), "-H", "127.0.0.1", "-p", str(port)]
    proc = procs.start(folder, "moto", argv, env=env)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as response:  # noqa: S310
            return int(response.status) == 200

    try:
        procs.wait_for(folder, "moto", ready, timeout=60, proc=proc)
        yield PrivateMoto(url, folder)
    finally:
        procs.stop_all(folder, grace=5)
        shutil.rmtree(folder, ignore_errors=True)
