"""Events are best effort: one that the apiserver refuses never fails the sync it reports."""

from __future__ import annotations

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
