"""The chart and the kustomize files grant the same permissions for the same scope, so
whichever way a cluster installs secretsync, the operator may do the same things."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from secretsync.sops.yamlplain import load_documents
from tests.helm import chart
from tests.testbed import binaries, paths

DEPLOY = paths.REPO_ROOT / "deploy"


def _kustomize(folder: Path) -> list[dict[str, Any]]:
    kubectl = binaries.require(binaries.KUBECTL)
    result = subprocess.run(
        [str(kubectl), "kustomize", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    assert result.returncode == 0, result.stderr
    return load_documents(result.stdout, str(folder))


def _namespaced_overlay(tmp_path: Path) -> Path:
    """What the component's comment tells a user to write: deploy/ plus the component."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base = os.path.relpath(DEPLOY, overlay)
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{base}]\ncomponents: [{base}/rbac/namespaced]\n"
    )
    return overlay


def test_cluster_scope_grants_exactly_the_kustomize_cluster_role(tmp_path: Path) -> None:
    rendered = chart.render(tmp_path, {"installCRDs": False})
    ours = chart.only(rendered, "ClusterRole")["rules"]
    base = chart.only(_kustomize(DEPLOY / "rbac"), "ClusterRole")["rules"]
    assert chart.rule_set(ours) == chart.rule_set(base)


def test_namespaced_scope_grants_exactly_the_kustomize_namespaced_role(tmp_path: Path) -> None:
    values = {"rbac": {"scope": "namespaced"}, "namespaces": ["team-a"], "installCRDs": False}
    rendered = chart.render(tmp_path, values)
    (ours,) = [
        d for d in rendered if d["kind"] == "Role" and d["metadata"]["namespace"] == "team-a"
    ]
    documents = _kustomize(_namespaced_overlay(tmp_path))
    kinds = [d["kind"] for d in documents]
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
    (theirs,) = [
        d for d in documents if d["kind"] == "Role" and d["metadata"]["namespace"] == "team-a"
    ]
    assert chart.rule_set(ours["rules"]) == chart.rule_set(theirs["rules"])
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["SECRETSYNC_NAMESPACE"] == "team-a"


def test_namespaced_rules_are_the_cluster_rules_minus_cluster_scoped_kinds(tmp_path: Path) -> None:
    """Nothing a namespace needs is left out of namespaced mode by accident: what only the
    ClusterRole grants is about cluster-scoped kinds (and ClusterExternalSecrets' writes)."""
    cluster = chart.rule_set(
        chart.only(chart.render(tmp_path, {"installCRDs": False}), "ClusterRole")["rules"]
    )
    values = {"rbac": {"scope": "namespaced"}, "namespaces": ["team-a"], "installCRDs": False}
    (role,) = [
        d
        for d in chart.render(tmp_path, values)
        if d["kind"] == "Role" and d["metadata"]["namespace"] == "team-a"
    ]
    namespaced = chart.rule_set(role["rules"])
    assert namespaced < cluster
    only_cluster = {resource for _, resource, _, _ in cluster - namespaced}
    assert only_cluster == {
        "clustersecretstores",
        "clustersecretstores/status",
        "clusterexternalsecrets",
        "clusterexternalsecrets/status",
        "clusterpushsecrets",
        "clusterpushsecrets/status",
        "clustergenerators",
        "externalsecrets",  # create/update/delete, for ClusterExternalSecrets' children
        "pushsecrets",  # create/update/delete, for ClusterPushSecrets' children
        "namespaces",
        "customresourcedefinitions",
    }


def test_leader_election_role_matches_the_kustomize_one(tmp_path: Path) -> None:
    rendered = chart.render(tmp_path, {"installCRDs": False}, namespace="secretsync-system")
    (ours,) = [d for d in rendered if d["kind"] == "Role"]
    (theirs,) = [d for d in _kustomize(DEPLOY / "rbac") if d["kind"] == "Role"]
    assert chart.rule_set(ours["rules"]) == chart.rule_set(theirs["rules"])
    assert ours["metadata"]["name"] == theirs["metadata"]["name"] == "secretsync-leader-election"
