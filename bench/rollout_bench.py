"""Benchmark: time from a Secret data change to every consumer healthy, for 1 and 50
Deployments (1 replica each) that read one Secret, on the test bed's real controllers and KWOK.

Run: .venv/bin/python bench/rollout_bench.py
Uses the running test bed (`make testbed-up`) or starts one for the run. The RolloutController
runs in-process with its defaults (debounce 1 s, poll 1 s, at most 10 workloads unsettled at
once). The split: *Secret write* (the PUT of new data), *restart* (data change to the last
workload patched: debounce plus the concurrency cap's waves) and *health* (last patch to every
workload healthy). Detection at the source is the sync loop's and is not measured here. Writes
the "## Rollouts" section of docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubernetes import client

from bench import docs_section
from secretsync.kube.events import EventRecorder
from secretsync.kube.secrets import SecretClient
from secretsync.kube.workloads import WorkloadClient
from secretsync.rollout.controller import RolloutController
from secretsync.rollout.ports import RegistryMetrics
from tests.rollout import cluster as c
from tests.testbed import cluster, paths, stack

HEADING = "## Rollouts"


class TimedWorkloads(WorkloadClient):
    """Records when the last restart patch went out."""

    last_patch = 0.0

    def patch(self, namespace: str, kind: str, name: str, patch: Mapping[str, Any]) -> None:
        super().patch(namespace, kind, name, patch)
        self.last_patch = time.perf_counter()


def measure(api: client.ApiClient, count: int) -> str:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    try:
        c.create_secret(api, namespace, "db", {"password": "one"})
        es, raw = c.create_es(api, namespace, "db", {"discover": True, "healthTimeout": "10m"})
        for i in range(count):
            body = c.deployment(
                f"app-{i:02d}", c.pod_template(f"app-{i:02d}", secret="db"), replicas=1
            )
            apps.create_namespaced_deployment(namespace, body)
        c.wait(lambda: _all_available(apps, namespace, count), 300, "deployments up")
        return _roll(api, namespace, count, es, raw)
    finally:
        core.delete_namespace(namespace)


def _roll(api: client.ApiClient, namespace: str, count: int, es: Any, raw: Any) -> str:
    workloads, metrics = TimedWorkloads(api), RegistryMetrics()
    rollouts = RolloutController(workloads, SecretClient(api), EventRecorder(api), metrics)
    try:
        started = time.perf_counter()
        previous, current = c.change_secret(api, namespace, "db", {"password": "two"})
        written = time.perf_counter()
        rollouts.on_data_changed(es, raw, previous, current)
        c.wait(lambda: c.phase(api, namespace, "db") == "Succeeded", 600, "Succeeded")
        _, healthy, _ = metrics.healthy.series[()]
    finally:
        rollouts.close()
    restart = workloads.last_patch - written
    total = (written - started) + healthy
    return (
        f"| {count} | {total:.1f} s | {(written - started) * 1000:.0f} ms | {restart:.1f} s "
        f"| {healthy - restart:.1f} s |"
    )


def _all_available(apps: client.AppsV1Api, namespace: str, count: int) -> bool:
    items = apps.list_namespaced_deployment(namespace).items
    return len(items) == count and all(d.status.available_replicas == 1 for d in items)


def write_section(rows: list[str]) -> None:
    section = "\n".join(
        [
            HEADING,
            "",
            "`bench/rollout_bench.py`: one Secret read by N Deployments (1 replica each, found by",
            "`discover: true`); the time from writing new data into the Secret to every Deployment",
            "healthy by `kubectl rollout status` rules, with the controller's defaults",
            "(debounce 1 s, poll 1 s, at most 10 workloads unsettled at once).",
            "",
            "| workloads | change → all healthy | Secret write | restart (debounce + waves) "
            "| health |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Restart is the data change to the last restart patch; health is the last patch to the",
            "verdict. With 50 workloads the cap of 10 makes five waves, each waiting for its",
            "Deployments to settle (KWOK readies pods at once; real pods add their start time).",
            f"Measured {time.strftime('%Y-%m-%d')} on the shared 2-core test bed.",
            "",
        ]
    )
    docs_section.write(section)


def run(testbed: stack.Testbed) -> list[str]:
    c.install_crds(testbed)
    api = cluster.api(Path(testbed.KUBECONFIG))
    return [measure(api, count) for count in (1, 50)]


def main() -> int:
    if stack.is_running(paths.DEFAULT_STATE_DIR):
        rows = run(stack.read_env(paths.DEFAULT_STATE_DIR))
    else:
        state_dir = Path(tempfile.mkdtemp(prefix="rollout-bench-"))
        try:
            rows = run(stack.up(state_dir))
        finally:
            stack.down(state_dir)
    print("\n".join(rows))
    write_section(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
