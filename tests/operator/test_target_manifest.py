"""spec.target.manifest through the running operator, on its own ServiceAccount: a ConfigMap
(deploy/rbac grants ConfigMaps) and a custom resource of this test's own CRD (which the
operator may write only after a cluster admin grants the kind), as ESO 2.9 writes them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import (
    condition,
    unique,
    vault,
    vault_store,
    vault_store_body,
    visible_text,
)
from tests.testbed import stack

FLAG = "--unsafe-allow-generic-targets"
GROUP, KIND, PLURAL = "targets.secretsync.test", "Widget", "widgets"
OPERATOR_SA = "system:serviceaccount:secretsync-system:secretsync"


def _seed(kube: Cluster, testbed: stack.Testbed, values: dict[str, str]) -> str:
    key = unique(f"manifest/{kube.namespace}")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret=values)
    vault_store(kube, testbed)
    return key


def _es(name: str, key: str, target: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "kind": "ExternalSecret",
        "metadata": {"name": name, "labels": {"app": "shop"}},
        "spec": {
            "refreshInterval": "1s",
            "secretStoreRef": {"name": "vault"},
            "target": target,
            "dataFrom": [{"extract": {"key": key}}],
            **spec,
        },
    }


def _config_map(kube: Cluster, name: str) -> client.V1ConfigMap | None:
    try:
        return kube.core.read_namespaced_config_map(name, kube.namespace)
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_a_configmap_target_is_written_kept_in_sync_and_owned(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed, {"user": "admin", "password": "pw-9f3e1c"})
    target = {"name": "shop-config", "manifest": {"apiVersion": "v1", "kind": "ConfigMap"}}
    kube.apply("externalsecrets", _es("shop", key, target))
    operator = start_operator(FLAG)

    found = eventually(lambda: _config_map(kube, "shop-config"), what="the ConfigMap")
    assert found.data == {"user": "admin", "password": "pw-9f3e1c"}
    assert found.metadata.labels["app"] == "shop"
    assert found.metadata.labels["reconcile.external-secrets.io/managed"] == "true"
    (owner,) = found.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("ExternalSecret", "shop", True)
    ready = condition(kube, "shop", "True", "ResourceSynced")
    assert ready["message"] == "secret synced"
    assert kube.secret("shop-config") is None  # a ConfigMap instead, not as well
    # The Event follows the status write, so it may land a moment after Ready.
    created = eventually(
        lambda: [e for e in kube.events("shop") if e.reason == "Created"], what="the Event"
    )
    assert created[0].message == "Created ConfigMap shop-config"

    # A new value at the source reaches the ConfigMap at the next refresh.
    vault(testbed).secrets.kv.v2.create_or_update_secret(
        key, secret={"user": "admin", "password": "pw-2b77aa"}
    )
    eventually(
        lambda: (_config_map(kube, "shop-config").data or {}).get("password") == "pw-2b77aa",
        what="the new value",
    )
    # A hand edit is put back (its data no longer matches the data-hash annotation).
    kube.core.patch_namespaced_config_map(
        "shop-config", kube.namespace, {"data": {"user": "mallory"}}
    )
    eventually(
        lambda: (_config_map(kube, "shop-config").data or {}).get("user") == "admin",
        what="the hand edit reverted",
    )
    # Status and Events name the kind, never a value.
    assert not any("pw-" in text for text in visible_text(kube, "shop"))
    # Syncs of generic targets count with the store they read, as Secret targets do.
    store = f'store_kind="SecretStore",store_namespace="{kube.namespace}",store="vault"'
    counted = [
        line
        for line in operator.metrics().splitlines()
        if line.startswith("secretsync_store_sync_calls_total{") and store in line
    ]
    assert any('result="success"' in line for line in counted), counted

    # Owner: the ConfigMap goes with its ExternalSecret (the garbage collector follows the
    # controller reference).
    kube.custom.delete_namespaced_custom_object(
        "external-secrets.io", "v1", kube.namespace, "externalsecrets", "shop"
    )
    eventually(lambda: _config_map(kube, "shop-config") is None, 60, "the ConfigMap deleted")


def test_templates_and_merge_into_an_existing_configmap(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed, {"host": "db.internal", "port": "5432"})
    kube.core.create_namespaced_config_map(
        kube.namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="settings", labels={"owner": "platform"}),
            data={"theme": "dark"},
        ),
    )
    target = {
        "name": "settings",
        "creationPolicy": "Merge",
        "manifest": {"apiVersion": "v1", "kind": "ConfigMap"},
        "template": {
            "metadata": {"annotations": {"team": "payments"}},
            "data": {"dsn": "postgres://{{ .host }}:{{ .port }}/shop"},
            "templateFrom": [{"literal": "region: eu-1\nzone: '{{ .port | trunc 2 }}'"}],
        },
    }
    kube.apply("externalsecrets", _es("merge", key, target))
    kube.apply(
        "externalsecrets",
        _es(
            "missing",
            key,
            {**target, "name": "not-there"},
        ),
    )
    start_operator(FLAG)

    def merged() -> Any:
        found = _config_map(kube, "settings")
        return found if found and "dsn" in (found.data or {}) else None

    found = eventually(merged, what="the merged ConfigMap")
    assert found.data == {
        "theme": "dark",  # kept: Merge starts from the live object
        "dsn": "postgres://db.internal:5432/shop",
        "region": "eu-1",
        "zone": "54",
    }
    assert found.metadata.labels["owner"] == "platform"
    assert found.metadata.annotations["team"] == "payments"
    assert not found.metadata.owner_references  # Merge never takes ownership
    condition(kube, "merge", "True", "ResourceSynced")
    # Merge never creates: ESO's ResourceMissing, and no ConfigMap.
    missing = condition(kube, "missing", "True", "ResourceMissing")
    assert missing["message"] == "resource will not be created due to CreationPolicy=Merge"
    assert _config_map(kube, "not-there") is None


def test_without_the_flag_nothing_is_written_and_the_reason_is_named(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed, {"user": "admin"})
    target = {"name": "off", "manifest": {"apiVersion": "v1", "kind": "ConfigMap"}}
    kube.apply("externalsecrets", _es("off", key, target))
    start_operator()
    ready = condition(kube, "off", "False", "SecretSyncedError")
    assert "--unsafe-allow-generic-targets" in ready["message"]
    assert _config_map(kube, "off") is None and kube.secret("off") is None


@pytest.fixture
def widget_crd(kube_api: client.ApiClient) -> Iterator[None]:
    """A namespaced CRD of this test's own, with a free-form spec (created once, kept)."""
    api = client.ApiextensionsV1Api(kube_api)
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "plural": PLURAL,
                "singular": "widget",
                "kind": KIND,
                "listKind": "WidgetList",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                },
                                "data": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                },
                            },
                        }
                    },
                }
            ],
        },
    }
    try:
        api.create_custom_resource_definition(body)
    except client.exceptions.ApiException as exc:
        if exc.status != 409:
            raise

    def established() -> bool:
        crd = api.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
        return any(
            c.type == "Established" and c.status == "True" for c in crd.status.conditions or []
        )

    eventually(established, what="the Widget CRD")
    yield


def _grant_widgets(kube_api: client.ApiClient, name: str) -> Callable[[], None]:
    """What a cluster admin does for a kind of their own: a ClusterRole for the operator."""
    rbac = client.RbacAuthorizationV1Api(kube_api)
    rbac.create_cluster_role(
        client.V1ClusterRole(
            metadata=client.V1ObjectMeta(name=name),
            rules=[
                client.V1PolicyRule(
                    api_groups=[GROUP],
                    resources=[PLURAL],
                    verbs=["get", "create", "update", "delete"],
                )
            ],
        )
    )
    rbac.create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=name),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=name
            ),
            subjects=[
                client.RbacV1Subject(
                    kind="ServiceAccount", name="secretsync", namespace="secretsync-system"
                )
            ],
        )
    )

    def revoke() -> None:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)

    return revoke


def _widget(kube: Cluster, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = kube.custom.get_namespaced_custom_object(
            GROUP, "v1", kube.namespace, PLURAL, name
        )
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def test_a_custom_resource_target_needs_its_kind_granted_then_is_templated_by_path(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    widget_crd: None,
    start_operator: Callable[..., Operator],
) -> None:
    key = _seed(kube, testbed, {"user": "svc", "token": "tk-51d0e2"})
    target = {
        "name": "gateway",
        "manifest": {"apiVersion": f"{GROUP}/v1", "kind": KIND},
        "template": {
            "templateFrom": [
                {
                    "literal": "replicas: 2\nhosts: [a.example, b.example]\n",
                    "target": "spec.config",
                },
                {"literal": "auth: '{{ .user }}:{{ .token }}'", "target": "spec.config"},
                {"literal": "10.0.0.0/8", "target": "spec.rules[0].from[0].source"},
                {"literal": "tier: gold", "target": "Labels"},
            ],
            "data": {"owner": "{{ .user }}"},
        },
    }
    kube.apply("externalsecrets", _es("gw", key, target))
    start_operator(FLAG)

    # Not granted yet: Ready=False naming the kind, the verb and what to grant.
    def refused() -> Any:
        ready = kube.ready("gw") or {}
        return ready.get("status") == "False" and ready

    ready = eventually(refused, what="the permission error")
    assert "widgets.targets.secretsync.test" in ready["message"] or '"widgets"' in ready["message"]
    assert "cannot get resource" in ready["message"] or "cannot create resource" in ready["message"]
    assert "grant the operator's ServiceAccount" in ready["message"]
    assert _widget(kube, "gateway") is None

    revoke = _grant_widgets(kube_api, unique("widgets"))
    try:
        found = eventually(lambda: _widget(kube, "gateway"), 60, "the Widget")
        assert found["spec"]["config"] == {
            "replicas": 2,
            "hosts": ["a.example", "b.example"],
            "auth": "svc:tk-51d0e2",
        }
        assert found["spec"]["rules"] == [{"from": [{"source": "10.0.0.0/8"}]}]
        assert found["data"] == {"owner": "svc"}
        assert found["metadata"]["labels"]["tier"] == "gold"
        assert found["metadata"]["ownerReferences"][0]["name"] == "gw"
        condition(kube, "gw", "True", "ResourceSynced")
        resource_version = found["metadata"]["resourceVersion"]
        # Refreshing every second, an unchanged source writes nothing.
        time.sleep(3)
        assert _widget(kube, "gateway")["metadata"]["resourceVersion"] == resource_version
        assert not any("tk-51d0e2" in text for text in visible_text(kube, "gw"))
        assert json.dumps(kube.es("gw")).count("tk-") == 0
    finally:
        revoke()


def test_render_prints_the_configmap_the_operator_would_write(
    testbed: stack.Testbed, tmp_path: Any
) -> None:
    key = unique("manifest/render")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"user": "admin"})
    documents = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "vault-token"},
            "stringData": {"token": testbed.VAULT_TOKEN},
        },
        {"apiVersion": "external-secrets.io/v1", **vault_store_body(testbed)},
        {
            "apiVersion": "external-secrets.io/v1",
            **_es(
                "shop",
                key,
                {
                    "name": "shop-config",
                    "manifest": {"apiVersion": "v1", "kind": "ConfigMap"},
                    "template": {"data": {"greeting": "hello {{ .user }}"}},
                },
            ),
        },
    ]
    path = tmp_path / "manifests.json"
    path.write_text("\n---\n".join(json.dumps(d) for d in documents))
    done = subprocess.run(
        [sys.executable, "-m", "secretsync", "render", "-f", str(path), "-n", "demo", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout)["items"]
    assert (item["apiVersion"], item["kind"]) == ("v1", "ConfigMap")
    assert item["metadata"]["name"] == "shop-config" and item["metadata"]["namespace"] == "demo"
    assert item["data"] == {"greeting": "hello admin"}


def test_an_edited_or_deleted_configmap_is_put_back_at_once(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _seed(kube, testbed, {"user": "admin"})
    target = {"name": "watched", "manifest": {"apiVersion": "v1", "kind": "ConfigMap"}}
    kube.apply("externalsecrets", _es("watched", key, target, refreshInterval="1h"))
    start_operator(FLAG)
    eventually(lambda: _config_map(kube, "watched"), what="the ConfigMap")
    condition(kube, "watched", "True", "ResourceSynced")
    # No refresh is due for an hour: only the watch can bring these back.
    kube.core.patch_namespaced_config_map("watched", kube.namespace, {"data": {"user": "x"}})
    eventually(
        lambda: (_config_map(kube, "watched").data or {}) == {"user": "admin"},
        timeout=10,
        what="the edit reverted",
    )
    kube.core.delete_namespaced_config_map("watched", kube.namespace)
    eventually(lambda: _config_map(kube, "watched"), timeout=10, what="the ConfigMap recreated")
    # An unrelated ConfigMap with the same label but no ExternalSecret is left alone.
    kube.core.create_namespaced_config_map(
        kube.namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name="stray", labels={"reconcile.external-secrets.io/managed": "true"}
            ),
            data={"k": "v"},
        ),
    )
    time.sleep(2)
    assert _config_map(kube, "stray").data == {"k": "v"}
