"""Two replicas: one leads through the Lease, the other stands by; killing the leader hands over."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable
from pathlib import Path

import hvac
import pytest
from kubernetes import client

from tests.operator import harness
from tests.operator.harness import Cluster, eventually
from tests.operator.manifests import vault_store
from tests.testbed import stack


def _holder(api: client.ApiClient) -> str | None:
    lease = client.CoordinationV1Api(api).read_namespaced_lease(
        "secretsync-operator", "secretsync-system"
    )
    return lease.spec.holder_identity if lease.spec else None


# Every test that takes the real Lease runs on one worker, one at a time.
@pytest.mark.xdist_group("lease")
def test_killing_the_leader_hands_over(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    operator_kubeconfig: Path,
    tmp_path: Path,
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"ha/{kube.namespace}"
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"v": "one"})
    vault_store(kube, testbed)
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "ha"},
            "spec": {
                "refreshInterval": "1s",
                "secretStoreRef": {"name": "vault"},
                "dataFrom": [{"extract": {"key": key}}],
            },
        },
    )
    names = [f"replica-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    start: Callable[[str], harness.Operator] = lambda identity: harness.start(  # noqa: E731
        operator_kubeconfig,
        tmp_path / f"{identity}.log",
        "--leader-elect",  # off by default outside a cluster
        "--namespace",
        kube.namespace,
        "--identity",
        identity,
    )
    first = start(names[0])
    try:
        eventually(lambda: _holder(kube_api) == names[0], what="the first replica to lead")
        second = start(names[1])
        try:
            eventually(lambda: kube.data("ha") == {"v": b"one"}, what="the leader to sync")
            assert _holder(kube_api) == names[0], "the standby did not take the lease"
            first.stop(signal.SIGKILL)  # no chance to release the lease: it must expire
            eventually(
                lambda: _holder(kube_api) == names[1], timeout=40, what="the standby to take over"
            )
            vault.secrets.kv.v2.create_or_update_secret(key, secret={"v": "two"})
            eventually(
                lambda: kube.data("ha") == {"v": b"two"}, timeout=20, what="the new leader to sync"
            )
        finally:
            second.stop()
    finally:
        first.stop()
