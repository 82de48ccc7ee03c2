"""Controller classes with ESO's semantics: an empty store class is everyone's, any store of
another class makes the whole ExternalSecret someone else's, a missing store does not decide."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.reconcile import classes


def _store(controller: Any = None, provider: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"provider": provider or {"vault": {}}}
    if controller is not None:
        spec["controller"] = controller
    return {"kind": "SecretStore", "metadata": {"name": "s", "namespace": "ns"}, "spec": spec}


@pytest.mark.parametrize(
    ("klass", "ours", "processed"),
    [
        ("", "default", True),  # ESO: an empty class is processed by every controller
        ("", "secretsync", True),
        ("default", "default", True),
        ("default", "secretsync", False),
        ("secretsync", "secretsync", True),
        ("Secretsync", "secretsync", False),  # compared as written, like Go's ==
    ],
)
def test_should_process_store(klass: str, ours: str, processed: bool) -> None:
    assert classes.processes(klass, ours) is processed


def test_the_class_is_read_from_the_raw_store_even_when_it_cannot_be_parsed() -> None:
    assert classes.store_class(_store("eso", provider={"azurekv": {"x": 1}})) == "eso"
    assert classes.store_class(_store()) == ""
    assert classes.store_class({"spec": None}) == ""
    assert classes.store_class(_store(controller=7)) == ""


def _es(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "e", "namespace": "team"}, "spec": spec}


def test_every_store_an_external_secret_names_counts_in_esos_order() -> None:
    raw = _es(
        secretStoreRef={"name": "main"},
        data=[
            {"secretKey": "a", "remoteRef": {"key": "k"}},
            {
                "secretKey": "b",
                "sourceRef": {"storeRef": {"name": "shared", "kind": "ClusterSecretStore"}},
            },
            {"secretKey": "c", "sourceRef": {"storeRef": {"name": "main"}}},
        ],
        dataFrom=[
            {
                "extract": {"key": "k"},
                "sourceRef": {"storeRef": {"name": "other", "kind": "SecretStore"}},
            },
            {"sourceRef": {"generatorRef": {"kind": "Password", "name": "pw"}}},
        ],
    )
    assert classes.store_refs(raw) == [
        ("SecretStore", "team", "main"),
        ("ClusterSecretStore", None, "shared"),
        ("SecretStore", "team", "other"),
    ]
    assert classes.store_refs(_es(secretStoreRef={"kind": "SecretStore"})) == []


def test_one_store_of_another_class_makes_the_external_secret_someone_elses() -> None:
    refs = [("SecretStore", "team", "main"), ("ClusterSecretStore", None, "shared")]
    found = {refs[0]: "", refs[1]: "eso"}
    assert not classes.reconciles(refs, found.get, "secretsync")
    assert classes.reconciles(refs, found.get, "eso")
    found[refs[1]] = "secretsync"
    assert classes.reconciles(refs, found.get, "secretsync")
    assert not classes.reconciles(refs, found.get, "default")


def test_a_missing_store_does_not_decide() -> None:
    refs = [("SecretStore", "team", "gone")]
    assert classes.reconciles(refs, lambda _ref: None, "secretsync")
    assert classes.reconciles([], lambda _ref: "eso", "secretsync")


def test_a_cluster_external_secret_is_judged_by_the_cluster_stores_it_names() -> None:
    raw = {
        "metadata": {"name": "ces"},
        "spec": {
            "externalSecretSpec": {
                "secretStoreRef": {"name": "per-namespace"},
                "dataFrom": [
                    {
                        "extract": {"key": "k"},
                        "sourceRef": {"storeRef": {"name": "shared", "kind": "ClusterSecretStore"}},
                    }
                ],
            }
        },
    }
    assert classes.cluster_store_refs(raw) == [("ClusterSecretStore", None, "shared")]


@pytest.mark.parametrize(
    ("old", "new", "moved"),
    [
        (None, "", False),  # first sight: synced as usual, not a hand-over
        ("eso", "secretsync", True),
        ("eso", "", True),
        ("", "secretsync", False),  # was everyone's already
        ("secretsync", "eso", False),
        ("eso", "other", False),
    ],
)
def test_a_store_moving_into_our_class(old: str | None, new: str, moved: bool) -> None:
    before = None if old is None else _store(old)
    assert classes.moved_in(before, _store(new), "secretsync") is moved


def test_the_refusal_names_the_field_and_the_flag() -> None:
    message = classes.foreign_store_message("SecretStore", "vault", "eso", "secretsync")
    assert "spec.controller" in message
    assert "--controller-class" in message
    assert "'eso'" in message


def test_generators_that_can_carry_a_class_are_named_from_data_from_only() -> None:
    def ref(kind: str, name: str, api: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": kind, "name": name}
        if api is not None:
            found["apiVersion"] = api
        return {"sourceRef": {"generatorRef": found}}

    raw = _es(
        data=[{"secretKey": "a", "sourceRef": {"generatorRef": {"kind": "Fake", "name": "d"}}}],
        dataFrom=[
            ref("Fake", "f"),
            ref("VaultDynamicSecret", "v", "generators.external-secrets.io/v1alpha1"),
            ref("ClusterGenerator", "c"),
            ref("Password", "p"),  # no class field: everyone's, never read
            ref("Fake", "elsewhere", "example.com/v1"),  # ESO cannot read it: does not decide
            ref("Fake", "f"),
            {"sourceRef": {"generatorRef": {"kind": {"odd": 1}, "name": "x"}}},
        ],
    )
    api = "generators.external-secrets.io/v1alpha1"
    assert classes.generator_refs(raw) == [
        (api, "Fake", "team", "f"),
        (api, "VaultDynamicSecret", "team", "v"),
        (api, "ClusterGenerator", None, "c"),
    ]


def test_a_generator_class_and_a_cluster_generators_wrapped_one() -> None:
    assert classes.generator_class({"kind": "Fake", "spec": {"controller": "eso"}}) == "eso"
    assert classes.generator_class({"kind": "Fake", "spec": {}}) == ""
    wrapped = {
        "kind": "ClusterGenerator",
        "spec": {"kind": "Fake", "generator": {"fakeSpec": {"controller": "eso"}}},
    }
    assert classes.generator_class(wrapped) == "eso"
    assert classes.generator_class({"kind": "ClusterGenerator", "spec": {"generator": {}}}) == ""
    keys = [("generators.external-secrets.io/v1alpha1", "Fake", "team", "f")]
    assert not classes.reconciles(keys, lambda _ref: "eso", "secretsync")
    assert classes.reconciles(keys, lambda _ref: None, "secretsync")
