"""`secretsync operator` run by hand with nothing but a kubeconfig either syncs or exits with a
message that says what to do; it never waits silently for a Lease it can never take.

Outside a cluster leader election is off by default (ESO's default too); in a pod it is on,
with the Lease in the pod's namespace. When leader election is on and the Lease cannot be taken
(its namespace is missing, or RBAC refuses it), the operator says so once and exits with 2.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import client

from secretsync.settings import leader_election_defaults, pod_namespace
from tests.operator import harness
from tests.operator.harness import Cluster, eventually
from tests.operator.manifests import vault, vault_store
from tests.testbed import stack

# The process must not inherit a choice from the environment the tests run in.
NEUTRAL_ENV = {"POD_NAMESPACE": "", "SECRETSYNC_LEADER_ELECT": "", "SECRETSYNC_LEASE_NAMESPACE": ""}
EXIT_WITHIN = 60.0
"""Generous on a loaded machine; without the fix the process never exits at all."""


# --- the defaults (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "namespace", "pod", "expected"),
    [
        (None, None, None, (False, "secretsync-system")),  # run by hand: off
        (None, None, "platform", (True, "platform")),  # in a pod: on, in the pod's namespace
        (True, None, None, (True, "secretsync-system")),
        (False, None, "platform", (False, "platform")),
        (None, "leases", "platform", (True, "leases")),
        (True, "leases", None, (True, "leases")),
    ],
)
def test_leader_election_is_on_in_a_pod_and_off_by_hand(
    flag: bool | None, namespace: str | None, pod: str | None, expected: tuple[bool, str]
) -> None:
    assert leader_election_defaults(flag, namespace, pod) == expected


def test_the_pod_namespace_comes_from_the_downward_api_or_the_service_account(
    tmp_path: Path,
) -> None:
    mounted = tmp_path / "namespace"
    assert pod_namespace({}, mounted) is None
    assert pod_namespace({"POD_NAMESPACE": ""}, mounted) is None
    mounted.write_text("team-a\n")
    assert pod_namespace({}, mounted) == "team-a"
    assert pod_namespace({"POD_NAMESPACE": "team-b"}, mounted) == "team-b"


def test_a_bad_leader_elect_variable_is_refused_without_a_traceback() -> None:
    result = _operator("--kubeconfig", "/nonexistent", env={"SECRETSYNC_LEADER_ELECT": "yes"})
    assert result.returncode == 2
    assert "SECRETSYNC_LEADER_ELECT must be true or false" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_usable_kubeconfig_is_named_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    for args, env, expected in (
        (("--kubeconfig", str(tmp_path / "missing")), {}, "cannot use"),
        (("--kubeconfig", str(broken)), {}, "cannot use"),
        ((), {"KUBECONFIG": "", "HOME": str(tmp_path)}, "not running in a pod"),
    ):
        result = _operator(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("secretsync operator: --kubeconfig: "), result.stderr
        assert expected in result.stderr
        assert "Traceback" not in result.stderr


# --- on the test bed ---------------------------------------------------------------------


def _operator(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", "operator", "--metrics-address", "", *args],
        capture_output=True,
        text=True,
        timeout=EXIT_WITHIN,
        check=False,
        env={**os.environ, **NEUTRAL_ENV, **(env or {})},
        cwd=harness.ROOT,
    )


def _seed(kube: Cluster, testbed: stack.Testbed) -> None:
    key = f"ootb/{kube.namespace}"
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"token": "t-123"})
    vault_store(kube, testbed)
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "app"},
            "spec": {"secretStoreRef": {"name": "vault"}, "dataFrom": [{"extract": {"key": key}}]},
        },
    )


@pytest.mark.parametrize("who", ["admin", "service-account"])
def test_run_by_hand_with_defaults_it_syncs_without_a_lease(
    who: str,
    kube: Cluster,
    testbed: stack.Testbed,
    operator_kubeconfig: Path,
    tmp_path: Path,
) -> None:
    _seed(kube, testbed)
    kubeconfig = Path(testbed.KUBECONFIG) if who == "admin" else operator_kubeconfig
    # A fresh cluster has no secretsync-system: a lease namespace that does not exist stands
    # for it. With the defaults outside a cluster no Lease is needed, so it does not matter.
    missing = f"absent-{uuid.uuid4().hex[:8]}"
    operator = harness.start(
        kubeconfig,
        tmp_path / "operator.log",
        "--namespace",
        kube.namespace,
        env={**NEUTRAL_ENV, "SECRETSYNC_LEASE_NAMESPACE": missing},
    )
    try:
        eventually(lambda: kube.data("app") == {"token": b"t-123"}, what="the Secret")
        logs = operator.logs()
        assert logs.count("leader election off") == 1, logs
        assert "waiting for the leader lease" not in logs
        assert "lease not acquired" not in logs
    finally:
        operator.stop()


def test_in_a_pod_it_elects_a_leader_in_the_pods_namespace(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    tmp_path: Path,
) -> None:
    _seed(kube, testbed)
    identity = f"pod-{uuid.uuid4().hex[:6]}"
    operator = harness.start(
        Path(testbed.KUBECONFIG),
        tmp_path / "operator.log",
        "--namespace",
        kube.namespace,
        "--identity",
        identity,
        env={**NEUTRAL_ENV, "POD_NAMESPACE": kube.namespace},  # what the Deployment passes
    )
    try:
        lease = eventually(
            lambda: client.CoordinationV1Api(kube_api).read_namespaced_lease(
                "secretsync-operator", kube.namespace
            ),
            what="the Lease in the pod's namespace",
        )
        assert lease.spec.holder_identity == identity
        eventually(lambda: kube.data("app") == {"token": b"t-123"}, what="the leader to sync")
    finally:
        operator.stop()


def _assert_one_actionable_message(result: subprocess.CompletedProcess[str], namespace: str) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "lease not acquired" not in result.stderr, "it retried what can never succeed"
    (line,) = [ln for ln in result.stderr.splitlines() if "leader Lease" in ln]
    assert line.startswith("secretsync operator: ")
    assert f"'{namespace}'" in line
    assert "--lease-namespace" in line
    assert "--no-leader-elect" in line
    return line


def test_a_missing_lease_namespace_is_named_once_and_the_operator_exits(
    testbed: stack.Testbed, tmp_path: Path
) -> None:
    missing = f"absent-{uuid.uuid4().hex[:8]}"
    result = _operator(
        "--kubeconfig", testbed.KUBECONFIG, "--leader-elect", "--lease-namespace", missing
    )
    line = _assert_one_actionable_message(result, missing)
    assert "does not exist" in line


def test_a_lease_namespace_the_service_account_may_not_use_is_named_once(
    kube: Cluster,
    operator_kubeconfig: Path,
    sa_kubeconfig: Callable[[str, str], Path],
) -> None:
    # deploy/rbac grants the Lease only in secretsync-system.
    result = _operator(
        "--kubeconfig",
        str(operator_kubeconfig),
        "--leader-elect",
        "--lease-namespace",
        kube.namespace,
    )
    line = _assert_one_actionable_message(result, kube.namespace)
    assert "refused" in line and "forbidden" in line
    # A ServiceAccount with no rights at all, as a pod in that namespace would run it.
    kube.core.create_namespaced_service_account(
        kube.namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bare"))
    )
    bare = sa_kubeconfig(kube.namespace, "bare")
    result = _operator("--kubeconfig", str(bare), env={"POD_NAMESPACE": kube.namespace})
    line = _assert_one_actionable_message(result, kube.namespace)
    assert "system:serviceaccount:" in line, "the apiserver's reason names who was refused"


def test_without_leader_election_a_live_leader_is_pointed_out(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    tmp_path: Path,
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    client.CoordinationV1Api(kube_api).create_namespaced_lease(
        kube.namespace,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name="secretsync-operator"),
            spec=client.V1LeaseSpec(
                holder_identity="in-cluster-replica",
                renew_time=now,
                acquire_time=now,
                lease_duration_seconds=3600,
            ),
        ),
    )
    operator = harness.start(
        Path(testbed.KUBECONFIG),
        tmp_path / "operator.log",
        "--namespace",
        kube.namespace,
        "--lease-namespace",
        kube.namespace,
        env=NEUTRAL_ENV,
    )
    try:
        eventually(lambda: "in-cluster-replica holds the leader lease" in operator.logs())
        assert operator.logs().count("holds the leader lease") == 1
    finally:
        operator.stop()
