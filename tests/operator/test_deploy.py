"""deploy/ as a whole: the kustomize base the README tells people to apply is accepted by the
real apiserver, and its Deployment is locked down."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from secretsync.sops.yamlplain import load_documents
from tests.operator.harness import ROOT
from tests.testbed import stack


def _kubectl(testbed: stack.Testbed, *args: str) -> str:
    result = subprocess.run(
        [testbed.KUBECTL_BIN, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUBECONFIG": testbed.KUBECONFIG},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_kustomize_base_applies_on_the_real_apiserver(installed: stack.Testbed) -> None:
    out = _kubectl(
        installed,
        "apply",
        "-k",
        str(ROOT / "deploy"),
        "--dry-run=server",
        "--server-side",
        "--force-conflicts",
    )
    for kind in (
        "customresourcedefinition.apiextensions.k8s.io/externalsecrets",
        "serviceaccount/secretsync",
        "clusterrole.rbac.authorization.k8s.io/secretsync",
        "role.rbac.authorization.k8s.io/secretsync-leader-election",
        "deployment.apps/secretsync",
        "service/secretsync-webhook",
    ):
        assert kind in out


def test_the_deployment_runs_locked_down(installed: stack.Testbed) -> None:
    documents = load_documents(_kubectl(installed, "kustomize", str(ROOT / "deploy")), "deploy")
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert deployment["spec"]["replicas"] == 2, "a standby takes over through the Lease"


def test_the_webhook_service_exposes_only_the_webhook_port(installed: stack.Testbed) -> None:
    documents = load_documents(_kubectl(installed, "kustomize", str(ROOT / "deploy")), "deploy")
    (service,) = [d for d in documents if d["kind"] == "Service"]
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    ports = {p["name"]: p["containerPort"] for p in pod["containers"][0]["ports"]}
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["webhook"]
    assert ports["webhook"] != ports["http"], "metrics and probes stay off the public port"
    (volume,) = [v for v in pod["volumes"] if v["name"] == "webhook"]
    assert volume["secret"]["optional"] is True, "the operator starts without a webhook Secret"
