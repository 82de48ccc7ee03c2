"""The real External Secrets Operator (v0.16.2, tests/testbed/eso.py), out of cluster on the
bed's admin kubeconfig, confined to the benchmark's namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.peers import workload
from bench.peers.workload import ROTATION_REFRESH
from tests.testbed import eso, reloader, stack

NAME = "ESO v0.16.2"
KIND = workload.EXTERNAL_SECRET
SETTINGS = {
    "default": ("--concurrent 1 (its default), client QPS 50 / burst 100", ["--concurrent=1"]),
    "16": (
        "--concurrent 16, client QPS 500 / burst 1000",
        ["--concurrent=16", "--client-qps=500", "--client-burst=1000"],
    ),
    "16-qps50": ("--concurrent 16, default client QPS 50 / burst 100", ["--concurrent=16"]),
}
"""Setting -> (how the table describes it, ESO's flags). ESO's binary defaults: --concurrent 1,
--client-qps 50, --client-burst 100 (cmd/controller/root.go)."""


def install(testbed: stack.Testbed, folder: Path) -> None:
    workload.install_ours(testbed, folder)
    eso.install_missing_crds(Path(testbed.KUBECTL_BIN), Path(testbed.KUBECONFIG), folder / "eso")


prepare = workload.prepare_store


def start(b: workload.Bed, setting: str) -> workload.Operator:
    _, flags = SETTINGS[setting]
    # --loglevel=info is ESO's own default; the test bed's start() asks for debug.
    running = eso.start(
        b.folder / "eso",
        Path(b.testbed.KUBECONFIG),
        controller_class="default",
        namespace=workload.NAMESPACE,
        extra_args=["--loglevel=info", *flags],
    )
    return workload.Operator(running.pid, lambda: eso.stop(running))


ROTATION_NAME = "ESO v0.16.2 + Reloader v1.4.22 (`reloader.stakater.com/auto`), defaults"
DEPLOYMENT_ANNOTATIONS = {"reloader.stakater.com/auto": "true"}


def rotation_object(name: str, path: str, deployments: list[str]) -> dict[str, Any]:
    """A plain ExternalSecret: ESO rewrites the Secret, Reloader restarts who reads it."""
    body = workload.external_secret(0, path, ROTATION_REFRESH)
    body["metadata"]["name"] = name
    body["spec"]["target"]["name"] = name
    return body


def start_rotation(b: workload.Bed) -> workload.Operator:
    operator = start(b, "default")
    running = reloader.start(
        Path(b.testbed.KUBECONFIG), b.folder / "reloader", namespace=workload.NAMESPACE
    )

    def stop() -> None:
        reloader.stop(running)
        operator.stop()

    return workload.Operator(operator.pid, stop)
