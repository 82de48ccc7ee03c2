"""spec.controller through the real operator, on its own (ESO beside it: test_eso_side_by_side):
what belongs to another class is not touched at all, an empty class is everyone's, and a store
handed over to our class is synced at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, external_secret, store_ready, unique, vault
from tests.operator.ownership import SECRETSYNC, managers
from tests.testbed import stack

Start = Callable[..., Operator]
OURS = "secretsync-test"


def _store(
    kube: Cluster, testbed: stack.Testbed, name: str, klass: str | None, **provider: Any
) -> None:
    if kube.secret("vault-token") is None:
        kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
    spec: dict[str, Any] = {
        "provider": provider
        or {
            "vault": {
                "server": testbed.VAULT_ADDR,
                "path": "secret",
                "version": "v2",
                "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
            }
        }
    }
    if klass is not None:
        spec["controller"] = klass
    kube.apply("secretstores", {"kind": "SecretStore", "metadata": {"name": name}, "spec": spec})


def _fake_generator(kube: Cluster, name: str, klass: str) -> None:
    kube.custom.create_namespaced_custom_object(
        "generators.external-secrets.io",
        "v1alpha1",
        kube.namespace,
        "fakes",
        {
            "apiVersion": "generators.external-secrets.io/v1alpha1",
            "kind": "Fake",
            "metadata": {"name": name},
            "spec": {"controller": klass, "data": {"k": "v"}},
        },
    )


def _generated(name: str, generator: str) -> dict[str, Any]:
    """An ExternalSecret reading only from a Fake generator (no store at all)."""
    ref = {
        "apiVersion": "generators.external-secrets.io/v1alpha1",
        "kind": "Fake",
        "name": generator,
    }
    return {
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": {"refreshInterval": "1h", "dataFrom": [{"sourceRef": {"generatorRef": ref}}]},
    }


def _set_class(kube: Cluster, store: str, klass: str) -> None:
    kube.custom.patch_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        kube.namespace,
        "secretstores",
        store,
        {"spec": {"controller": klass}},
    )


def test_another_class_is_never_touched_and_a_handed_over_store_syncs_at_once(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = unique("classes")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": "one"})
    _store(kube, testbed, "theirs", "eso")
    _store(kube, testbed, "everyones", None)
    _store(kube, testbed, "mine", OURS)
    # Another operator's store with a provider secretsync does not implement: not even its
    # Unsupported verdict may be written, it is not ours.
    _store(kube, testbed, "azure", "eso", azurekv={"vaultUrl": "https://example.vault.azure.net"})
    kube.apply("externalsecrets", external_secret("away", key, store="theirs"))
    kube.apply("externalsecrets", external_secret("shared", key, store="everyones"))
    kube.apply("externalsecrets", external_secret("home", key, store="mine"))
    kube.apply("externalsecrets", external_secret("azure", key, store="azure"))
    # One store of another class among several makes the whole ExternalSecret someone else's.
    mixed = external_secret("mixed", key, store="mine")
    mixed["spec"]["data"] = [
        {
            "secretKey": "x",
            "remoteRef": {"key": key, "property": "password"},
            "sourceRef": {"storeRef": {"name": "theirs"}},
        }
    ]
    kube.apply("externalsecrets", mixed)
    # A generator has a class of its own in ESO (Fake, VaultDynamicSecret, ...): it decides too.
    _fake_generator(kube, "theirs", "eso")
    _fake_generator(kube, "mine", OURS)
    kube.apply("externalsecrets", _generated("generated-away", "theirs"))
    kube.apply("externalsecrets", _generated("generated-home", "mine"))
    operator = start_operator("--controller-class", OURS)

    condition(kube, "home", "True", "SecretSynced")
    condition(kube, "shared", "True", "SecretSynced")  # an empty class is every operator's
    eventually(lambda: store_ready(kube, "secretstores", "mine"), what="our store validated")
    # Ours, so secretsync answers it (generators are not implemented: Unsupported).
    eventually(lambda: kube.ready("generated-home"), what="our generator's ExternalSecret")
    time.sleep(3)  # the operator had every chance to write on the others
    for name in ("away", "azure", "mixed", "generated-away"):
        assert "status" not in kube.es(name) or not kube.es(name)["status"], name
        assert kube.events(name) == [], name
        assert kube.secret(f"{name}-secret") is None and kube.secret(name) is None, name
    for store in ("theirs", "azure"):
        assert store_ready(kube, "secretstores", store) is None, store
    metrics = operator.metrics().splitlines()
    assert not [line for line in metrics if kube.namespace in line and "away" in line]

    started = time.monotonic()
    _set_class(kube, "theirs", OURS)
    condition(kube, "away", "True", "SecretSynced", timeout=15)
    condition(kube, "mixed", "True", "SecretSynced", timeout=15)
    handed_over = time.monotonic() - started
    assert kube.data("away-secret") == {"password": b"one"}
    assert SECRETSYNC in managers(kube.es("away"), "status")
    print(f"store handed over to secretsync: its ExternalSecrets synced in {handed_over:.1f}s")

    # Handed back: we stop. A changed value and a forced refresh no longer reach the Secret.
    _set_class(kube, "theirs", "eso")
    time.sleep(2)
    before = kube.es("away")["status"]
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": "two"})
    kube.patch_es("away", {"metadata": {"annotations": {"force-sync": str(time.time())}}})
    condition(kube, "home", "True", "SecretSynced")
    kube.patch_es("home", {"metadata": {"annotations": {"force-sync": str(time.time())}}})
    eventually(lambda: kube.data("home-secret") == {"password": b"two"}, what="ours refreshed")
    assert kube.es("away")["status"] == before
    assert kube.data("away-secret") == {"password": b"one"}
