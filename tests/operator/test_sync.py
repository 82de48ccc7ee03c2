"""The operator, as a real process with its own ServiceAccount, keeps Secrets in the cluster
in line with Vault/OpenBao: it converges, heals drift, survives restarts without rewriting, and
never lets a secret value out."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import hvac
import pytest

from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL, data_hash
from tests.operator.harness import Cluster, Operator, eventually
from tests.testbed import stack

PASSWORD = "op-s3cret-" + uuid.uuid4().hex[:8]


def _vault(testbed: stack.Testbed) -> hvac.Client:
    return hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)


def _store(
    kube: Cluster, testbed: stack.Testbed, version: str = "v1", kv: str = "v2", path: str = "secret"
) -> None:
    kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
    kube.apply(
        "secretstores",
        {
            "kind": "SecretStore",
            "metadata": {"name": "vault"},
            "spec": {
                "provider": {
                    "vault": {
                        "server": testbed.VAULT_ADDR,
                        "path": path,
                        "version": kv,
                        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
                    }
                }
            },
        },
        version,
    )


def _es(name: str, key: str, version: str = "v1", **spec: Any) -> tuple[str, dict[str, Any]]:
    body = {
        "kind": "ExternalSecret",
        "metadata": {"name": name, "labels": {"team": "a"}},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "vault"},
            "target": {"name": f"{name}-secret"},
            "data": [{"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}],
            "dataFrom": [{"extract": {"key": key}}],
            **spec,
        },
    }
    return version, body


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_an_eso_manifest_converges_to_the_exact_secret(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator], version: str
) -> None:
    key = f"op/{kube.namespace}"
    _vault(testbed).secrets.kv.v2.create_or_update_secret(
        key, secret={"password": PASSWORD, "user": "admin"}
    )
    _store(kube, testbed, version)
    api_version, body = _es("db", key, version)
    kube.apply("externalsecrets", body, api_version)
    operator = start_operator()

    eventually(lambda: kube.secret("db-secret"), what="the Secret")
    secret = kube.secret("db-secret")
    assert secret is not None
    expected = {"password": PASSWORD.encode(), "user": b"admin"}
    assert kube.data("db-secret") == expected
    assert secret.metadata.labels == {MANAGED_LABEL: "true", "team": "a"}
    assert secret.metadata.annotations[DATA_HASH_ANNOTATION] == data_hash(expected)
    (owner,) = secret.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("ExternalSecret", "db", True)

    ready = eventually(lambda: kube.ready("db"), what="Ready")
    assert (ready["status"], ready["reason"]) == ("True", "SecretSynced")
    status = kube.es("db")["status"]
    assert status["observedGeneration"] == 1
    assert status["refreshTime"] and status["syncedResourceVersion"].startswith("1-")
    assert [e.reason for e in kube.events("db")] == ["Created"]
    assert 'externalsecret_sync_calls_total{store="vault",result="success"} 1' in operator.metrics()


def test_kv_v1(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"op/{kube.namespace}"
    _vault(testbed).secrets.kv.v1.create_or_update_secret(
        key, secret={"password": PASSWORD, "user": "v1"}, mount_point="kv1"
    )
    _store(kube, testbed, kv="v1", path="kv1")
    kube.apply("externalsecrets", _es("db", key)[1])
    start_operator()
    assert eventually(lambda: kube.data("db-secret")) == {
        "password": PASSWORD.encode(),
        "user": b"v1",
    }


def test_drift_is_healed_and_counted(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"op/{kube.namespace}"
    _vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": PASSWORD})
    _store(kube, testbed)
    kube.apply("externalsecrets", _es("db", key)[1])
    operator = start_operator()
    eventually(lambda: kube.data("db-secret"), what="first sync")

    kube.core.patch_namespaced_secret(
        "db-secret", kube.namespace, {"data": {"password": base64.b64encode(b"x").decode()}}
    )
    eventually(
        lambda: kube.data("db-secret") == {"password": PASSWORD.encode()},
        what="the hand edit to be undone",
    )
    kube.core.delete_namespaced_secret("db-secret", kube.namespace)
    eventually(
        lambda: kube.data("db-secret") == {"password": PASSWORD.encode()},
        what="the deleted Secret to come back",
    )
    assert eventually(
        lambda: (
            f'secretsync_drift_corrections_total{{namespace="{kube.namespace}"}} 2'
            in operator.metrics()
        ),
        what="the drift metric",
    )


def test_a_restart_converges_with_no_extra_writes(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"op/{kube.namespace}"
    _vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": PASSWORD})
    _store(kube, testbed)
    for name in ("one", "two", "three"):
        kube.apply("externalsecrets", _es(name, key)[1])
    first = start_operator()
    for name in ("one", "two", "three"):
        eventually(lambda n=name: kube.ready(n), what=f"{name} Ready")
    versions = {
        n: kube.secret(f"{n}-secret").metadata.resource_version  # type: ignore[union-attr]
        for n in ("one", "two", "three")
    }
    statuses = {n: kube.es(n)["metadata"]["resourceVersion"] for n in ("one", "two", "three")}
    first.stop()

    second = start_operator()
    eventually(
        lambda: "secretsync_syncs_performed_total 3" in second.metrics(),
        what="the restarted operator to look at all three",
    )
    assert {
        n: kube.secret(f"{n}-secret").metadata.resource_version  # type: ignore[union-attr]
        for n in versions
    } == versions
    assert {n: kube.es(n)["metadata"]["resourceVersion"] for n in statuses} == statuses


def test_a_provider_outage_keeps_the_secret_and_recovers(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"op/{kube.namespace}"
    vault = _vault(testbed)
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": PASSWORD})
    kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
    # The store points at a port where nothing listens until the outage "ends": the store is
    # then edited back to the real server, as an operator fixing an outage would see it.
    kube.apply(
        "secretstores",
        {
            "kind": "SecretStore",
            "metadata": {"name": "vault"},
            "spec": {
                "provider": {
                    "vault": {
                        "server": testbed.VAULT_ADDR,
                        "path": "secret",
                        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
                    }
                }
            },
        },
    )
    kube.apply("externalsecrets", _es("db", key, refreshInterval="2s")[1])
    start_operator()
    eventually(lambda: kube.data("db-secret") == {"password": PASSWORD.encode()})
    kube.custom.patch_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        kube.namespace,
        "secretstores",
        "vault",
        {"spec": {"provider": {"vault": {"server": "http://127.0.0.1:9"}}}},
    )
    failing = eventually(
        lambda: (kube.ready("db") or {}).get("status") == "False" and kube.ready("db"),
        what="the outage to show",
    )
    assert failing["reason"] == "SecretSyncedError"
    assert (
        "could not" in failing["message"]
        or "Unavailable" in failing["message"]
        or "127.0.0.1:9" in failing["message"]
    )
    assert kube.data("db-secret") == {"password": PASSWORD.encode()}, "the Secret is kept"
    assert any(e.reason == "UpdateFailed" and e.type == "Warning" for e in kube.events("db"))
    kube.custom.patch_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        kube.namespace,
        "secretstores",
        "vault",
        {"spec": {"provider": {"vault": {"server": testbed.VAULT_ADDR}}}},
    )
    eventually(lambda: (kube.ready("db") or {}).get("status") == "True", what="recovery")


def test_no_secret_value_is_ever_visible(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"op/{kube.namespace}"
    _vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": PASSWORD})
    _store(kube, testbed)
    kube.apply("externalsecrets", _es("db", key)[1])
    # A property that does not exist makes the provider talk about the secret it read.
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "bad"},
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "data": [{"secretKey": "x", "remoteRef": {"key": key, "property": "nope"}}],
            },
        },
    )
    operator = start_operator("--log-level", "DEBUG")
    eventually(lambda: kube.data("db-secret"), what="sync")
    eventually(lambda: (kube.ready("bad") or {}).get("status") == "False", what="failure")
    visible = [
        operator.logs(),
        json.dumps(kube.es("db")),
        json.dumps(kube.es("bad")),
        *[str(e.message) for e in kube.events("db") + kube.events("bad")],
        json.dumps(kube.secret("db-secret").metadata.to_dict(), default=str),
    ]  # type: ignore[union-attr]
    for text in visible:
        assert PASSWORD not in text
        assert testbed.VAULT_TOKEN not in text
