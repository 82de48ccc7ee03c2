"""Every values profile renders manifests the real apiserver accepts (server-side dry run).

ServiceMonitor and PrometheusRule are checked against the Prometheus Operator's own CRDs
(monitoring_crds), installed for that; and against the Service they scrape and the rule file
they carry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from secretsync.sops.yamlplain import load_documents
from tests.helm import chart
from tests.helm.conftest import Kubectl
from tests.testbed import cluster, monitoring_crds


@pytest.fixture(scope="session")
def monitoring_kinds(kube_api: client.ApiClient) -> None:
    cluster.apply_crds(kube_api, monitoring_crds.load())


@pytest.mark.parametrize("profile", sorted(chart.PROFILES))
def test_profile_passes_a_server_side_dry_run(
    profile: str,
    tmp_path: Path,
    kubectl: Kubectl,
    make_namespace: Callable[[], str],
    monitoring_kinds: None,
) -> None:
    release_namespace = make_namespace()
    values: dict[str, Any] = dict(chart.PROFILES[profile])
    if profile == "namespaced":
        values["namespaces"] = [make_namespace(), make_namespace()]
    release = f"dry-{profile}"
    documents = chart.render(tmp_path, values, release=release, namespace=release_namespace)
    served = documents
    result = kubectl(
        "apply",
        "--dry-run=server",
        "--server-side",
        "--force-conflicts",
        "--field-manager=helm-dry-run",
        "-f",
        "-",
        stdin="\n".join(json.dumps(d) for d in served),
    )
    applied = result.stdout
    for document in served:
        name = document["metadata"]["name"]
        assert f"/{name} serverside-applied (server dry run)" in applied, (name, applied)
    assert "deployment.apps/" in applied


def test_monitoring_objects_point_at_what_the_chart_serves(tmp_path: Path) -> None:
    documents = chart.render(tmp_path, chart.PROFILES["monitoring"], release="mon")
    monitor = chart.only(documents, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    services = [d for d in documents if d["kind"] == "Service"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    (scraped,) = [
        s for s in services if selector.items() <= (s["metadata"].get("labels") or {}).items()
    ]
    ports = {p["name"] for p in scraped["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    rule = chart.only(documents, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    (rule_file,) = load_documents(
        (chart.CHART / "files" / "prometheus-rules.yaml").read_text(), "prometheus-rules.yaml"
    )
    assert [g["name"] for g in rule["spec"]["groups"]] == [g["name"] for g in rule_file["groups"]]
    dashboards = [d for d in documents if d["kind"] == "ConfigMap"]
    assert dashboards and all(json.loads(next(iter(d["data"].values()))) for d in dashboards)


def test_the_namespaced_kustomize_variant_passes_a_server_side_dry_run(
    tmp_path: Path, kubectl: Kubectl, make_namespace: Callable[[], str]
) -> None:
    team = make_namespace()
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    deploy = os.path.relpath(chart.CHART.parents[1], overlay)
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{deploy}]\ncomponents: [{deploy}/rbac/namespaced]\n"
        # What the component's comment asks of a user: their namespace instead of team-a.
        "patches:\n"
        "  - target: {kind: Role, name: secretsync}\n"
        f'    patch: \'[{{"op": "replace", "path": "/metadata/namespace", "value": "{team}"}}]\'\n'
        "  - target: {kind: RoleBinding, name: secretsync}\n"
        f'    patch: \'[{{"op": "replace", "path": "/metadata/namespace", "value": "{team}"}}]\'\n'
    )
    out = kubectl(
        "apply", "-k", str(overlay), "--dry-run=server", "--server-side", "--force-conflicts"
    ).stdout
    assert "clusterrole" not in out
    assert "role.rbac.authorization.k8s.io/secretsync serverside-applied" in out
    assert "deployment.apps/secretsync serverside-applied" in out
