"""secretsync beside the real External Secrets Operator (v0.16.2), on one apiserver and one
OpenBao, as during a migration: each syncs only the stores of its controller class and never
writes the other's Secrets, and a store handed from ESO to secretsync (and back) keeps its
Secrets' data the whole time.

ESO runs confined to the test's namespace with the admin kubeconfig (tests/testbed/eso.py);
secretsync runs as its own process on its ServiceAccount (deploy/rbac).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import unique, vault, vault_store
from tests.operator.ownership import (
    ESO_STATUS,
    SECRETSYNC,
    SecretWatch,
    data_managers,
    eso_secret_manager,
    managers,
)
from tests.testbed import binaries, eso, stack

Start = Callable[..., Operator]
GROUP = "external-secrets.io"


@pytest.fixture
def classes() -> tuple[str, str]:
    suffix = unique("class")
    return f"eso-{suffix}", f"secretsync-{suffix}"


@pytest.fixture
def start_eso(
    installed: stack.Testbed, namespace: str, tmp_path: Path
) -> Iterator[Callable[[str], eso.Eso]]:
    """ESO's controller for this test's namespace; stopped afterwards. A missing binary is an
    error naming the install command, never a skip."""
    kubectl = binaries.require(binaries.KUBECTL)
    kubeconfig = Path(installed.KUBECONFIG)
    eso.binary()
    eso.install_missing_crds(kubectl, kubeconfig, tmp_path)
    started: list[eso.Eso] = []

    def start(controller_class: str) -> eso.Eso:
        started.append(
            eso.start(
                tmp_path / "eso", kubeconfig, controller_class=controller_class, namespace=namespace
            )
        )
        return started[-1]

    yield start
    for running in started:
        eso.stop(running)


def _es(kube: Cluster, name: str, store: str, key: str, interval: str = "1s") -> None:
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": name},
            "spec": {
                "refreshInterval": interval,
                "secretStoreRef": {"name": store, "kind": "SecretStore"},
                "target": {"name": name},
                "data": [
                    {"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}
                ],
            },
        },
    )


def _set_class(kube: Cluster, store: str, klass: str) -> None:
    kube.custom.patch_namespaced_custom_object(
        GROUP, "v1", kube.namespace, "secretstores", store, {"spec": {"controller": klass}}
    )


def _seed(testbed: stack.Testbed, key: str, password: str) -> None:
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": password})


def _holds(kube: Cluster, names: list[str], password: str) -> bool:
    return all(kube.data(name) == {"password": password.encode()} for name in names)


def _status_by(kube: Cluster, name: str, manager: str, since: float = 0.0) -> bool:
    """The ExternalSecret's status was last written by this manager, at or after `since`
    (managedFields times have a one-second grain)."""
    written = managers(kube.es(name), "status")
    when = written.get(manager)
    newest = max(written.values(), default=None)
    return when is not None and when == newest and when.timestamp() >= int(since)


def _ready(kube: Cluster, name: str) -> bool:
    conditions = (kube.es(name).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _resource_versions(kube: Cluster, names: list[str]) -> dict[str, str]:
    found = {}
    for name in names:
        secret = kube.secret(name)
        assert secret is not None, name
        found[name] = secret.metadata.resource_version
    return found


def test_each_operator_syncs_only_its_own_class(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Start,
    start_eso: Callable[[str], eso.Eso],
    classes: tuple[str, str],
) -> None:
    eso_class, our_class = classes
    key_eso, key_ours = unique("eso-side"), unique("ours-side")
    _seed(testbed, key_eso, "eso-one")
    _seed(testbed, key_ours, "ours-one")
    vault_store(kube, testbed, "eso-store", controller=eso_class)
    vault_store(kube, testbed, "our-store", controller=our_class)
    esos, ours = ["e1", "e2"], ["s1", "s2"]
    for name in esos:
        _es(kube, name, "eso-store", key_eso)
    for name in ours:
        _es(kube, name, "our-store", key_ours)
    start_eso(eso_class)
    start_operator("--controller-class", our_class)

    eventually(lambda: _holds(kube, esos, "eso-one"), 60, "ESO's Secrets")
    eventually(lambda: _holds(kube, ours, "ours-one"), 60, "secretsync's Secrets")
    for name in esos:
        secret = kube.secret(name)
        assert secret is not None
        assert data_managers(secret) == {eso_secret_manager(name)}, name
        assert SECRETSYNC not in managers(secret), name
        assert eventually(lambda n=name: _status_by(kube, n, ESO_STATUS), 20, f"{name} by ESO")
        assert SECRETSYNC not in managers(kube.es(name), "status"), name
        assert all(e.source.component != "secretsync" for e in kube.events(name)), name
    for name in ours:
        secret = kube.secret(name)
        assert secret is not None
        assert data_managers(secret) == {SECRETSYNC}, name
        assert not any(m.startswith("externalsecrets.") for m in managers(secret)), name
        assert ESO_STATUS not in managers(kube.es(name), "status"), name
    store_status = managers(
        kube.custom.get_namespaced_custom_object(
            GROUP, "v1", kube.namespace, "secretstores", "our-store"
        ),
        "status",
    )
    assert ESO_STATUS not in store_status

    # Both refresh every second; for a while nothing changes, so nobody writes anything...
    before = _resource_versions(kube, esos + ours)
    time.sleep(5)
    assert _resource_versions(kube, esos + ours) == before
    # ...and a changed value reaches each side's Secrets through its own operator only.
    _seed(testbed, key_eso, "eso-two")
    _seed(testbed, key_ours, "ours-two")
    eventually(lambda: _holds(kube, esos, "eso-two"), 30, "ESO's Secrets refreshed")
    eventually(lambda: _holds(kube, ours, "ours-two"), 30, "secretsync's Secrets refreshed")
    for name in esos:
        secret = kube.secret(name)
        assert secret is not None and data_managers(secret) == {eso_secret_manager(name)}
    for name in ours:
        secret = kube.secret(name)
        assert secret is not None and data_managers(secret) == {SECRETSYNC}


def test_a_store_handed_from_eso_to_secretsync_and_back_keeps_its_secrets(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Start,
    start_eso: Callable[[str], eso.Eso],
    classes: tuple[str, str],
) -> None:
    eso_class, our_class = classes
    key = unique("handover")
    _seed(testbed, key, "first")
    vault_store(kube, testbed, "vault", controller=eso_class)
    names = [f"app-{i}" for i in range(4)]
    for name in names:
        _es(kube, name, "vault", key)
    # A canary of secretsync's own: once it is synced, secretsync watches this namespace and
    # has seen the store of ESO's class, so the move below is a hand-over, not a first sight.
    vault_store(kube, testbed, "canary", controller=our_class)
    _es(kube, "canary", "canary", key, interval="1h")
    start_eso(eso_class)
    start_operator("--controller-class", our_class)
    eventually(lambda: _holds(kube, names, "first"), 60, "ESO's first sync")
    eventually(lambda: all(_ready(kube, n) for n in names), 30, "ESO's Ready")
    eventually(lambda: _status_by(kube, "canary", SECRETSYNC), 30, "secretsync running")
    assert not any(SECRETSYNC in managers(kube.es(n), "status") for n in names)
    watcher = SecretWatch(kube_api, kube.namespace, set(names))
    try:
        _hand_over_and_back(kube, testbed, names, key, our_class, eso_class)
    finally:
        watcher.stop()
    assert watcher.seen(), "the watch saw the hand-over's writes"
    assert watcher.gaps() == []


def _hand_over_and_back(
    kube: Cluster,
    testbed: stack.Testbed,
    names: list[str],
    key: str,
    our_class: str,
    eso_class: str,
) -> None:
    moved = time.time()
    _set_class(kube, "vault", our_class)
    eventually(
        lambda: all(_status_by(kube, n, SECRETSYNC, moved) and _ready(kube, n) for n in names),
        30,
        "secretsync's status on every ExternalSecret",
    )
    took_over = time.time() - moved
    assert _holds(kube, names, "first")  # same data: nothing needed writing
    changed = time.time()
    _seed(testbed, key, "second")
    eventually(lambda: _holds(kube, names, "second"), 30, "the new value through secretsync")
    arrived = time.time() - changed
    for name in names:
        secret = kube.secret(name)
        assert secret is not None
        assert data_managers(secret) == {SECRETSYNC}, name
        assert secret.metadata.labels.get("reconcile.external-secrets.io/managed") == "true"
        owner = next(r for r in secret.metadata.owner_references or [] if r.controller)
        assert (owner.kind, owner.name) == ("ExternalSecret", name)
    print(
        f"hand-over to secretsync: statuses written {took_over:.1f}s after the store moved; "
        f"a changed value reached {len(names)} Secrets {arrived:.1f}s after the write"
    )

    # Back to ESO, as a rollback would go: ESO does not watch stores, so its ExternalSecrets
    # are woken with the force-sync annotation (docs/migrating.md says so).
    back = time.time()
    _set_class(kube, "vault", eso_class)
    time.sleep(2)
    for name in names:
        kube.patch_es(name, {"metadata": {"annotations": {"force-sync": str(back)}}})
    eventually(
        lambda: all(_status_by(kube, n, ESO_STATUS, back) for n in names), 30, "ESO's status back"
    )
    _seed(testbed, key, "third")
    eventually(lambda: _holds(kube, names, "third"), 30, "the new value through ESO")
    for name in names:
        secret = kube.secret(name)
        assert secret is not None
        assert eso_secret_manager(name) in data_managers(secret), name
        ours = managers(kube.es(name), "status").get(SECRETSYNC)
        assert ours is None or ours.timestamp() <= back + 1, name  # we stopped writing
