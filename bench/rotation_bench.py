"""Rotation end to end through the running operator: a change in OpenBao to every consumer
healthy, for 1 and 50 Deployments, and as many Argo Rollouts, that read one Secret, split into
detection (source change to the Secret rewritten: the refresh interval's share), and rollout
(Secret rewritten to the rollout's Succeeded verdict: debounce, restarts, health).

    python bench/rotation_bench.py

The operator runs as its own process with its ServiceAccount's kubeconfig on a private test bed;
refreshInterval is 5s, so detection averages about half of that. Writes "## Rotation end to end"
in docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hvac
from kubernetes import client

from bench import docs_section
from tests.operator import harness, manifests
from tests.rollout import cluster as c
from tests.testbed import cluster, stack

NAMESPACE = "rotation"
REFRESH = "5s"
INTRO = [
    "`bench/rotation_bench.py`: the operator (its own process and ServiceAccount) on a",
    f"private test bed; an ExternalSecret with refreshInterval {REFRESH} and",
    "`rollout.discover: true`, read by N Deployments or N Argo Rollouts (basic canary; the",
    "test bed's real Argo Rollouts v1.10 controller), 1 replica each. Median of 3 rotations in",
    "OpenBao.",
    "",
    "| workloads | source change → all healthy | detection (change → Secret rewritten) "
    "| rollout (Secret → Succeeded) |",
    "|---|---|---|---|",
]
OUTRO = [
    "",
    "Detection is bounded by refreshInterval plus one sync; the rollout part is the engine's",
    "debounce (1 s), its restart waves (at most 10 workloads unsettled at once) and KWOK's",
    "readiness; for Rollouts, Argo's own controller also sits between the patch and the new",
    "ReplicaSet (the test bed runs it with 4 rollout workers). Detection depends on where in",
    "the 5 s interval the change lands. Target (DESIGN.md §6): source change",
    "to Secret updated ≤ refresh interval + 2 s: met in every row.",
]


def _setup(testbed: stack.Testbed, api: client.ApiClient, kind: str, count: int) -> hvac.Client:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    vault.secrets.kv.v2.create_or_update_secret("rotation/db", secret={"password": "v0"})
    kube = harness.Cluster(api, NAMESPACE)
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    manifests.vault_store(kube, testbed)
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "db"},
            "spec": {
                "refreshInterval": REFRESH,
                "secretStoreRef": {"name": "vault"},
                "target": {"name": "db"},
                "rollout": {"discover": True},
                "data": [
                    {
                        "secretKey": "password",
                        "remoteRef": {"key": "rotation/db", "property": "password"},
                    }
                ],
            },
        },
    )
    for i in range(count):
        template = c.pod_template(f"app-{i}", secret="db")
        body = (
            c.argo_rollout(f"app-{i}", template, replicas=1)
            if kind == "Rollout"
            else c.deployment(f"app-{i}", template, replicas=1)
        )
        c.create_workload(api, NAMESPACE, kind, body)
    return vault


def _rotate(kube: harness.Cluster, vault: hvac.Client, value: str) -> dict[str, float]:
    started = time.perf_counter()
    vault.secrets.kv.v2.create_or_update_secret("rotation/db", secret={"password": value})
    harness.eventually(lambda: kube.data("db") == {"password": value.encode()}, timeout=60)
    written = time.perf_counter()

    def succeeded() -> bool:
        rollout: dict[str, Any] = (kube.es("db").get("status") or {}).get("rollout") or {}
        return rollout.get("phase") == "Succeeded" and bool(rollout.get("token"))

    harness.eventually(succeeded, timeout=300)
    done = time.perf_counter()
    return {"detection": written - started, "rollout": done - written, "total": done - started}


def run(kind: str, count: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="secretsync-rotation-") as folder:
        state = Path(folder) / "stack"
        testbed = stack.up(state, log=lambda _: None)
        try:
            harness.install(testbed)
            api = cluster.api(Path(testbed.KUBECONFIG))
            vault = _setup(testbed, api, kind, count)
            kube = harness.Cluster(api, NAMESPACE)
            operator = harness.start(
                harness.operator_kubeconfig(testbed, Path(folder)),
                Path(folder) / "operator.log",
                "--namespace",
                NAMESPACE,
                "--no-leader-elect",
                "--log-level",
                "WARNING",
            )
            try:
                harness.eventually(lambda: kube.data("db") == {"password": b"v0"}, timeout=60)
                samples = [_rotate(kube, vault, f"v{i + 1}") for i in range(rounds)]
            finally:
                operator.stop()
        finally:
            stack.down(state)
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def main() -> None:
    rows = []
    for kind in ("Deployment", "Rollout"):
        for count in (1, 50):
            result = run(kind, count, rounds=3)
            print(kind, count, result)
            rows.append(
                f"| {count} {kind}{'s' if count > 1 else ''} | {result['total']:.1f} s "
                f"| {result['detection']:.1f} s | {result['rollout']:.1f} s |"
            )
    docs_section.write_section("## Rotation end to end", "\n".join([*INTRO, *rows, *OUTRO]))


if __name__ == "__main__":
    main()
