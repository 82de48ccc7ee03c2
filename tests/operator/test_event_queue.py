"""The operator posts Events from one thread, off the sync path: in order, deduplicated as
before, bounded, and drained on shutdown."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from secretsync.kube.event_queue import QueuedEventRecorder


def _involved(namespace: str) -> dict[str, object]:
    meta = {"name": "db", "namespace": namespace, "uid": str(uuid.uuid4()), "resourceVersion": "1"}
    return {"apiVersion": "external-secrets.io/v1", "metadata": meta}


def test_queued_events_are_posted_in_order_and_drained_by_close(
    kube_api: client.ApiClient, namespace: str
) -> None:
    recorder = QueuedEventRecorder(kube_api)
    involved = _involved(namespace)
    uid = involved["metadata"]["uid"]  # type: ignore[index]
    for reason in ("Created", "Updated", "Updated", "Deleted"):
        recorder.record(involved, "ExternalSecret", reason, f"secret {reason.lower()}")
    involved["metadata"]["resourceVersion"] = "2"  # type: ignore[index]  # the caller goes on
    recorder.close()

    found = client.CoreV1Api(kube_api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.uid={uid}"
    )
    counts = {e.reason: e.count for e in found.items}
    assert counts == {"Created": 1, "Updated": 2, "Deleted": 1}
    assert {e.involved_object.resource_version for e in found.items} == {"1"}


@pytest.fixture
def stalled() -> Iterator[socket.socket]:
    """An apiserver address that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener
    listener.close()


def test_a_stalled_apiserver_drops_events_and_says_so_once(
    stalled: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    host = f"http://127.0.0.1:{stalled.getsockname()[1]}"
    api = client.ApiClient(client.Configuration(host=host))
    recorder = QueuedEventRecorder(api, capacity=3)
    involved = _involved("default")

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="secretsync.kube.event_queue"):
        for i in range(20):
            recorder.record(involved, "ExternalSecret", "Updated", f"update {i}")
    recorded = time.monotonic() - started
    started = time.monotonic()
    recorder.close(timeout=0.5)
    closed = time.monotonic() - started

    assert recorded < 2, "record never waits for the apiserver"
    assert closed < 2, "close gives up after its timeout"
    said = [r for r in caplog.records if r.getMessage() == "events dropped"]
    assert len(said) == 1, "a drop streak is said once"
    assert "3 Events are waiting" in said[0].__dict__["reason"]
    stalled.close()  # the apiserver is back (refusing): what is queued fails fast and is logged
    recorder.close(timeout=10)  # so that none of it is logged during another test
