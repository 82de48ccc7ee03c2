"""Run the real operator as a separate process with its own ServiceAccount's kubeconfig, so
deploy/rbac is what decides what it may do."""

from __future__ import annotations

import base64
import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.testbed import cluster, paths, procs, stack

GROUP, VERSION = "external-secrets.io", "v1"
ROOT = paths.REPO_ROOT


def install(testbed: stack.Testbed) -> None:
    """CRDs and the operator's RBAC, exactly as deploy/ ships them (idempotent)."""
    for target in ("crds", "deploy/rbac"):
        subprocess.run(
            [
                testbed.KUBECTL_BIN,
                "apply",
                "--server-side",
                "--force-conflicts",
                "-k",
                str(ROOT / target),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "KUBECONFIG": testbed.KUBECONFIG},
        )


@dataclasses.dataclass
class Operator:
    process: subprocess.Popen[bytes]
    log_path: Path
    metrics_url: str

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.metrics_url}/metrics", timeout=5) as response:  # noqa: S310
            return str(response.read().decode())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    kubeconfig: Path, log_path: Path, *args: str, env: dict[str, str] | None = None
) -> Operator:
    port = procs.free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "secretsync",
                "operator",
                "--kubeconfig",
                str(kubeconfig),
                "--metrics-address",
                f"127.0.0.1:{port}",
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
        )
    operator = Operator(process, log_path, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"operator exited early:\n{operator.logs()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{operator.metrics_url}/healthz", timeout=1):  # noqa: S310
                return operator
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"operator did not come up:\n{operator.logs()[-3000:]}")


def operator_kubeconfig(testbed: stack.Testbed, folder: Path) -> Path:
    return cluster.service_account_kubeconfig(
        testbed.kube(), "secretsync-system", "secretsync", folder / "operator.kubeconfig"
    )


class Cluster:
    """Small conveniences over the admin client for the operator tests."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.namespace = namespace

    def apply(self, plural: str, body: dict[str, Any], version: str = VERSION) -> None:
        body = {"apiVersion": f"{GROUP}/{version}", **body}
        if plural.startswith("cluster"):
            self.custom.create_cluster_custom_object(GROUP, version, plural, body)
        else:
            self.custom.create_namespaced_custom_object(
                GROUP, version, self.namespace, plural, body
            )

    def es(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "externalsecrets", name
        )
        return found

    def patch_es(self, name: str, patch: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "externalsecrets", name, patch
        )

    def secret(self, name: str) -> client.V1Secret | None:
        try:
            return self.core.read_namespaced_secret(name, self.namespace)
        except client.exceptions.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def data(self, name: str) -> dict[str, bytes] | None:
        secret = self.secret(name)
        if secret is None:
            return None
        return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}

    def put_secret(
        self, name: str, data: dict[str, str], labels: dict[str, str] | None = None
    ) -> None:
        self.core.create_namespaced_secret(
            self.namespace,
            client.V1Secret(
                metadata=client.V1ObjectMeta(name=name, labels=labels), string_data=data
            ),
        )

    def events(self, name: str) -> list[client.CoreV1Event]:
        found = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        ).items
        return list(found)

    def ready(self, name: str) -> dict[str, Any] | None:
        conditions = (self.es(name).get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c.get("type") == "Ready"), None)


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")


def iterate_logs(operator: Operator) -> Iterator[str]:
    yield from operator.logs().splitlines()
