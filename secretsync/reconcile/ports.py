"""What a sync needs from the outside (the kube clients, the rollout engine, the metrics) and
what it returns: the shells in kube/, rollout/ and operator/ provide them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from secretsync.api.objects import ExternalSecret
from secretsync.kube.events import EventRecorder
from secretsync.kube.externalsecrets import StatusClient


class Secrets(Protocol):
    def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def create(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def replace(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def delete(self, namespace: str, name: str) -> None: ...


# The kube clients themselves (kube/ is below us): one signature to keep, not a Protocol
# copying it.
StatusWriter = StatusClient
"""The status subresource writer: `version` is v1alpha1 for PushSecrets."""
Events = EventRecorder
"""Kubernetes Events about our objects; messages are redacted before they get here."""


class Rollouts(Protocol):
    """The rollout engine, as the sync loop sees it (secretsync.rollout.controller)."""

    def held_hash(self, raw_es: Mapping[str, Any]) -> str | None: ...

    def conditions(self, raw_es: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The conditions the engine last wrote on this ExternalSecret (RolloutFailed), which
        the cached copy the sync loop works from may not show yet."""
        ...

    def on_data_changed(
        self,
        es: ExternalSecret,
        raw_es: Mapping[str, Any],
        previous: Mapping[str, bytes] | None,
        current: Mapping[str, bytes],
    ) -> str | None: ...

    def prepare(
        self, es: ExternalSecret, raw_es: Mapping[str, Any], previous: Mapping[str, bytes]
    ) -> None:
        """Keep the data about to be overwritten as the last good data (overlap rotation)."""
        ...

    def recover(
        self, es: ExternalSecret, raw_es: Mapping[str, Any], current: Mapping[str, bytes]
    ) -> str | None:
        """Start a rollout of the Secret's data that a killed process never recorded."""
        ...


class SyncMetrics(Protocol):
    def synced(
        self, store: tuple[str, str, str], ok: bool, reason: str, seconds: float
    ) -> None: ...
    def condition(self, namespace: str, name: str, ready: bool) -> None: ...


@dataclasses.dataclass(frozen=True)
class Result:
    next_refresh: float | None
    """Seconds until the next periodic refresh is due; None when none ever is."""

    failed: bool = False
    """Retry with backoff (the Secret was left as it was)."""
