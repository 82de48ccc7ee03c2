"""ClusterExternalSecret through the operator: one ExternalSecret per selected namespace, synced,
removed when a namespace stops matching, never taking over an ExternalSecret it did not make."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hvac
from kubernetes import client

from tests.operator import harness
from tests.operator.harness import Cluster, eventually
from tests.testbed import stack


def _namespace(core: client.CoreV1Api, labels: dict[str, str]) -> str:
    name = f"ces-{uuid.uuid4().hex[:8]}"
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels))
    )
    return name


def test_a_cluster_external_secret_fans_out_to_selected_namespaces(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    operator_kubeconfig: Path,
    tmp_path: Path,
) -> None:
    core = client.CoreV1Api(kube_api)
    team = f"team-{uuid.uuid4().hex[:6]}"
    first, second = _namespace(core, {"team": team}), _namespace(core, {"team": team})
    taken = _namespace(core, {"team": team})
    name = f"shared-{uuid.uuid4().hex[:6]}"
    hvac.Client(
        url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN
    ).secrets.kv.v2.create_or_update_secret(f"ces/{name}", secret={"token": "fan-out-1"})
    kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
    kube.apply(
        "clustersecretstores",
        {
            "kind": "ClusterSecretStore",
            "metadata": {"name": name},
            "spec": {
                "provider": {
                    "vault": {
                        "server": testbed.VAULT_ADDR,
                        "path": "secret",
                        "auth": {
                            "tokenSecretRef": {
                                "name": "vault-token",
                                "key": "token",
                                "namespace": kube.namespace,
                            }
                        },
                    }
                }
            },
        },
    )
    # An ExternalSecret of the same name that someone else made must be left alone.
    Cluster(kube_api, taken).apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "shared"},
            "spec": {
                "secretStoreRef": {"name": "elsewhere"},
                "data": [{"secretKey": "x", "remoteRef": {"key": "y"}}],
            },
        },
    )
    es_spec: dict[str, Any] = {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": name, "kind": "ClusterSecretStore"},
        "target": {"name": "shared-secret"},
        "dataFrom": [{"extract": {"key": f"ces/{name}"}}],
    }
    kube.apply(
        "clusterexternalsecrets",
        {
            "kind": "ClusterExternalSecret",
            "metadata": {"name": name},
            "spec": {
                "externalSecretName": "shared",
                "refreshTime": "2s",
                "externalSecretMetadata": {"labels": {"fanned": "out"}},
                "namespaceSelectors": [{"matchLabels": {"team": team}}],
                "externalSecretSpec": es_spec,
            },
        },
    )
    # Scoped to this test's namespaces, so parallel tests' ExternalSecrets are not touched.
    watched = ",".join((kube.namespace, first, second, taken))
    operator = harness.start(
        operator_kubeconfig, tmp_path / "operator.log", "--no-leader-elect", "--namespace", watched
    )
    custom = client.CustomObjectsApi(kube_api)
    try:
        for namespace in (first, second):
            eventually(
                lambda n=namespace: (
                    Cluster(kube_api, n).data("shared-secret") == {"token": b"fan-out-1"}
                ),
                timeout=60,
                what=f"the Secret in {namespace}",
            )
            child = Cluster(kube_api, namespace).es("shared")
            assert child["metadata"]["labels"]["fanned"] == "out"
            assert child["metadata"]["ownerReferences"][0]["kind"] == "ClusterExternalSecret"

        def status() -> dict[str, Any]:
            found: dict[str, Any] = custom.get_cluster_custom_object(
                "external-secrets.io", "v1", "clusterexternalsecrets", name
            )
            return found.get("status") or {}

        eventually(
            lambda: sorted(status().get("provisionedNamespaces", [])) == sorted([first, second]),
            what="provisionedNamespaces",
        )
        assert [f["namespace"] for f in status()["failedNamespaces"]] == [taken]
        assert (
            Cluster(kube_api, taken).es("shared")["spec"]["secretStoreRef"]["name"] == "elsewhere"
        ), "a foreign ExternalSecret is never overwritten"

        core.patch_namespace(second, {"metadata": {"labels": {"team": "other"}}})
        eventually(
            lambda: _gone(custom, second),
            timeout=30,
            what="the child removed from a namespace that stopped matching",
        )
    finally:
        operator.stop()
        custom.delete_cluster_custom_object(
            "external-secrets.io", "v1", "clusterexternalsecrets", name
        )
        custom.delete_cluster_custom_object(
            "external-secrets.io", "v1", "clustersecretstores", name
        )
        for namespace in (first, second, taken):
            core.delete_namespace(namespace)


def _gone(custom: client.CustomObjectsApi, namespace: str) -> bool:
    listing: Callable[..., Any] = custom.list_namespaced_custom_object
    return not listing("external-secrets.io", "v1", namespace, "externalsecrets")["items"]
