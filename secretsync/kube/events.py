"""Kubernetes Events about our objects. Messages must be redacted before they get here."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from secretsync.errors import SecretSyncError
from secretsync.kube.client import mapped

COMPONENT = "secretsync"
log = logging.getLogger(__name__)


class EventRecorder:
    def __init__(self, api: client.ApiClient) -> None:
        self._core = client.CoreV1Api(api)

    def record(
        self,
        involved: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None:
        meta = involved.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        now = datetime.datetime.now(datetime.UTC)
        event = client.CoreV1Event(
            metadata=client.V1ObjectMeta(
                name=f"{meta.get('name')}.{uuid.uuid4().hex[:12]}", namespace=namespace
            ),
            involved_object=client.V1ObjectReference(
                api_version=involved.get("apiVersion"),
                kind=kind,
                name=meta.get("name"),
                namespace=meta.get("namespace"),
                uid=meta.get("uid"),
                resource_version=meta.get("resourceVersion"),
            ),
            reason=reason,
            message=message[:1024],
            type="Warning" if warning else "Normal",
            source=client.V1EventSource(component=COMPONENT),
            reporting_component=COMPONENT,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        try:
            with mapped(f"posting event {reason}"):
                self._core.create_namespaced_event(namespace, event, _preload_content=False)
        except SecretSyncError as exc:
            # Best effort, as client-go's recorder: an Event that cannot be posted (a namespace
            # being deleted, a full quota, an apiserver blip) must not fail the sync it reports.
            log.warning(
                "event not posted",
                extra={
                    "object": f"{namespace}/{meta.get('name')}",
                    "reason": f"{reason}: {type(exc).__name__}",
                },
            )
