"""helm install, upgrade and uninstall on the test bed. The operator's pods land on the KWOK
node (a test override; the chart has no node selector of its own), which makes them Running and
Ready, so the Deployment goes Available as it would on a real node."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helm import chart
from tests.helm.conftest import Kubectl
from tests.operator.harness import eventually
from tests.testbed import stack


def _get(kubectl: Kubectl, *args: str) -> dict[str, Any] | None:
    result = kubectl("get", *args, "-o", "json", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def _available(kubectl: Kubectl, namespace: str, name: str, replicas: int) -> bool:
    deployment = _get(kubectl, "deployment", name, "-n", namespace) or {}
    status = deployment.get("status") or {}
    conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
    return conditions.get("Available") == "True" and status.get("readyReplicas") == replicas


def _external_secret(namespace: str) -> str:
    return json.dumps(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "survivor", "namespace": namespace},
            "spec": {
                "secretStoreRef": {"name": "somewhere"},
                "target": {"name": "survivor"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}],
            },
        }
    )


def test_install_upgrade_uninstall_keeps_crds_and_external_secrets(
    installed: stack.Testbed,
    kubectl: Kubectl,
    make_namespace: Callable[[], str],
    tmp_path: Path,
) -> None:
    namespace = f"h-{uuid.uuid4().hex[:10]}"  # helm makes it (--create-namespace)
    release = f"r{uuid.uuid4().hex[:8]}"
    name = f"{release}-secretsync"
    values = chart.values_file(tmp_path, chart.KWOK_NODE)
    common = ("-n", namespace, "-f", str(values))
    try:
        # The CRDs are on the test bed already (applied as deploy/ ships them); a first
        # install on a fresh cluster would simply create them.
        chart.run_helm(
            "install",
            release,
            str(chart.CHART),
            *common,
            "--create-namespace",
            "--take-ownership",
            kubeconfig=installed.KUBECONFIG,
        )
        eventually(lambda: _available(kubectl, namespace, name, 2), 90, "2 replicas available")
        manifest = chart.run_helm(
            "get", "manifest", release, "-n", namespace, kubeconfig=installed.KUBECONFIG
        )
        listed = kubectl("get", "-f", "-", "-o", "name", stdin=manifest).stdout.split()
        for kind in (
            "serviceaccount/",
            "clusterrole.",
            "role.",
            "deployment.apps/",
            "poddisruptionbudget.policy/",
            "service/",
            "customresourcedefinition.",
        ):
            assert any(item.startswith(kind) for item in listed), (kind, listed)
        crd = _get(kubectl, "crd", "externalsecrets.external-secrets.io") or {}
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"

        user_namespace = make_namespace()
        kubectl("apply", "-f", "-", stdin=_external_secret(user_namespace))

        chart.run_helm(
            "upgrade",
            release,
            str(chart.CHART),
            *common,
            "--set",
            "replicas=3",
            "--set",
            "concurrency=8",
            kubeconfig=installed.KUBECONFIG,
        )
        eventually(lambda: _available(kubectl, namespace, name, 3), 90, "3 replicas available")
        deployment = _get(kubectl, "deployment", name, "-n", namespace) or {}
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {"name": "SECRETSYNC_CONCURRENCY", "value": "8"} in container["env"]

        chart.run_helm("uninstall", release, "-n", namespace, kubeconfig=installed.KUBECONFIG)
        assert _get(kubectl, "deployment", name, "-n", namespace) is None
        assert _get(kubectl, "clusterrole", name) is None
        assert _get(kubectl, "crd", "externalsecrets.external-secrets.io") is not None
        assert _get(kubectl, "crd", "clustersecretstores.external-secrets.io") is not None
        survivor = _get(kubectl, "externalsecret", "survivor", "-n", user_namespace)
        assert survivor is not None, "an uninstall never takes users' ExternalSecrets along"
    finally:
        chart.run_helm(
            "uninstall",
            release,
            "-n",
            namespace,
            "--ignore-not-found",
            kubeconfig=installed.KUBECONFIG,
            check=False,
        )
        kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
