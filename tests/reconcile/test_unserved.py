"""PushSecrets are not run yet: whose one is, and the status that says so (pure decisions)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secretsync.reconcile import unserved

NOW = datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC)


def _push(refs: list[dict[str, Any]], kind: str = "PushSecret") -> dict[str, Any]:
    spec: dict[str, Any] = {"secretStoreRefs": refs, "selector": {"secret": {"name": "s"}}}
    if kind == "ClusterPushSecret":
        return {"kind": kind, "metadata": {"name": "p"}, "spec": {"pushSecretSpec": spec}}
    return {"kind": kind, "metadata": {"name": "p", "namespace": "team"}, "spec": spec}


def test_a_push_secret_names_its_stores_in_its_namespace() -> None:
    raw = _push([{"name": "vault"}, {"name": "aws", "kind": "ClusterSecretStore"}])
    assert unserved.store_refs(raw) == [
        ("SecretStore", "team", "vault"),
        ("ClusterSecretStore", None, "aws"),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        _push([{"labelSelector": {"matchLabels": {"a": "b"}}}]),
        _push([]),
        _push([{"name": "vault"}], kind="ClusterPushSecret"),
    ],
    ids=["by label", "no store", "a SecretStore of each selected namespace"],
)
def test_whose_it_is_cannot_be_told_so_it_is_left_alone(raw: dict[str, Any]) -> None:
    assert unserved.store_refs(raw) is None


def test_a_cluster_push_secret_of_cluster_stores_is_judged_by_them() -> None:
    raw = _push([{"name": "aws", "kind": "ClusterSecretStore"}], kind="ClusterPushSecret")
    assert unserved.store_refs(raw) == [("ClusterSecretStore", None, "aws")]


def test_the_status_says_unsupported_once_and_keeps_other_conditions() -> None:
    message = str(unserved.unsupported("PushSecret"))
    other = {"type": "Synced", "status": "True"}
    raw = {**_push([{"name": "vault"}]), "status": {"conditions": [other]}}

    new = unserved.new_status(raw, message, NOW)

    assert new is not None
    assert new["conditions"][0] == other
    ready = new["conditions"][1]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", "Unsupported")
    assert ready["message"].startswith("kind: 'PushSecret' is not supported by secretsync")
    assert unserved.new_status({**raw, "status": new}, message, NOW) is None
