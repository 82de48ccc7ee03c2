"""Events are best effort: one that the apiserver refuses never fails the sync it reports."""

from __future__ import annotations

import datetime
import logging
import uuid

import pytest
from kubernetes import client

from secretsync.kube.events import EventRecorder


def test_an_event_the_apiserver_refuses_is_logged_not_raised(
    kube_api: client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    gone = f"gone-{uuid.uuid4().hex[:8]}"  # no such namespace: the create is refused (404)
    involved = {
        "apiVersion": "external-secrets.io/v1",
        "metadata": {"name": "db", "namespace": gone, "uid": str(uuid.uuid4())},
    }
    with caplog.at_level(logging.WARNING, logger="secretsync.kube.events"):
        EventRecorder(kube_api).record(
            involved, "ExternalSecret", "UpdateFailed", "x", warning=True
        )
    (record,) = [r for r in caplog.records if r.getMessage() == "event not posted"]
    assert record.__dict__["object"] == f"{gone}/db"
    assert record.__dict__["reason"] == "UpdateFailed: NotFound"


class _Clock:
    """Seconds pass when the test says so: timestamps differ without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 12, 6, 8, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        self.now += datetime.timedelta(seconds=7)
        return self.now


def _events_about(core: client.CoreV1Api, namespace: str, uid: str) -> list[client.CoreV1Event]:
    found = core.list_namespaced_event(namespace, field_selector=f"involvedObject.uid={uid}")
    return list(found.items)


def test_repeats_keep_one_event_up_to_date_across_restarts_and_expiry(
    kube_api: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(kube_api)
    uid = str(uuid.uuid4())
    involved = {
        "apiVersion": "external-secrets.io/v1",
        "metadata": {"name": "db", "namespace": namespace, "uid": uid, "resourceVersion": "1"},
    }
    clock = _Clock()
    failing = "reading secret/db: connection refused"
    recorder = EventRecorder(kube_api, clock=clock)
    for _ in range(5):
        recorder.record(involved, "ExternalSecret", "UpdateFailed", failing, warning=True)
    (event,) = _events_about(core, namespace, uid)
    assert (event.count, event.reason, event.type, event.message) == (
        5,
        "UpdateFailed",
        "Warning",
        failing,
    )
    assert event.last_timestamp is not None and event.first_timestamp is not None
    assert event.last_timestamp - event.first_timestamp == datetime.timedelta(seconds=28)
    first = event.first_timestamp
    # Who it is about and who says so, as `kubectl describe` and event consumers read them.
    reference = event.involved_object
    assert (
        reference.api_version,
        reference.kind,
        reference.name,
        reference.namespace,
        reference.uid,
        reference.resource_version,
    ) == ("external-secrets.io/v1", "ExternalSecret", "db", namespace, uid, "1")
    assert event.source is not None and event.source.component == "secretsync"
    assert event.reporting_component == "secretsync"

    # A restarted operator (nothing in memory) finds the same object and goes on counting.
    EventRecorder(kube_api, clock=clock).record(
        involved, "ExternalSecret", "UpdateFailed", failing, warning=True
    )
    (event,) = _events_about(core, namespace, uid)
    assert (event.count, event.first_timestamp) == (6, first)
    assert event.last_timestamp == clock.now.replace(microsecond=0)

    # The apiserver expired it (its event TTL): the next repeat creates it again.
    core.delete_namespaced_event(str(event.metadata.name), namespace)
    recorder.record(involved, "ExternalSecret", "UpdateFailed", failing, warning=True)
    (event,) = _events_about(core, namespace, uid)
    assert event.count == 6, "the recorder's count: every repeat it saw"

    recorder.record(involved, "ExternalSecret", "UpdateFailed", "permission denied", warning=True)
    recorder.record(involved, "ExternalSecret", "Updated", "Secret was updated")
    assert sorted((e.reason, e.message, e.count) for e in _events_about(core, namespace, uid)) == [
        ("UpdateFailed", "permission denied", 1),
        ("UpdateFailed", failing, 6),
        ("Updated", "Secret was updated", 1),
    ]
