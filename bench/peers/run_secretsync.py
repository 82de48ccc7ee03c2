"""secretsync's operator as its own process with its ServiceAccount's kubeconfig
(tests/operator/harness.py), confined to the benchmark's namespace."""

from __future__ import annotations

from typing import Any

from bench.peers import workload
from bench.peers.workload import ROTATION_REFRESH
from tests.operator import harness

NAME = "secretsync"
KIND = workload.EXTERNAL_SECRET
EQUAL = ["--concurrency", "16", "--store-concurrency", "16", "--store-qps", "0"]
SETTINGS = {
    "default": (
        "defaults (--concurrency 32, 16 per store, store QPS 100 / burst 200)",
        [],
    ),
    "16": (
        "--concurrency 16, --store-concurrency 16, --store-qps 0 (no provider limit, as ESO)",
        EQUAL,
    ),
    "16-lag": (
        "the same, and --refresh-time-resolution 5m",
        [*EQUAL, "--refresh-time-resolution", "5m"],
    ),
}
REFRESH_ONLY = frozenset({"16-lag"})
"""Settings only the no-change refresh measures: they change no first sync."""
REFRESH_SETTINGS = ("16", "16-lag")

install = workload.install_ours
prepare = workload.prepare_store


def start(b: workload.Bed, setting: str) -> workload.Operator:
    _, flags = SETTINGS[setting]
    running = harness.start(
        harness.operator_kubeconfig(b.testbed, b.folder),
        b.folder / "secretsync.log",
        "--namespace",
        workload.NAMESPACE,
        "--no-leader-elect",
        *flags,
    )
    return workload.Operator(running.process.pid, running.stop)


ROTATION_NAME = "secretsync alone (`rollout.discover: true`), defaults"
DEPLOYMENT_ANNOTATIONS: dict[str, str] = {}


def rotation_object(name: str, path: str, deployments: list[str]) -> dict[str, Any]:
    """Discovery finds the Deployments that read the target Secret; nothing names them."""
    body = workload.external_secret(0, path, ROTATION_REFRESH)
    body["metadata"]["name"] = name
    body["spec"]["target"]["name"] = name
    body["spec"]["rollout"] = {"discover": True}
    return body


def start_rotation(b: workload.Bed) -> workload.Operator:
    return start(b, "default")
