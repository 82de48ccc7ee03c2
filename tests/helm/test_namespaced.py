"""Namespaced mode for real: the operator runs as a ServiceAccount holding only the Roles the
chart renders for rbac.scope=namespaced (no ClusterRole at all). It syncs in the namespaces it
has a Role in, says once which namespace it may not use and what to change, and keeps running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.helm import chart
from tests.helm.conftest import Kubectl
from tests.operator import harness, manifests
from tests.testbed import cluster, stack

RELEASE = "team"
SERVICE_ACCOUNT = "team-secretsync"
PASSWORD = "namespaced-sync-value"


def _grant_roles(kubectl: Kubectl, tmp_path: Path, home: str, namespaces: list[str]) -> None:
    """Apply what the chart renders for these namespaces, minus the Deployment (the operator
    runs here as a process, with the same identity and rights)."""
    values: dict[str, Any] = {
        "rbac": {"scope": "namespaced"},
        "namespaces": namespaces,
        "installCRDs": False,
    }
    documents = chart.render(tmp_path, values, release=RELEASE, namespace=home)
    identity = [d for d in documents if d["kind"] in ("ServiceAccount", "Role", "RoleBinding")]
    assert not [d for d in documents if d["kind"].startswith("Cluster")]
    kubectl("apply", "-f", "-", stdin="\n".join(json.dumps(d) for d in identity))


def _seed(kube: harness.Cluster, testbed: stack.Testbed, key: str) -> None:
    manifests.vault_store(kube, testbed)
    kube.apply("externalsecrets", manifests.external_secret("app", key, properties=("password",)))


def test_role_only_operator_syncs_its_namespaces_and_names_the_other_once(
    installed: stack.Testbed,
    kubectl: Kubectl,
    kube_api: client.ApiClient,
    make_namespace: Callable[[], str],
    tmp_path: Path,
) -> None:
    home, team_a, team_b, other = (make_namespace() for _ in range(4))
    _grant_roles(kubectl, tmp_path, home, [team_a, team_b])
    key = manifests.unique("namespaced")
    manifests.vault(installed).secrets.kv.v2.create_or_update_secret(
        key, secret={"password": PASSWORD}
    )
    kubes = {ns: harness.Cluster(kube_api, ns) for ns in (team_a, team_b, other)}
    for kube in kubes.values():
        _seed(kube, installed, key)
    kubeconfig = cluster.service_account_kubeconfig(
        installed.kube(), home, SERVICE_ACCOUNT, tmp_path / "team.kubeconfig"
    )
    operator = harness.start(
        kubeconfig,
        tmp_path / "operator.log",
        "--namespace",
        f"{team_a},{team_b},{other}",
        "--no-leader-elect",
    )
    try:
        for namespace in (team_a, team_b):
            harness.eventually(
                lambda ns=namespace: kubes[ns].data("app-secret"),
                60,
                f"the Secret in {namespace}",
            )
            assert kubes[namespace].data("app-secret") == {"password": PASSWORD.encode()}
        assert operator.process.poll() is None, "it keeps running"
        logs = operator.logs()
        named = [line for line in logs.splitlines() if f"namespace {other} is not served" in line]
        assert len(named) == 1, logs[-3000:]
        for part in (
            "may not list, watch externalsecrets.external-secrets.io;",
            "--namespace",
            "`namespaces`",
            "deploy/rbac/namespaced/role.yaml",
        ):
            assert part in named[0], named[0]
        assert "not watching clustersecretstores" in logs
        for noise in ("Traceback", "Request attempt", "has failed", "Forbidden"):
            assert noise not in logs.replace('"reason": "Forbidden"', ""), noise
        assert kubes[other].secret("app-secret") is None
        assert not (kubes[other].es("app").get("status") or {}).get("conditions"), (
            "an ExternalSecret it may not serve is left alone"
        )
    finally:
        operator.stop()


def test_cluster_wide_without_a_cluster_role_stops_with_what_to_change(
    installed: stack.Testbed,
    kubectl: Kubectl,
    make_namespace: Callable[[], str],
    tmp_path: Path,
) -> None:
    home, team_a = make_namespace(), make_namespace()
    _grant_roles(kubectl, tmp_path, home, [team_a])
    kubeconfig = cluster.service_account_kubeconfig(
        installed.kube(), home, SERVICE_ACCOUNT, tmp_path / "team.kubeconfig"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "secretsync",
            "operator",
            "--kubeconfig",
            str(kubeconfig),
            "--no-leader-elect",
            "--metrics-address",
            "",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(
        "secretsync operator: this operator may not list, watch externalsecrets"
    )
    assert "across the cluster" in message and "rbac.scope" in message
    assert "--namespace" in message
