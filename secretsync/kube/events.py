"""Kubernetes Events about our objects, aggregated as client-go's recorder does: one Event object
per (object, type, reason, message), its count and lastTimestamp patched on each repeat.
Messages must be redacted before they get here. The requests go out raw (kube.client.request):
the generated client's per-call work, and building the Event as its model, cost more CPU than
the request.

The Event's name is derived from what it deduplicates on (event_cache.event_name), so after a
restart, or on a new leader, the first repeat's create answers 409 and the recorder adopts the
object it finds: one GET, then the count goes on from where it was. An Event the apiserver has
since expired (its --event-ttl, an hour by default) is created again under the same name.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client

from secretsync.errors import Conflict, NotFound, SecretSyncError
from secretsync.kube.client import MERGE_PATCH, request, request_json, resource_path
from secretsync.kube.event_cache import Correlator, Occurrence, Write

COMPONENT = "secretsync"
MESSAGE_MAX = 1024
log = logging.getLogger(__name__)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _time(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    def __init__(
        self,
        api: client.ApiClient,
        *,
        correlator: Correlator | None = None,
        clock: Callable[[], datetime.datetime] = _now,
    ) -> None:
        self._api = api
        self._correlator = correlator or Correlator()
        self._clock = clock

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
        occurrence = Occurrence(
            namespace=meta.get("namespace") or "default",
            kind=kind,
            name=str(meta.get("name") or ""),
            uid=str(meta.get("uid") or ""),
            api_version=str(involved.get("apiVersion") or ""),
            type="Warning" if warning else "Normal",
            reason=reason,
            message=message[:MESSAGE_MAX],
        )
        write = self._correlator.observe(occurrence, self._clock())
        if write is None:
            return  # the spam filter holds it; the count goes out with the next write
        try:
            self._write(involved, occurrence, write)
        except SecretSyncError as exc:
            # Best effort, as client-go's recorder: an Event that cannot be posted (a namespace
            # being deleted, a full quota, an apiserver blip) must not fail the sync it reports.
            log.warning(
                "event not posted",
                extra={
                    "object": f"{occurrence.namespace}/{occurrence.name}",
                    "reason": f"{reason}: {type(exc).__name__}",
                },
            )

    def _write(self, involved: Mapping[str, Any], occurrence: Occurrence, write: Write) -> None:
        if write.count > 1:
            try:
                self._patch(occurrence.namespace, write)
                return
            except NotFound:
                pass  # expired by the apiserver's event TTL (or deleted): create it again
        try:
            self._create(involved, occurrence, write)
        except Conflict:
            existing = self._read(occurrence.namespace, write.name)
            first = existing.get("firstTimestamp")
            adopted = self._correlator.adopt(
                write,
                int(existing.get("count") or 1) + 1,
                _parse(first) if isinstance(first, str) else write.first,
            )
            self._patch(occurrence.namespace, adopted)

    def _create(self, involved: Mapping[str, Any], occurrence: Occurrence, write: Write) -> None:
        meta = involved.get("metadata") or {}
        reference = {
            "apiVersion": involved.get("apiVersion"),
            "kind": occurrence.kind,
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": write.name, "namespace": occurrence.namespace},
            # Absent, not null, as the client's model left them.
            "involvedObject": {key: value for key, value in reference.items() if value is not None},
            "reason": occurrence.reason,
            "message": write.message,
            "type": occurrence.type,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "firstTimestamp": _time(write.first),
            "lastTimestamp": _time(write.last),
            "count": write.count,
        }
        request(
            self._api,
            "POST",
            _path(occurrence.namespace),
            what=f"posting event {occurrence.reason}",
            body=event,
        )

    def _patch(self, namespace: str, write: Write) -> None:
        body = {
            "count": write.count,
            "firstTimestamp": _time(write.first),
            "lastTimestamp": _time(write.last),
            "message": write.message,
        }
        request(
            self._api,
            "PATCH",
            _path(namespace, write.name),
            what=f"updating event {write.name}",
            body=body,
            content_type=MERGE_PATCH,
        )

    def _read(self, namespace: str, name: str) -> dict[str, Any]:
        # The object exactly as sent: no model round trip.
        return request_json(self._api, "GET", _path(namespace, name), what=f"reading event {name}")


def _path(namespace: str, name: str | None = None) -> str:
    collection = ("api", "v1", "namespaces", namespace, "events")
    return resource_path(*collection, *((name,) if name is not None else ()))


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
