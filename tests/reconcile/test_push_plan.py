"""PushSecret decisions (reconcile/push_plan.py), pure: entries, the managed-by rule,
IfNotExists, what a spec change leaves to delete, and the status patch."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secretsync.api.parsing import parse
from secretsync.api.push import PushSecretSpec, UpdatePolicy
from secretsync.errors import ConfigError, NotFound
from secretsync.providers.base import PushRef, RemoteState
from secretsync.reconcile import push_plan as plan

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
VALUE = b"s3cret-Push-9q"


def _spec(**extra: Any) -> PushSecretSpec:
    raw = {
        "secretStoreRefs": [{"name": "vault", "kind": "SecretStore"}],
        "selector": {"secret": {"name": "src"}},
        "data": [
            {"match": {"secretKey": "pw", "remoteRef": {"remoteKey": "app", "property": "p"}}}
        ],
        **extra,
    }
    return parse(PushSecretSpec, raw, "spec")


def test_an_entry_carries_the_key_and_a_missing_key_names_the_field_not_a_value() -> None:
    (entry,) = plan.entries(_spec(), {"pw": VALUE})
    assert (entry.ref, entry.value, entry.status_key) == (PushRef("app", "p"), VALUE, "app/p")
    with pytest.raises(ConfigError) as missing:
        plan.entries(_spec(), {"other": VALUE})
    assert "spec.data[0].match.secretKey" in str(missing.value)
    assert VALUE.decode() not in str(missing.value)


def test_without_a_secret_key_the_whole_secret_is_one_json_object() -> None:
    data = [{"match": {"remoteRef": {"remoteKey": "all"}}}]
    (entry,) = plan.entries(_spec(data=data), {"b": b"2", "a": b"1"})
    assert entry.value == b'{"a":"1","b":"2"}'


@pytest.mark.parametrize(
    ("remote", "policy", "action"),
    [
        (RemoteState(False, False, False), UpdatePolicy.REPLACE, plan.Action.WRITE),
        (RemoteState(True, True, True), UpdatePolicy.REPLACE, plan.Action.WRITE),
        (RemoteState(True, False, True), UpdatePolicy.REPLACE, plan.Action.REFUSE),
        (RemoteState(True, False, False), UpdatePolicy.REPLACE, plan.Action.REFUSE),
        (RemoteState(True, True, True), UpdatePolicy.IF_NOT_EXISTS, plan.Action.KEEP),
        (RemoteState(True, False, True), UpdatePolicy.IF_NOT_EXISTS, plan.Action.KEEP),
        (RemoteState(True, True, False), UpdatePolicy.IF_NOT_EXISTS, plan.Action.WRITE),
    ],
)
def test_only_a_marked_or_absent_remote_value_is_written(
    remote: RemoteState, policy: UpdatePolicy, action: plan.Action
) -> None:
    assert plan.decide(remote, policy) is action


def test_what_is_no_longer_pushed_is_deleted_and_nulled_in_the_status() -> None:
    (entry,) = plan.entries(_spec(), {"pw": VALUE})
    old = {
        "SecretStore/vault": {
            "app/p": plan.synced_entry(entry),
            "gone": {"match": {"remoteRef": {"remoteKey": "gone"}}},
        },
        "SecretStore/old": {"x": {"match": {"remoteRef": {"remoteKey": "x", "property": "y"}}}},
    }
    new = {"SecretStore/vault": {"app/p": plan.synced_entry(entry)}}

    assert plan.obsolete(old, new) == [
        ("SecretStore/old", PushRef("x", "y")),
        ("SecretStore/vault", PushRef("gone")),
    ]
    status = plan.new_status(
        {"syncedPushSecrets": old},
        ready=True,
        reason="Synced",
        message="ok",
        synced=new,
        now=NOW,
        resource_version="3",
    )
    assert status["syncedPushSecrets"] == {
        "SecretStore/vault": {"app/p": plan.synced_entry(entry), "gone": None},
        "SecretStore/old": None,
    }
    assert (status["syncedResourceVersion"], status["refreshTime"]) == ("3", "2026-01-01T00:00:00Z")
    assert VALUE.decode() not in str(status)


def test_a_push_is_due_on_a_spec_change_and_after_the_interval() -> None:
    spec = _spec(refreshInterval="10m")
    done = {"syncedResourceVersion": "2", "refreshTime": "2026-01-01T00:00:00Z"}
    assert plan.due(spec, done, "3", NOW) == 0.0
    assert plan.due(spec, done, "2", NOW + datetime.timedelta(minutes=4)) == 360.0
    assert plan.due(_spec(refreshInterval="0"), done, "2", NOW) is None


def test_what_is_left_behind_names_each_store_and_ref() -> None:
    left: plan.Left = [
        ("SecretStore/a", PushRef("app", "p"), NotFound("SecretStore ns/a does not exist")),
        ("SecretStore/a", PushRef("db"), NotFound("SecretStore ns/a does not exist")),
        ("ClusterSecretStore/b", PushRef("x"), NotFound("gone")),
    ]
    message = plan.left_behind_message(left)
    assert "SecretStore/a: app/p, db; ClusterSecretStore/b: x" in message
    assert "SecretStore ns/a does not exist" in message
    assert plan.deletes_raw({"deletionPolicy": "Delete"})
    assert not plan.deletes_raw({"deletionPolicy": "None"}) and not plan.deletes_raw(None)
