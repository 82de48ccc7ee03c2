"""ClusterExternalSecret decisions (pure): which namespaces, and what to create, update,
delete or refuse there."""

from __future__ import annotations

from typing import Any

from secretsync.api.objects import parse_cluster_external_secret
from secretsync.reconcile import cluster

RAW: dict[str, Any] = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ClusterExternalSecret",
    "metadata": {
        "name": "ces",
        "uid": "u-1",
        "annotations": {"external-secrets.io/force-sync": "7"},
    },
    "spec": {
        "namespaces": ["named"],
        "namespaceSelectors": [
            {"matchLabels": {"team": "a"}},
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]},
        ],
        "externalSecretSpec": {
            "secretStoreRef": {"name": "s"},
            "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}],
        },
    },
}
CES = parse_cluster_external_secret(RAW)
NAMESPACES = {"named": {}, "a1": {"team": "a"}, "p1": {"env": "prod"}, "other": {"team": "b"}}


def test_namespaces_by_name_or_any_selector() -> None:
    assert cluster.selected_namespaces(CES, NAMESPACES) == ["a1", "named", "p1"]
    assert cluster.selected_namespaces(CES, {"other": {}}) == []  # "named" does not exist


def test_children_are_created_updated_deleted_or_refused() -> None:
    mine = cluster.child(RAW, CES, "a1")
    stale = {**mine, "metadata": {**mine["metadata"], "annotations": {}}}
    foreign = {"metadata": {"name": "ces", "namespace": "p1", "labels": {}}}
    leftover = cluster.child(RAW, CES, "other")
    work = cluster.plan(
        RAW, CES, ["named", "a1", "p1"], {"a1": stale, "p1": foreign, "other": leftover}
    )
    assert [b["metadata"]["namespace"] for b in work.create] == ["named"]
    assert [b["metadata"]["namespace"] for b in work.update] == ["a1"]
    assert work.failed.keys() == {"p1"}
    assert work.delete == [("other", "ces")]
    assert cluster.plan(RAW, CES, ["a1"], {"a1": mine}).update == [], "current: no write"


def test_a_child_carries_the_owner_and_mirrors_force_sync() -> None:
    body = cluster.child(RAW, CES, "a1")
    assert body["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert body["metadata"]["annotations"]["external-secrets.io/force-sync"] == "7"
    assert body["spec"] == RAW["spec"]["externalSecretSpec"]
