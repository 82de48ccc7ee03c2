"""Stores through the real operator: a SecretStore serves only its own namespace, a
ClusterSecretStore honours its conditions, Kubernetes-auth tokens are minted for the named
ServiceAccount in the ExternalSecret's namespace, stores get a Ready condition, Events name the
real cause, and no seeded value leaks anywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import (
    condition,
    external_secret,
    store_ready,
    unique,
    vault,
    vault_store,
    visible_text,
)
from tests.testbed import stack

Start = Callable[..., Operator]
GROUP = "external-secrets.io"


@pytest.fixture
def cluster_store_names(kube: Cluster) -> Iterator[Callable[[str], str]]:
    """Unique ClusterSecretStore names (they are shared by parallel tests), deleted after."""
    made: list[str] = []

    def name(prefix: str) -> str:
        made.append(unique(prefix))
        return made[-1]

    yield name
    for made_name in made:
        try:
            kube.custom.delete_cluster_custom_object(GROUP, "v1", "clustersecretstores", made_name)
        except client.exceptions.ApiException as exc:
            if exc.status != 404:
                raise


def _seed(testbed: stack.Testbed, **values: str) -> str:
    key = unique("stores")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret=values)
    return key


def test_a_secret_store_serves_only_its_own_namespace(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Start,
    make_namespace: Callable[..., str],
    kube_api: client.ApiClient,
) -> None:
    key = _seed(testbed, password=unique("pw"))
    vault_store(kube, testbed)
    other = Cluster(kube_api, make_namespace())
    kube.apply("externalsecrets", external_secret("home", key))
    other.apply("externalsecrets", external_secret("away", key))
    start_operator(also=(other.namespace,))

    condition(kube, "home", "True", "SecretSynced")
    failed = condition(other, "away", "False", "SecretSyncedError")
    assert "SecretStore vault" in failed["message"]
    assert other.secret("away-secret") is None
    ready = eventually(lambda: store_ready(kube, "secretstores", "vault"), what="store Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Valid")


def test_an_invalid_store_is_not_ready_and_its_users_say_why(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = _seed(testbed, password=unique("pw"))
    broken = {"vault": {"server": testbed.VAULT_ADDR, "path": "secret", "auth": {}}}
    kube.apply(
        "secretstores",
        {"kind": "SecretStore", "metadata": {"name": "broken"}, "spec": {"provider": broken}},
    )
    kube.apply("externalsecrets", external_secret("user", key, store="broken"))
    start_operator()
    ready = eventually(lambda: store_ready(kube, "secretstores", "broken"), what="store Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidProviderConfig")
    assert "spec.provider.vault.auth" in ready["message"]
    failed = condition(kube, "user", "False", "SecretSyncedError")
    assert "broken" in failed["message"] and "auth" in failed["message"]
    assert kube.secret("user-secret") is None


def test_cluster_secret_store_conditions(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Start,
    *,
    make_namespace: Callable[..., str],
    kube_api: client.ApiClient,
    cluster_store_names: Callable[[str], str],
) -> None:
    key = _seed(testbed, password=unique("pw"))
    team = unique("team")
    labelled = Cluster(kube_api, make_namespace({"team": team}))
    plain = Cluster(kube_api, make_namespace())
    stores = {
        "names": {"namespaces": [kube.namespace]},
        "selector": {"namespaceSelector": {"matchLabels": {"team": team}}},
        "regex": {"namespaceRegexes": [f"^{kube.namespace}$"]},
    }
    names = {kind: cluster_store_names(f"css-{kind}") for kind in stores}
    for kind, conditions in stores.items():
        vault_store(kube, testbed, names[kind], "ClusterSecretStore", conditions=[conditions])
    # (namespace, store) -> allowed
    cases = {
        (kube, "names"): True,
        (kube, "regex"): True,
        (kube, "selector"): False,
        (labelled, "selector"): True,
        (labelled, "names"): False,
        (plain, "regex"): False,
    }
    for (where, kind), _ in cases.items():
        where.apply(
            "externalsecrets",
            external_secret(kind, key, store=names[kind], store_kind="ClusterSecretStore"),
        )
    start_operator(also=(labelled.namespace, plain.namespace))

    for (where, kind), allowed in cases.items():
        if allowed:
            condition(where, kind, "True", "SecretSynced")
            assert where.secret(f"{kind}-secret") is not None
        else:
            refused = condition(where, kind, "False", "SecretSyncedError")
            assert (
                f"ClusterSecretStore {names[kind]} does not allow namespace" in (refused["message"])
            )
            assert where.secret(f"{kind}-secret") is None
    for name in names.values():
        ready = eventually(
            lambda n=name: store_ready(kube, "clustersecretstores", n), what="CSS Ready"
        )
        assert ready["status"] == "True"


def _service_account(kube: Cluster, name: str) -> None:
    kube.core.create_namespaced_service_account(
        kube.namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )


def test_kubernetes_auth_tokens_are_minted_for_the_account_in_the_es_namespace(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Start,
    *,
    make_namespace: Callable[..., str],
    kube_api: client.ApiClient,
    cluster_store_names: Callable[[str], str],
) -> None:
    password = unique("pw")
    key = _seed(testbed, password=password)
    bao = vault(testbed)
    policy = unique("read")
    bao.sys.create_or_update_policy(policy, 'path "secret/*" { capabilities = ["read"] }')
    role, audience = unique("role"), unique("bao")
    bao.auth.kubernetes.create_role(
        role,
        bound_service_account_names=["app"],
        bound_service_account_namespaces=[kube.namespace],
        policies=[policy],
        ttl="10m",
        audience=audience,
    )
    other = Cluster(kube_api, make_namespace())
    for where in (kube, other):
        _service_account(where, "app")
    auth = {
        "kubernetes": {"role": role, "serviceAccountRef": {"name": "app", "audiences": [audience]}}
    }
    provider = {
        "vault": {"server": testbed.VAULT_ADDR, "path": "secret", "version": "v2", "auth": auth}
    }
    kube.apply(
        "secretstores",
        {"kind": "SecretStore", "metadata": {"name": "k8s"}, "spec": {"provider": provider}},
    )
    css = cluster_store_names("css-k8s")
    kube.apply(
        "clustersecretstores",
        {"kind": "ClusterSecretStore", "metadata": {"name": css}, "spec": {"provider": provider}},
    )
    kube.apply("externalsecrets", external_secret("own", key, store="k8s"))
    kube.apply(
        "externalsecrets", external_secret("here", key, store=css, store_kind="ClusterSecretStore")
    )
    # The role is bound to app in the test's namespace only: the token minted for app in the
    # other namespace (the referent namespace of a ClusterSecretStore) must be refused.
    other.apply(
        "externalsecrets", external_secret("there", key, store=css, store_kind="ClusterSecretStore")
    )
    start_operator(also=(other.namespace,))

    for name in ("own", "here"):
        assert eventually(lambda n=name: kube.data(f"{n}-secret")) == {
            "password": password.encode()
        }
    denied = condition(other, "there", "False", "SecretSyncedError")
    assert other.secret("there-secret") is None
    assert password not in str(denied)


def test_events_name_the_real_cause_and_no_value_leaks(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    seeds = {name: unique(f"seed-{name}") for name in ("a", "b", "c", "d")}
    key = _seed(testbed, password=seeds["a"], json=seeds["b"], raw=seeds["c"])
    frozen = _seed(testbed, password=seeds["d"])
    vault_store(kube, testbed)
    missing = unique("missing")
    broken: dict[str, dict[str, Any]] = {
        # Retain (the default) turns a missing remote key into an error.
        "gone": external_secret("gone", missing, properties=("password",)),
        "no-property": external_secret("no-property", key, properties=("nope",)),
        "not-base64": {
            **external_secret("not-base64", key),
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "data": [
                    {
                        "secretKey": "x",
                        "remoteRef": {"key": key, "property": "raw", "decodingStrategy": "Base64"},
                    }
                ],
            },
        },
        "bad-template": external_secret(
            "bad-template",
            key,
            target={"template": {"data": {"x": "{{ .json | fail }}"}}},
        ),
        "frozen": external_secret(
            "frozen", frozen, target={"immutable": True}, refreshInterval="1s"
        ),
    }
    for body in broken.values():
        kube.apply("externalsecrets", body)
    operator = start_operator("--log-level", "DEBUG")

    for name in ("gone", "no-property", "not-base64", "bad-template"):
        condition(kube, name, "False", "SecretSyncedError")
    eventually(lambda: kube.data("frozen-secret"), what="the immutable Secret")
    vault(testbed).secrets.kv.v2.create_or_update_secret(frozen, secret={"password": "other"})
    condition(kube, "frozen", "False", "SecretSyncedError")

    event, *_ = eventually(
        lambda: [e for e in kube.events("gone") if e.reason == "UpdateFailed"], what="the Event"
    )
    assert event.type == "Warning"
    assert missing in event.message, "the remote key is named"
    assert "vault" in event.message, "the store is named"
    assert "spec.data[0]" in event.message
    failed = eventually(lambda: [e.message for e in kube.events("bad-template")])
    assert any("fail" in m for m in failed), "the template error is reported, value redacted"
    no_property = eventually(lambda: [e.message for e in kube.events("no-property")])
    assert any("nope" in m and key in m for m in no_property)

    texts = [operator.logs(), *visible_text(kube, *broken)]
    for text in texts:
        for seed in seeds.values():
            assert seed not in text
        assert testbed.VAULT_TOKEN not in text


def test_a_store_is_ready_only_when_its_connection_validates(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    kube.put_secret("bad-token", {"token": "not-a-real-token"})
    kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
    stores = {
        "good": (testbed.VAULT_ADDR, "vault-token"),
        "wrong-token": (testbed.VAULT_ADDR, "bad-token"),
        "no-server": ("http://127.0.0.1:9", "vault-token"),
    }
    for name, (server, secret) in stores.items():
        kube.apply(
            "secretstores",
            {
                "kind": "SecretStore",
                "metadata": {"name": name},
                "spec": {
                    "provider": {
                        "vault": {
                            "server": server,
                            "path": "secret",
                            "auth": {"tokenSecretRef": {"name": secret, "key": "token"}},
                        }
                    }
                },
            },
        )
    start_operator()
    good = eventually(lambda: store_ready(kube, "secretstores", "good"), what="good Ready")
    assert (good["status"], good["reason"]) == ("True", "Valid")
    for name in ("wrong-token", "no-server"):
        ready = eventually(lambda n=name: store_ready(kube, "secretstores", n), what=name)
        assert (ready["status"], ready["reason"]) == ("False", "ValidationFailed"), name
        assert "not-a-real-token" not in ready["message"]
