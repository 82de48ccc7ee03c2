"""Managed Secrets and ConfigMaps that someone else edited or deleted: their ExternalSecret
is queued to put them back (ESO's informers do the same)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from secretsync.operator.state import Key, State
from secretsync.operator.telemetry import Metrics
from secretsync.reconcile import writes
from secretsync.reconcile.queue import WorkQueue
from secretsync.resolve import manifest
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, data_hash

log = logging.getLogger(__name__)


class Drift:
    def __init__(self, state: State, queue: WorkQueue, metrics: Metrics) -> None:
        self.state, self.queue, self.metrics = state, queue, metrics

    def on_secret(self, event_type: str, raw: Mapping[str, Any]) -> None:
        """A managed Secret was edited or deleted by someone else: put it back."""
        owner = self._owner(raw)
        if owner is not None and (
            event_type == "DELETED" or _hash(raw) != data_hash(writes.decode_data(raw))
        ):
            self._restore(owner, "managed secret drifted; restoring", event_type)

    def on_config_map(self, event_type: str, raw: Mapping[str, Any]) -> None:
        """A ConfigMap a target.manifest wrote was edited or deleted: put it back (ESO watches
        its generic targets too). Custom resource targets are checked at their next refresh."""
        owner = self._owner(raw)
        if owner is not None and (
            event_type == "DELETED" or _hash(raw) != manifest.content_hash(raw)
        ):
            self._restore(owner, "managed config map drifted; restoring", event_type)

    def _owner(self, raw: Mapping[str, Any]) -> Key | None:
        meta = raw.get("metadata") or {}
        return self.state.owner_of(str(meta.get("namespace")), str(meta.get("name")))

    def _restore(self, owner: Key, message: str, event_type: str) -> None:
        self.metrics.drift.inc(owner[0])
        log.info(
            message,
            extra={"object": f"{owner[0]}/{owner[1]}", "reason": event_type.lower()},
        )
        self.queue.add(owner)


def _hash(raw: Mapping[str, Any]) -> str | None:
    """The data-hash annotation we wrote on it."""
    found = ((raw.get("metadata") or {}).get("annotations") or {}).get(DATA_HASH_ANNOTATION)
    return None if found is None else str(found)
