"""moto in server mode: Secrets Manager, SSM Parameter Store, STS and KMS over real HTTP."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.testbed import binaries, procs

REGION = "us-east-1"
# moto accepts any credentials; these are fixed so that the env file is stable across runs.
ACCESS_KEY_ID = "testbed"
SECRET_ACCESS_KEY = "testbed-secret"


@dataclass(frozen=True)
class Moto:
    endpoint_url: str


def start(state_dir: Path) -> Moto:
    port = procs.free_port()
    proc = procs.start(
        state_dir, "moto", [*binaries.moto_server_argv(), "-H", "127.0.0.1", "-p", str(port)]
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as response:  # noqa: S310
            return int(response.status) == 200

    procs.wait_for(state_dir, "moto", ready, timeout=60, proc=proc)
    return Moto(endpoint_url=url)
