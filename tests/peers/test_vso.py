"""The real Vault Secrets Operator on the test bed: a VaultStaticSecret reading KV v2 on the
test bed's OpenBao, through a VaultConnection and a VaultAuth using OpenBao's Kubernetes auth
(whose TokenReviews go to the test bed's apiserver), is synced into a Secret, and the Secret
follows when the value changes in OpenBao.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from kubernetes import client

from tests.testbed import bao, cluster, stack, vso

# VSO 0.10 watches every namespace: the tests that start it share a worker.
pytestmark = [pytest.mark.testbed, pytest.mark.xdist_group("vso")]

GROUP, VERSION = "secrets.hashicorp.com", "v1beta1"
AUDIENCE = "vault"


def _kv_put(openbao: bao.Bao, path: str, password: str) -> None:
    bao.request(openbao, "POST", f"secret/data/{path}", {"data": {"password": password}})


def _grant(openbao: bao.Bao, namespace: str, path: str) -> str:
    """A policy reading only this path and a Kubernetes-auth role for the namespace's `app`
    ServiceAccount; returns the role's name."""
    name = f"vso-{namespace}"
    policy = f'path "secret/data/{path}" {{ capabilities = ["read"] }}'
    bao.request(openbao, "PUT", f"sys/policies/acl/{name}", {"policy": policy})
    bao.request(
        openbao,
        "POST",
        f"auth/kubernetes/role/{name}",
        {
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": [namespace],
            "audience": AUDIENCE,
            "token_policies": [name],
            "token_ttl": "10m",
        },
    )
    return name


def _create(custom: client.CustomObjectsApi, namespace: str, kind: str, spec: Any) -> None:
    plural = kind.lower() + "s"
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": "app"},
        "spec": spec,
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)


def _password(core: client.CoreV1Api, namespace: str) -> str | None:
    try:
        secret = core.read_namespaced_secret("app-secret", namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    raw = (secret.data or {}).get("password")
    return base64.b64decode(raw).decode() if raw else None


def test_vso_syncs_a_vault_static_secret_and_follows_a_changed_value(
    testbed: stack.Testbed,
    kube_api: client.ApiClient,
    bao_dev: bao.Bao,
    namespace: str,
    start_vso: Callable[[], vso.Vso],
) -> None:
    core, custom = client.CoreV1Api(kube_api), client.CustomObjectsApi(kube_api)
    path = f"peers/{namespace}/db"
    _kv_put(bao_dev, path, "first")
    role = _grant(bao_dev, namespace, path)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="app"))
    )
    running = start_vso()
    assert "vaultstaticsecrets.secrets.hashicorp.com" in running.crds

    _create(custom, namespace, "VaultConnection", {"address": testbed.VAULT_ADDR})
    _create(
        custom,
        namespace,
        "VaultAuth",
        {
            "vaultConnectionRef": "app",
            "method": "kubernetes",
            "mount": "kubernetes",
            "kubernetes": {"role": role, "serviceAccount": "app", "audiences": [AUDIENCE]},
        },
    )
    _create(
        custom,
        namespace,
        "VaultStaticSecret",
        {
            "vaultAuthRef": "app",
            "type": "kv-v2",
            "mount": "secret",
            "path": path,
            "refreshAfter": "1s",
            "destination": {"name": "app-secret", "create": True},
        },
    )

    cluster.wait_until(lambda: _password(core, namespace) == "first", 90, "VSO's first sync")
    secret = core.read_namespaced_secret("app-secret", namespace)
    assert secret.data is not None and secret.metadata is not None
    raw = json.loads(base64.b64decode(secret.data["_raw"]))  # VSO keeps Vault's whole answer
    assert raw["data"]["password"] == "first"
    owners = secret.metadata.owner_references or []
    assert [owner.kind for owner in owners] == ["VaultStaticSecret"]

    _kv_put(bao_dev, path, "second")
    cluster.wait_until(lambda: _password(core, namespace) == "second", 60, "VSO to follow")
    found = cast(
        "dict[str, Any]",
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "vaultstaticsecrets", "app"),
    )
    status = found["status"]
    assert status.get("secretMAC"), status  # VSO compares by HMAC, never storing the value
    assert "second" not in json.dumps(status)
    assert "second" not in running.log()
