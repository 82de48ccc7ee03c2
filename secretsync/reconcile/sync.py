"""One sync of one ExternalSecret: the thin shell around the pure decisions.

Read the target Secret, decide whether a sync is due, resolve, decide the write, do it, then
record status and Events. On any failure before the write the existing Secret is untouched.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from secretsync.api.crds import STORAGE_VERSION
from secretsync.api.objects import ExternalSecret, parse_external_secret
from secretsync.api.sources import StoreKind
from secretsync.errors import ConfigError, SecretSyncError, Unsupported
from secretsync.reconcile import classes, generic, refresh, status, writes
from secretsync.redact import Redactor
from secretsync.resolve.resolver import Resolver, StoreLookup
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL, data_hash

log = logging.getLogger(__name__)


class Secrets(Protocol):
    def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def create(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def replace(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def delete(self, namespace: str, name: str) -> None: ...


class StatusWriter(Protocol):
    def patch_status(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        status: Mapping[str, Any],
        *,
        version: str = STORAGE_VERSION,
    ) -> None: ...


class Events(Protocol):
    def record(
        self,
        involved: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None: ...


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


_EVENTS = {
    writes.Action.CREATE: "Created",
    writes.Action.UPDATE: "Updated",
    writes.Action.DELETE: "Deleted",
}


def target_state(secret: Mapping[str, Any] | None) -> refresh.TargetState:
    if secret is None:
        return refresh.TargetState(exists=False)
    meta = secret.get("metadata") or {}
    return refresh.TargetState(
        exists=True,
        managed=(meta.get("labels") or {}).get(MANAGED_LABEL) == "true",
        hash_annotation=(meta.get("annotations") or {}).get(DATA_HASH_ANNOTATION),
        data_hash=data_hash(writes.decode_data(secret)),
    )


@dataclasses.dataclass
class Syncer:
    secrets: Secrets
    statuses: StatusWriter
    events: Events
    resolver: Resolver
    lookup: StoreLookup
    metrics: SyncMetrics
    rollouts: Rollouts | None = None
    clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
    targets: generic.Targets | None = None
    """ConfigMaps and custom resources, for spec.target.manifest."""
    allow_generic_targets: bool = False
    """--unsafe-allow-generic-targets: without it a target.manifest is refused, as in ESO."""
    announced: dict[tuple[str, str], tuple[object, object, str]] = dataclasses.field(
        default_factory=dict
    )
    """(namespace, name) -> (uid, generation, message) of the Unsupported Event last emitted:
    the cached copy a sync works from may not show our own status patch yet."""

    def sync(self, raw: Mapping[str, Any], *, source_moved: bool = False) -> Result:
        started = time.monotonic()
        admitted = self._admit(raw)
        if isinstance(admitted, Result):
            return admitted
        es = admitted
        # Unsupported until now (its store was fixed, say): due now, not at its next refresh.
        was_unsupported = (_ready(raw) or {}).get("reason") == status.Reason.UNSUPPORTED.value
        source_moved = source_moved or was_unsupported
        if es.spec.target.generic is not None:
            # A ConfigMap or custom resource instead of a Secret: its own path (generic.py).
            shell = generic.GenericSync(self, self.targets, self.allow_generic_targets)
            return shell.sync(es, raw, source_moved=source_moved)
        store = es.spec.secret_store_ref.name if es.spec.secret_store_ref else ""
        existing = self.secrets.get(es.metadata.namespace or "default", es.target_name)
        now = self.clock()
        state = refresh.SyncState(
            refresh_time=status.parse_timestamp((raw.get("status") or {}).get("refreshTime")),
            synced_resource_version=(raw.get("status") or {}).get("syncedResourceVersion"),
        )
        due = refresh.should_refresh(es.spec, es.metadata, state, now, source_moved=source_moved)
        if not due and refresh.secret_valid(target_state(existing), es.spec.target.creation_policy):
            return Result(next_refresh=refresh.seconds_until_due(es.spec, state, now))
        redact = Redactor(writes.decode_data(existing or {}).values())
        try:
            outcome = self._converge(es, raw, existing, redact)
        except Unsupported as exc:
            return self._unsupported(raw, es, exc)
        except SecretSyncError as exc:
            message = redact(str(exc))
            self._record(raw, es, _failure(message), "UpdateFailed")
            seconds = time.monotonic() - started
            self.metrics.synced(_store_labels(es), False, type(exc).__name__, seconds)
            log.warning(
                "sync failed",
                extra={
                    "object": _key(es),
                    "store": store,
                    "reason": type(exc).__name__,
                    "error": message,
                },
            )
            return Result(next_refresh=None, failed=True)
        seconds = time.monotonic() - started
        self.metrics.synced(_store_labels(es), True, outcome.reason.value, seconds)
        new_state = refresh.SyncState(
            refresh_time=now, synced_resource_version=refresh.synced_version(es.metadata)
        )
        return Result(next_refresh=refresh.seconds_until_due(es.spec, new_state, now))

    def _admit(self, raw: Mapping[str, Any]) -> ExternalSecret | Result:
        """The parsed ExternalSecret, or the Result of refusing it: a spec the apiserver
        accepted but we cannot use, or a store we cannot serve. Nothing to retry until the spec
        or the store changes (either brings it back here)."""
        try:
            es = parse_external_secret(raw)
        except Unsupported as exc:
            return self._unsupported(raw, None, exc)
        except ConfigError as exc:
            self._record(raw, None, _failure(str(exc)), "InvalidSpec")
            return Result(next_refresh=None)
        # Before the refresh check: a store that cannot be served is news now, not at the
        # next refresh (an ExternalSecret that ESO synced may not be due for an hour).
        unsupported = self._unsupported_store(raw, es)
        return es if unsupported is None else self._unsupported(raw, es, unsupported)

    def _unsupported_store(self, raw: Mapping[str, Any], es: ExternalSecret) -> Unsupported | None:
        namespace = es.metadata.namespace or "default"
        for kind, _, name in classes.store_refs(raw):
            try:
                self.lookup.store(StoreKind(kind), namespace, name)
            except Unsupported as exc:
                return exc
            except (SecretSyncError, ValueError):
                continue  # anything else is the sync's to report
        return None

    def _unsupported(
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
        ready = _ready(raw)
        repeated = (
            ready is not None
            and (ready.get("reason"), ready.get("message"))
            == (outcome.reason.value, outcome.message)
            and (raw.get("status") or {}).get("observedGeneration") == meta.get("generation")
        )
        # The Event is emitted once: only when the condition is new for this generation.
        self._record(raw, es, outcome, None if repeated else "Unsupported")
        self.announced[key] = seen
        if not repeated:
            log.warning(
                "unsupported",
                extra={"object": "/".join(key), "reason": "Unsupported", "error": outcome.message},
            )
        return Result(next_refresh=None)

    def _converge(
        self,
        es: ExternalSecret,
        raw: Mapping[str, Any],
        existing: Mapping[str, Any] | None,
        redact: Redactor,
    ) -> status.Outcome:
        want, resolved = self.resolver.resolve(es, self.lookup)
        redact.add(want.data.values())
        if self.rollouts is not None and self.rollouts.held_hash(raw) == data_hash(want.data):
            # The source still serves the data whose rollout failed and was rolled back: the
            # last good data stays until the source changes again, with no flapping.
            held = _failure(
                "the source still serves data whose rollout failed; keeping the "
                "last good data until the source changes"
            )
            self._record(raw, es, held, None)
            return held
        write = writes.plan(es, want, resolved, existing)
        for cause in resolved.missing:
            # ESO's Normal event: the entry was skipped (deletionPolicy Delete or Merge).
            self.events.record(raw, "ExternalSecret", "MissingProviderSecret", redact(cause))
        namespace = es.metadata.namespace or "default"
        if write.action is writes.Action.CREATE and write.body is not None:
            self.secrets.create(namespace, write.body)
        elif write.action is writes.Action.UPDATE and write.body is not None:
            self.secrets.replace(namespace, write.body)
            self._roll(es, raw, existing, want.data)
        elif write.action is writes.Action.DELETE:
            self.secrets.delete(namespace, es.target_name)
        outcome = _outcome(write)
        event = _EVENTS.get(write.action)
        if write.action is writes.Action.REFUSE:
            self._record(raw, es, outcome, "UpdateFailed")
            return outcome
        self._record(raw, es, outcome, event)
        if event:
            log.info("secret written", extra={"object": _key(es), "reason": event})
        return outcome

    def _roll(
        self,
        es: ExternalSecret,
        raw: Mapping[str, Any],
        existing: Mapping[str, Any] | None,
        current: Mapping[str, bytes],
    ) -> None:
        if self.rollouts is None:
            return
        previous = writes.decode_data(existing) if existing is not None else None
        try:
            token = self.rollouts.on_data_changed(es, raw, previous, current)
        except SecretSyncError as exc:
            # The data is written; failing to restart consumers is reported, not retried as
            # a sync (that would write nothing new and restart nothing either).
            log.warning(
                "rollout not started", extra={"object": _key(es), "reason": type(exc).__name__}
            )
            return
        if token:
            log.info("rollout started", extra={"object": _key(es), "token": token})

    def _record(
        self,
        raw: Mapping[str, Any],
        es: ExternalSecret | None,
        outcome: status.Outcome,
        event: str | None,
    ) -> None:
        meta = raw.get("metadata") or {}
        if outcome.reason is not status.Reason.UNSUPPORTED:
            self.announced.pop((str(meta.get("namespace")), str(meta.get("name"))), None)
        current = raw.get("status") or {}
        new = status.new_status(
            current,
            outcome,
            generation=int(meta.get("generation") or 0),
            synced_version=refresh.synced_version(es.metadata) if es else "",
            target_name=es.target_name if es else str(meta.get("name")),
            now=self.clock(),
            fresher=self.rollouts.conditions(raw) if self.rollouts is not None else (),
        )
        if new != status.sync_loop_view(current):
            self.statuses.patch_status(
                "externalsecrets", meta.get("namespace"), str(meta.get("name")), new
            )
        if event:
            self.events.record(
                raw, "ExternalSecret", event, outcome.message, warning=not outcome.ready
            )
        self.metrics.condition(str(meta.get("namespace")), str(meta.get("name")), outcome.ready)


def _ready(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    conditions = (raw.get("status") or {}).get("conditions") or []
    return next(
        (c for c in conditions if isinstance(c, Mapping) and c.get("type") == "Ready"), None
    )


def _store_labels(es: ExternalSecret) -> tuple[str, str, str]:
    """(kind, namespace, name) of the store, namespace "" for a ClusterSecretStore: a name
    alone would add up same-named SecretStores of different namespaces."""
    ref = es.spec.secret_store_ref
    if ref is None:
        return ("", "", "")
    kind = str(ref.kind) or "SecretStore"
    namespace = "" if kind == "ClusterSecretStore" else (es.metadata.namespace or "default")
    return (kind, namespace, ref.name)


def _failure(message: str) -> status.Outcome:
    return status.Outcome(ready=False, reason=status.Reason.ERROR, message=message, synced=False)


def _outcome(write: writes.Write) -> status.Outcome:
    if write.action is writes.Action.REFUSE:
        return _failure(write.reason)
    if write.action is writes.Action.DELETE or (
        write.action is writes.Action.NOTHING and write.reason
    ):
        return status.Outcome(True, status.Reason.DELETED, write.reason, synced=True)
    if write.action is writes.Action.WAIT:
        return status.Outcome(True, status.Reason.MISSING, write.reason, synced=True)
    return status.Outcome(True, status.Reason.SYNCED, "secret synced", synced=True)


def _key(es: ExternalSecret) -> str:
    return f"{es.metadata.namespace}/{es.metadata.name}"
