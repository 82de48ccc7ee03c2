"""The CRDs are generated from the models, accepted by the real apiserver, and enforced there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from secretsync.api.crds import all_crds
from secretsync.cli.crds_command import crd_files
from tests.testbed.cluster import apply_crds

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"


def test_committed_crds_match_the_models() -> None:
    committed = {p.name: p.read_text() for p in CRD_DIR.glob("*.yaml")}
    assert committed == crd_files(), "run: python -m secretsync crds --write crds"


@pytest.fixture
def custom(kube_api: client.ApiClient) -> Iterator[client.CustomObjectsApi]:
    apply_crds(kube_api, all_crds())
    yield client.CustomObjectsApi(kube_api)


def _es(version: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"external-secrets.io/{version}",
        "kind": "ExternalSecret",
        "metadata": {"name": "db"},
        "spec": spec,
    }


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_eso_manifests_apply_unchanged(
    custom: client.CustomObjectsApi, namespace: str, version: str
) -> None:
    store = {
        "apiVersion": f"external-secrets.io/{version}",
        "kind": "SecretStore",
        "metadata": {"name": "vault"},
        "spec": {
            "provider": {
                "vault": {
                    "server": "http://vault:8200",
                    "path": "secret",
                    "version": "v2",
                    "auth": {
                        "kubernetes": {
                            "mountPath": "kubernetes",
                            "role": "app",
                            "serviceAccountRef": {"name": "app"},
                        }
                    },
                }
            }
        },
    }
    custom.create_namespaced_custom_object(
        "external-secrets.io", version, namespace, "secretstores", store
    )
    spec = {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
        "target": {"name": "db", "creationPolicy": "Owner"},
        "data": [{"secretKey": "pw", "remoteRef": {"key": "db", "property": "password"}}],
    }
    custom.create_namespaced_custom_object(
        "external-secrets.io", version, namespace, "externalsecrets", _es(version, spec)
    )
    stored = custom.get_namespaced_custom_object(
        "external-secrets.io", "v1", namespace, "externalsecrets", "db"
    )
    assert stored["spec"]["data"][0]["remoteRef"] == {"key": "db", "property": "password"}
    assert stored["spec"]["target"]["deletionPolicy"] == "Retain", "CRD default applied"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {
                "secretStoreRef": {"name": "s"},
                "data": [{"secretKey": "bad key!", "remoteRef": {"key": "x"}}],
            },
            "spec.data[0].secretKey",
        ),
        (
            {"secretStoreRef": {"name": "s"}, "data": [{"secretKey": "k", "remoteRef": {}}]},
            "spec.data[0].remoteRef.key: Required value",
        ),
        (
            {"secretStoreRef": {"name": "s"}, "target": {"creationPolicy": "Sometimes"}},
            'spec.target.creationPolicy: Unsupported value: "Sometimes"',
        ),
    ],
)
def test_the_apiserver_rejects_malformed_external_secrets_readably(
    custom: client.CustomObjectsApi, namespace: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiException) as rejected:
        custom.create_namespaced_custom_object(
            "external-secrets.io", "v1", namespace, "externalsecrets", _es("v1", spec)
        )
    assert rejected.value.status == 422
    assert message in json.loads(rejected.value.body)["message"]


def test_a_store_of_an_unimplemented_provider_is_kept_and_a_misspelt_one_refused(
    custom: client.CustomObjectsApi, namespace: str
) -> None:
    provider = {"projectID": "p", "auth": {"workloadIdentity": {"clusterName": "c", "x": [1]}}}
    store = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "SecretStore",
        "metadata": {"name": "gcp"},
        "spec": {"provider": {"gcpsm": provider}},
    }
    created = custom.create_namespaced_custom_object(
        "external-secrets.io", "v1", namespace, "secretstores", store
    )
    assert created["spec"] == {"provider": {"gcpsm": provider}}

    store["metadata"] = {"name": "typo"}
    store["spec"] = {"provider": {"gcpms": provider}}
    with pytest.raises(ApiException) as rejected:
        custom.create_namespaced_custom_object(
            "external-secrets.io", "v1", namespace, "secretstores", store
        )
    assert rejected.value.status == 422
    assert "spec.provider" in str(rejected.value.body)


def test_printer_columns_and_short_names(
    kube_api: client.ApiClient, custom: client.CustomObjectsApi
) -> None:
    ext = client.ApiextensionsV1Api(kube_api)
    es = ext.read_custom_resource_definition("externalsecrets.external-secrets.io")
    assert es.spec.names.short_names == ["es"]
    columns = [c.name for c in es.spec.versions[0].additional_printer_columns]
    assert columns[:4] == ["Store", "Refresh Interval", "Status", "Ready"]
