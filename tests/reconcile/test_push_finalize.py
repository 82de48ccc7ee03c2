"""A deleted PushSecret with deletionPolicy Delete (reconcile/push.py's finalizer) never hangs:
an unreachable store is retried until finalizing.give_up says stop, then the finalizer goes with
one Warning naming what is left in which store; a store that is gone stops at once; a spec that
no longer parses still lets go. The clock is given, so nothing here waits."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, cast

from secretsync.api.sources import StoreKind
from secretsync.errors import NotFound, Unavailable
from secretsync.reconcile import finalizing
from secretsync.reconcile.push import FINALIZER, LEFT_BEHIND, RETRY_SECONDS, Pusher

DELETED_AT = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


class Recorder:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.removed: list[str] = []
        self.events: list[tuple[str, str, bool]] = []
        self.statuses: list[Mapping[str, Any]] = []

    # StoreLookup
    def store(self, kind: StoreKind, namespace: str, name: str) -> Any:
        raise self.error

    # Finalizers
    def add(self, namespace: str, name: str, finalizer: str) -> None:
        raise AssertionError("a deleted PushSecret gets no finalizer")

    def remove(self, namespace: str, name: str, finalizer: str) -> None:
        self.removed.append(finalizer)

    # Events, StatusWriter
    def record(self, raw: Any, kind: str, reason: str, message: str, warning: bool = False) -> None:
        self.events.append((reason, message, warning))

    def patch_status(self, plural: str, namespace: str, name: str, body: Any, **_: Any) -> None:
        self.statuses.append(body)


def _pusher(recorder: Recorder, minutes: float) -> Pusher:
    fake = cast(Any, recorder)
    now = DELETED_AT + datetime.timedelta(minutes=minutes)
    return Pusher(fake, fake, fake, fake, fake, fake, clock=lambda: now)


def _deleted(spec: dict[str, Any] | None = None) -> dict[str, Any]:
    synced = {"match": {"secretKey": "pw", "remoteRef": {"remoteKey": "app", "property": "p"}}}
    return {
        "kind": "PushSecret",
        "metadata": {
            "name": "ps",
            "namespace": "ns",
            "finalizers": [FINALIZER],
            "deletionTimestamp": DELETED_AT.isoformat().replace("+00:00", "Z"),
        },
        "spec": spec or {"deletionPolicy": "Delete", "secretStoreRefs": [{"name": "vault"}]},
        "status": {"syncedPushSecrets": {"SecretStore/vault": {"app/p": synced}}},
    }


def test_an_unreachable_store_is_retried_then_let_go_with_what_is_left_named() -> None:
    recorder = Recorder(Unavailable("vault: connection refused"))
    assert _pusher(recorder, 1).run(_deleted()) == RETRY_SECONDS
    assert recorder.removed == []
    (status,) = recorder.statuses
    assert "Failed to Delete Secrets from Provider" in status["conditions"][0]["message"]

    late = finalizing.GIVE_UP_AFTER_SECONDS / 60
    recorder.statuses.clear()
    assert _pusher(recorder, late).run(_deleted()) is None
    assert recorder.removed == [FINALIZER]
    reason, message, warning = recorder.events[-1]
    assert (reason, warning) == (LEFT_BEHIND, True)
    assert "SecretStore/vault: app/p" in message and "connection refused" in message


def test_a_store_that_is_gone_lets_go_at_once() -> None:
    recorder = Recorder(NotFound("SecretStore ns/vault does not exist"))
    assert _pusher(recorder, 0).run(_deleted()) is None
    assert recorder.removed == [FINALIZER]
    assert [e[0] for e in recorder.events] == [LEFT_BEHIND]


def test_a_spec_that_no_longer_parses_still_lets_go() -> None:
    recorder = Recorder(NotFound("SecretStore ns/vault does not exist"))
    broken = {"deletionPolicy": "Delete", "secretStoreRefs": [], "selector": {}}
    assert _pusher(recorder, 0).run(_deleted(broken)) is None
    assert recorder.removed == [FINALIZER]
    none = Recorder(NotFound("never asked"))
    assert _pusher(none, 0).run(_deleted({"deletionPolicy": "None"})) is None
    assert none.removed == [FINALIZER] and none.events == []
