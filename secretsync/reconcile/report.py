"""What one sync reports, for the Secret and the generic-target paths alike: the Ready
condition and status, Events, the sync metrics and the log line; and the Result (when the
next refresh is due) that the worker hands the queue."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.objects import ExternalSecret
from secretsync.errors import SecretSyncError, Unsupported
from secretsync.reconcile import refresh, status
from secretsync.reconcile.ports import Events, Result, Rollouts, StatusWriter, SyncMetrics

log = logging.getLogger(__name__)


def store_labels(es: ExternalSecret) -> tuple[str, str, str]:
    """(kind, namespace, name) of the store, namespace "" for a ClusterSecretStore: a name
    alone would add up same-named SecretStores of different namespaces."""
    ref = es.spec.secret_store_ref
    if ref is None:
        return ("", "", "")
    kind = str(ref.kind) or "SecretStore"
    namespace = "" if kind == "ClusterSecretStore" else (es.metadata.namespace or "default")
    return (kind, namespace, ref.name)


def failure(message: str, reason: status.Reason = status.Reason.ERROR) -> status.Outcome:
    return status.Outcome(ready=False, reason=reason, message=message, synced=False)


def object_key(es: ExternalSecret) -> str:
    """ "namespace/name", as logs name the ExternalSecret."""
    return f"{es.metadata.namespace}/{es.metadata.name}"


def ready_condition(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    conditions = (raw.get("status") or {}).get("conditions") or []
    return next(
        (c for c in conditions if isinstance(c, Mapping) and c.get("type") == "Ready"), None
    )


def last_sync(raw: Mapping[str, Any]) -> refresh.SyncState:
    """When the ExternalSecret last synced, and which version of it, as its status says."""
    current = raw.get("status") or {}
    return refresh.SyncState(
        refresh_time=status.parse_timestamp(current.get("refreshTime")),
        synced_resource_version=current.get("syncedResourceVersion"),
    )


@dataclasses.dataclass
class Reporter:
    statuses: StatusWriter
    events: Events
    metrics: SyncMetrics
    rollouts: Rollouts | None
    clock: Callable[[], datetime.datetime]
    resolution: datetime.timedelta = datetime.timedelta(0)
    """--refresh-time-resolution: how old status.refreshTime may grow before a refresh that
    changed nothing writes it (status.lagging)."""
    started: datetime.datetime = dataclasses.field(init=False)
    announced: dict[tuple[str, str], tuple[object, object, str]] = dataclasses.field(
        default_factory=dict
    )
    """(namespace, name) -> (uid, generation, message) of the Unsupported Event last emitted:
    the cached copy a sync works from may not show our own status patch yet."""
    synced: dict[tuple[str, str], tuple[object, refresh.SyncState]] = dataclasses.field(
        default_factory=dict
    )
    """(namespace, name) -> (uid, state) of the last successful sync this process recorded. The
    next sync may come before the watch brings our status patch (an overlap rotation looks again
    a second later): judged from the cached status alone it would be due again, and a generator
    would issue a second credential for one change."""

    def __post_init__(self) -> None:
        self.started = self.clock()

    def forget(self, key: tuple[str, str]) -> None:
        """The ExternalSecret is gone: nothing to remember about it."""
        self.announced.pop(key, None)
        self.synced.pop(key, None)

    def last_sync(self, raw: Mapping[str, Any], interval: datetime.timedelta) -> refresh.SyncState:
        """The last sync: the cached status's, or the one this process recorded since, when the
        cache does not show it yet (a later sync by another process, a new leader's, wins).
        `interval`: the object's refreshInterval, for a status whose refreshTime lags."""
        cached = last_sync(raw)
        meta = raw.get("metadata") or {}
        found = self.synced.get((str(meta.get("namespace")), str(meta.get("name"))))
        if found is None or found[0] != meta.get("uid"):
            return refresh.restarted(cached, interval, self.started, self.resolution)
        mine = found[1]
        if cached.refresh_time is not None and (
            mine.refresh_time is None or cached.refresh_time > mine.refresh_time
        ):
            return cached
        return mine

    def succeeded(
        self,
        es: ExternalSecret,
        ok: bool,
        reason: status.Reason,
        started: float,
        now: datetime.datetime,
    ) -> Result:
        """The sync metrics of a sync that ran to its end (`ok`: as the metric counts it); the
        next refresh counts from `now`, when the sync began."""
        seconds = time.monotonic() - started
        self.metrics.synced(store_labels(es), ok, reason.value, seconds)
        new_state = refresh.SyncState(
            refresh_time=now, synced_resource_version=refresh.synced_version(es.metadata)
        )
        due = refresh.seconds_until_due(es.spec, new_state, now, uid=es.metadata.uid)
        return Result(next_refresh=due)

    def failed(
        self,
        raw: Mapping[str, Any],
        es: ExternalSecret,
        exc: SecretSyncError,
        message: str,
        started: float,
        **extra: str,
    ) -> Result:
        """UpdateFailed with the (redacted) message, metrics and a log line; retried with
        backoff, the target left as it was."""
        self.record(raw, es, failure(message, _failed_reason(es)), "UpdateFailed")
        seconds = time.monotonic() - started
        self.metrics.synced(store_labels(es), False, type(exc).__name__, seconds)
        log.warning(
            "sync failed",
            extra={
                "object": object_key(es),
                **extra,
                "reason": type(exc).__name__,
                "error": message,
            },
        )
        return Result(next_refresh=None, failed=True)

    def unsupported(
        self, raw: Mapping[str, Any], es: ExternalSecret | None, exc: Unsupported
    ) -> Result:
        """Permanent until the spec (or the store) changes: Ready=False, one Warning Event, no
        Secret touched, no retry. A spec change or a store event brings it back here."""
        outcome = status.Outcome(
            ready=False, reason=status.Reason.UNSUPPORTED, message=str(exc), synced=False
        )
        meta = raw.get("metadata") or {}
        key, seen = (
            (str(meta.get("namespace")), str(meta.get("name"))),
            (meta.get("uid"), meta.get("generation"), outcome.message),
        )
        if self.announced.get(key) == seen:
            # Said by this process already; the cached copy may not show our status patch yet,
            # and writing from it would only move lastTransitionTime.
            self.metrics.condition(*key, False)
            return Result(next_refresh=None)
        ready = ready_condition(raw)
        repeated = (
            ready is not None
            and (ready.get("reason"), ready.get("message"))
            == (outcome.reason.value, outcome.message)
            and (raw.get("status") or {}).get("observedGeneration") == meta.get("generation")
        )
        # The Event is emitted once: only when the condition is new for this generation.
        self.record(raw, es, outcome, None if repeated else "Unsupported")
        self.announced[key] = seen
        if not repeated:
            log.warning(
                "unsupported",
                extra={"object": "/".join(key), "reason": "Unsupported", "error": outcome.message},
            )
        return Result(next_refresh=None)

    def record(
        self,
        raw: Mapping[str, Any],
        es: ExternalSecret | None,
        outcome: status.Outcome,
        event: str | None,
    ) -> None:
        """Status (written only when it changes), the Event if any, the condition metric."""
        meta = raw.get("metadata") or {}
        if outcome.reason is not status.Reason.UNSUPPORTED:
            self.announced.pop((str(meta.get("namespace")), str(meta.get("name"))), None)
        current = raw.get("status") or {}
        now = self.clock()
        new = status.new_status(
            current,
            outcome,
            generation=int(meta.get("generation") or 0),
            synced_version=refresh.synced_version(es.metadata) if es else "",
            target_name=es.target_name if es else str(meta.get("name")),
            now=now,
            fresher=self.rollouts.conditions(raw) if self.rollouts is not None else (),
        )
        truth = new
        if outcome.synced and event is None:
            new = status.lagging(new, current, now, self.resolution)
        if new != status.sync_loop_view(current):
            self.statuses.patch_status(
                "externalsecrets", meta.get("namespace"), str(meta.get("name")), new
            )
        if outcome.synced:
            # When it really refreshed, whatever the status was left saying: the due times of
            # this process follow the refreshes, not the writes.
            key = (str(meta.get("namespace")), str(meta.get("name")))
            self.synced[key] = (meta.get("uid"), last_sync({"status": truth}))
        if event:
            self.events.record(
                raw, "ExternalSecret", event, outcome.message, warning=not outcome.ready
            )
        self.metrics.condition(str(meta.get("namespace")), str(meta.get("name")), outcome.ready)


def _failed_reason(es: ExternalSecret) -> status.Reason:
    """A generic target's failures carry the Resource* reason, as ESO's do."""
    return status.Reason.ERROR if es.spec.target.generic is None else status.Reason.RESOURCE_ERROR
