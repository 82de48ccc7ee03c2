"""ESO-style manifests and seeding helpers shared by the operator tests: a Vault/OpenBao store
with the dev root token, ExternalSecrets reading one key, and waits on the Ready condition."""

from __future__ import annotations

import json
import uuid
from typing import Any

import hvac

from tests.operator.harness import Cluster, eventually
from tests.testbed import stack


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def vault(testbed: stack.Testbed) -> hvac.Client:
    return hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)


def vault_store_body(
    testbed: stack.Testbed,
    name: str = "vault",
    kind: str = "SecretStore",
    *,
    token_namespace: str | None = None,
    kv: str = "v2",
    path: str = "secret",
    **spec: Any,
) -> dict[str, Any]:
    """A store reading the test bed's OpenBao with the root token from Secret vault-token."""
    token = {"name": "vault-token", "key": "token"}
    if token_namespace is not None:
        token["namespace"] = token_namespace
    return {
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "provider": {
                "vault": {
                    "server": testbed.VAULT_ADDR,
                    "path": path,
                    "version": kv,
                    "auth": {"tokenSecretRef": token},
                }
            },
            **spec,
        },
    }


def vault_store(
    kube: Cluster,
    testbed: stack.Testbed,
    name: str = "vault",
    kind: str = "SecretStore",
    *,
    api_version: str = "v1",
    kv: str = "v2",
    path: str = "secret",
    **spec: Any,
) -> None:
    """A token-auth Vault store; for a ClusterSecretStore the token Secret must carry its own
    namespace (it is read from the test's namespace)."""
    if kube.secret("vault-token") is None:
        kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
    cluster = kind == "ClusterSecretStore"
    kube.apply(
        "clustersecretstores" if cluster else "secretstores",
        vault_store_body(
            testbed,
            name,
            kind,
            token_namespace=kube.namespace if cluster else None,
            kv=kv,
            path=path,
            **spec,
        ),
        api_version,
    )


def rotating_es(
    kube: Cluster,
    testbed: stack.Testbed,
    key: str,
    rollout: dict[str, Any] | None,
    target_annotations: dict[str, str] | None = None,
) -> None:
    """ExternalSecret `db` (Secret `db`, key `password`) refreshing every second from the Vault
    store, with `spec.rollout` when given: what the rotation tests rotate."""
    vault_store(kube, testbed)
    target: dict[str, Any] = {"name": "db"}
    if target_annotations:
        target["template"] = {"metadata": {"annotations": target_annotations}}
    spec: dict[str, Any] = {
        "refreshInterval": "1s",
        "secretStoreRef": {"name": "vault"},
        "target": target,
        "data": [{"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}],
    }
    if rollout is not None:
        spec["rollout"] = rollout
    kube.apply(
        "externalsecrets", {"kind": "ExternalSecret", "metadata": {"name": "db"}, "spec": spec}
    )


def sops_store(kube: Cluster, url: str, interval: str, name: str = "git") -> None:
    """A SOPS-in-Git store on `main`, with the age identity in Secret `age` (key.agekey)."""
    kube.apply(
        "secretstores",
        {
            "kind": "SecretStore",
            "metadata": {"name": name},
            "spec": {
                "provider": {
                    "sops": {
                        "git": {"url": url, "ref": {"branch": "main"}, "interval": interval},
                        "decryption": {"secretRef": {"name": "age"}},
                    }
                }
            },
        },
    )


def external_secret(
    name: str,
    key: str,
    *,
    store: str = "vault",
    store_kind: str = "SecretStore",
    target: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    properties: tuple[str, ...] = (),
    **spec: Any,
) -> dict[str, Any]:
    """An ExternalSecret: `data` for each property asked, else `dataFrom.extract` of the key."""
    source: dict[str, Any]
    if properties:
        source = {
            "data": [{"secretKey": p, "remoteRef": {"key": key, "property": p}} for p in properties]
        }
    else:
        source = {"dataFrom": [{"extract": {"key": key}}]}
    return {
        "kind": "ExternalSecret",
        "metadata": {"name": name, **(metadata or {})},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": store, "kind": store_kind},
            "target": {"name": f"{name}-secret", **(target or {})},
            **source,
            **spec,
        },
    }


def condition(kube: Cluster, name: str, status: str, reason: str, timeout: float = 20) -> Any:
    """Wait until the ExternalSecret's Ready condition has this status and reason."""

    def check() -> Any:
        ready = kube.ready(name) or {}
        return (ready.get("status"), ready.get("reason")) == (status, reason) and ready

    return eventually(check, timeout=timeout, what=f"{name} Ready={status} {reason}")


def store_ready(kube: Cluster, plural: str, name: str) -> dict[str, Any] | None:
    if plural.startswith("cluster"):
        found = kube.custom.get_cluster_custom_object("external-secrets.io", "v1", plural, name)
    else:
        found = kube.custom.get_namespaced_custom_object(
            "external-secrets.io", "v1", kube.namespace, plural, name
        )
    conditions = (found.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), None)


def visible_text(kube: Cluster, *names: str) -> list[str]:
    """Everything a user without Secret access could read about these ExternalSecrets: their
    objects (status included) and their Events."""
    texts = [json.dumps(kube.es(name)) for name in names]
    for name in names:
        texts += [f"{e.reason} {e.message}" for e in kube.events(name)]
    return texts
