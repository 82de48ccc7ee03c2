"""The operator, as a real process with its own ServiceAccount, keeps Secrets in the cluster
in line with Vault/OpenBao: it converges, heals drift, survives restarts without rewriting, and
never lets a secret value out."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import hvac
import pytest

from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL, data_hash
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import vault_store
from tests.testbed import bao, procs, stack

PASSWORD = "op-s3cret-" + uuid.uuid4().hex[:8]


def _vault(testbed: stack.Testbed) -> hvac.Client:
    return hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)


def _store(
    kube: Cluster, testbed: stack.Testbed, version: str = "v1", kv: str = "v2", path: str = "secret"
) -> None:
    vault_store(kube, testbed, api_version=version, kv=kv, path=path)


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
    # The Event is posted right after the status: wait for it, then check it is the only one.
    eventually(lambda: [e.reason for e in kube.events("db")] == ["Created"], what="the Event")
    calls = f'externalsecret_sync_calls_total{{name="db",namespace="{kube.namespace}"}} '
    assert calls in operator.metrics(), "ESO's metric, with ESO's labels"


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


def _syncs(operator: Operator) -> int:
    found = re.search(r"^secretsync_syncs_performed_total (\d+)", operator.metrics(), re.M)
    return int(found.group(1)) if found else 0


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
    eventually(lambda: _syncs(second) >= 3, what="the restarted operator to look at all three")
    time.sleep(2)  # room for any write it would wrongly make
    assert {
        n: kube.secret(f"{n}-secret").metadata.resource_version  # type: ignore[union-attr]
        for n in versions
    } == versions
    assert {n: kube.es(n)["metadata"]["resourceVersion"] for n in statuses} == statuses


def _private_openbao(port: int, token: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """A throwaway OpenBao dev server, so that this test can take it down."""
    server = subprocess.Popen(
        bao.dev_argv(port, token),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    vault = hvac.Client(url=f"http://127.0.0.1:{port}", token=token)
    eventually(vault.sys.is_initialized, what="the private OpenBao")
    return server


def test_a_provider_outage_keeps_the_secret_and_recovers(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    tmp_path: Path,
) -> None:
    port, token = procs.free_port(), "root-" + uuid.uuid4().hex[:8]
    address = f"http://127.0.0.1:{port}"
    log = (tmp_path / "bao.log").open("ab")
    server = _private_openbao(port, token, log)
    try:
        hvac.Client(url=address, token=token).secrets.kv.v2.create_or_update_secret(
            "db", secret={"password": PASSWORD}
        )
        kube.put_secret("vault-token", {"token": token})
        kube.apply(
            "secretstores",
            {
                "kind": "SecretStore",
                "metadata": {"name": "vault"},
                "spec": {
                    "provider": {
                        "vault": {
                            "server": address,
                            "path": "secret",
                            "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
                        }
                    }
                },
            },
        )
        kube.apply("externalsecrets", _es("db", "db", refreshInterval="1s")[1])
        start_operator()
        eventually(lambda: kube.data("db-secret") == {"password": PASSWORD.encode()})

        server.kill()  # the outage
        server.wait()
        failing = eventually(
            lambda: (kube.ready("db") or {}).get("status") == "False" and kube.ready("db"),
            what="the outage to show",
        )
        assert failing["reason"] == "SecretSyncedError"
        assert f"127.0.0.1:{port}" in failing["message"]
        assert kube.data("db-secret") == {"password": PASSWORD.encode()}, "the Secret is kept"
        eventually(
            lambda: any(
                e.reason == "UpdateFailed" and e.type == "Warning" for e in kube.events("db")
            ),
            what="the Warning event",
        )

        # Back on the same address (a dev server starts empty, so the data is seeded again).
        server = _private_openbao(port, token, log)
        hvac.Client(url=address, token=token).secrets.kv.v2.create_or_update_secret(
            "db", secret={"password": PASSWORD}
        )
        eventually(
            lambda: (kube.ready("db") or {}).get("status") == "True",
            timeout=60,
            what="recovery without any intervention",
        )
        assert kube.data("db-secret") == {"password": PASSWORD.encode()}
    finally:
        server.kill()
        server.wait()
        log.close()


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
