"""The chart rendered by the real helm: strict lint, secure defaults, each value doing what it
says, and values that cannot work refused with a message naming the value."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from secretsync.sops.yamlplain import load_documents
from tests.helm import chart
from tests.testbed import paths

ROOT = paths.REPO_ROOT


def _pod(documents: list[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = chart.only(documents, "Deployment")["spec"]["template"]["spec"]
    return pod


def _env(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = _pod(documents)["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize("profile", sorted(chart.PROFILES))
def test_lint_is_clean_in_strict_mode(profile: str, tmp_path: Path) -> None:
    values = dict(chart.PROFILES[profile])
    if profile == "namespaced":
        values["namespaces"] = ["team-a", "team-b"]
    path = chart.values_file(tmp_path, values)
    out = chart.run_helm("lint", "--strict", str(chart.CHART), "-f", str(path))
    assert "0 chart(s) failed" in out
    assert "[WARNING]" not in out and "[ERROR]" not in out


def test_chart_image_and_pyproject_agree_on_the_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    (meta,) = load_documents((chart.CHART / "Chart.yaml").read_text(), "Chart.yaml")
    assert meta["version"] == meta["appVersion"] == version
    (kustomize,) = load_documents((ROOT / "deploy" / "deployment.yaml").read_text(), "deploy")
    (container,) = kustomize["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"ghcr.io/secretsync/secretsync:{version}"


def test_defaults_are_locked_down_like_the_kustomize_base(tmp_path: Path) -> None:
    documents = chart.render(tmp_path, {})
    pod = _pod(documents)
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/secretsync/secretsync:0.1.0"  # tag = appVersion
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8080}
    env = _env(documents)
    assert env["SECRETSYNC_LEADER_ELECT"] == "true" and env["SECRETSYNC_NAMESPACE"] == ""
    assert "SECRETSYNC_WEBHOOK_ADDRESS" not in env, "webhooks are off until asked for"
    assert chart.only(documents, "Deployment")["spec"]["replicas"] == 2
    assert "ClusterRole" in chart.kinds(documents)
    for kind in ("ServiceMonitor", "PrometheusRule"):
        assert kind not in chart.kinds(documents), "monitoring needs opting in"
    assert not [d for d in documents if d["kind"] == "Secret"], "the chart holds no secret"


def test_crds_are_ours_and_kept_on_uninstall(tmp_path: Path) -> None:
    documents = chart.render(tmp_path, {})
    crds = {d["metadata"]["name"]: d for d in documents if d["kind"] == "CustomResourceDefinition"}
    shipped = {
        d["metadata"]["name"]: d
        for path in sorted((ROOT / "crds").glob("*.external-secrets.io.yaml"))
        for d in load_documents(path.read_text(), path.name)
    }
    assert crds.keys() == shipped.keys()
    for name, crd in crds.items():
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", name
        conversion = shipped[name]["spec"].get("conversion") or {}
        if conversion.get("webhook", ...) is None:
            del conversion["webhook"]  # a null says nothing; the chart leaves it out
        assert crd["spec"] == shipped[name]["spec"], name
    assert "CustomResourceDefinition" not in chart.kinds(
        chart.render(tmp_path, {"installCRDs": False})
    )


def test_namespaced_scope_grants_roles_only_where_it_watches(tmp_path: Path) -> None:
    values = {"rbac": {"scope": "namespaced"}, "namespaces": ["team-a", "team-b"]}
    documents = chart.render(tmp_path, values, namespace="ops")
    assert "ClusterRole" not in chart.kinds(documents)
    assert "ClusterRoleBinding" not in chart.kinds(documents)
    roles = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in documents
        if d["kind"] == "Role"
    }
    assert roles == {
        ("team-a", "secretsync"),
        ("team-b", "secretsync"),
        ("ops", "secretsync-leader-election"),
    }
    bindings = [d for d in documents if d["kind"] == "RoleBinding"]
    assert {b["subjects"][0]["namespace"] for b in bindings} == {"ops"}
    assert _env(documents)["SECRETSYNC_NAMESPACE"] == "team-a,team-b"


def test_webhook_values_expose_the_port_the_secret_and_a_service(tmp_path: Path) -> None:
    documents = chart.render(tmp_path, chart.PROFILES["webhook"])
    env = _env(documents)
    assert env["SECRETSYNC_WEBHOOK_ADDRESS"] == "0.0.0.0:9292"
    assert env["SECRETSYNC_WEBHOOK_TOKEN_FILE"] == "/var/run/secretsync/webhook/token"
    (volume,) = [v for v in _pod(documents)["volumes"] if v["name"] == "webhook"]
    assert volume["secret"]["secretName"] == "git-hooks"
    assert volume["secret"]["items"] == [{"key": "token", "path": "token"}]
    services = [d for d in documents if d["kind"] == "Service"]
    (hook,) = [s for s in services if s["metadata"]["name"] == "secretsync-webhook"]
    assert hook["spec"]["ports"] == [{"name": "webhook", "port": 9292, "targetPort": "webhook"}]


def test_ha_values_spread_pods_and_budget_disruptions(tmp_path: Path) -> None:
    documents = chart.render(tmp_path, chart.PROFILES["ha"], release="prod")
    (spread,) = _pod(documents)["topologySpreadConstraints"]
    selector = {"app.kubernetes.io/name": "secretsync", "app.kubernetes.io/instance": "prod"}
    assert spread["labelSelector"] == {"matchLabels": selector}, "filled in when left out"
    budget = chart.only(documents, "PodDisruptionBudget")["spec"]
    assert budget == {"minAvailable": 2, "selector": {"matchLabels": selector}}
    assert chart.only(documents, "Deployment")["spec"]["selector"]["matchLabels"] == selector


def test_extra_values_reach_the_pod(tmp_path: Path) -> None:
    documents = chart.render(tmp_path, chart.PROFILES["extras"])
    pod = _pod(documents)
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/secretsync/secretsync:0.1.0-rc1"
    assert container["imagePullPolicy"] == "Always"
    assert pod["imagePullSecrets"] == [{"name": "registry"}]
    env = _env(documents)
    assert env["HTTPS_PROXY"] == "http://proxy.example:3128"
    assert env["SECRETSYNC_CONTROLLER_CLASS"] == "platform"
    assert env["SECRETSYNC_CONCURRENCY"] == "8"
    assert {"name": "ca", "mountPath": "/etc/corp-ca", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert pod["tolerations"] == chart.PROFILES["extras"]["tolerations"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"rbac": {"scope": "namespaced"}}, "rbac.scope=namespaced needs the namespaces"),
        ({"rbac": {"scope": "team"}}, "/rbac/scope"),
        ({"leaderElection": {"enabled": False}}, "leaderElection.enabled=false with replicas > 1"),
        ({"serviceAccount": {"create": False}}, "serviceAccount.name"),
        ({"replica": 3}, "replica"),  # a typo is caught, not silently ignored
        ({"namespaces": ["Team A"]}, "/namespaces/0"),
    ],
)
def test_values_that_cannot_work_are_refused_by_name(
    tmp_path: Path, values: dict[str, Any], says: str
) -> None:
    out = chart.render_error(tmp_path, values)
    assert "Error" in out and says in out, out
