"""SecretStores and ClusterSecretStores as the watch delivers them: which are ours (their
controller class), and so which ExternalSecrets are; their validation and Ready condition."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from secretsync.errors import ConfigError, SecretSyncError, Unsupported
from secretsync.operator.moved import Moved
from secretsync.operator.state import State
from secretsync.operator.telemetry import Metrics
from secretsync.reconcile import classes, status
from secretsync.reconcile.ports import Events, StatusWriter
from secretsync.reconcile.queue import WorkQueue
from secretsync.resolve.resolver import Resolver

log = logging.getLogger(__name__)
STORE_PLURALS = {"SecretStore": "secretstores", "ClusterSecretStore": "clustersecretstores"}
StoreWorkKey = tuple[str, str, str | None, str]
"""("store", kind, namespace, name): a worker validates the store."""


class RawStores(Protocol):
    """Stores and generators read from the cluster as they are stored (None when they do not
    exist): their class decides whether we may touch what uses them. Stores are read only when
    the watch has not delivered them yet; generators are not watched."""

    def raw_store(
        self, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None: ...

    def raw_generator(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None: ...


def _credential_namespace(raw: Mapping[str, Any]) -> str | None:
    """The namespace a ClusterSecretStore's credential references name, if any; without one
    the store uses referent auth and can only be checked from an ExternalSecret's namespace."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            if isinstance(node.get("namespace"), str) and "name" in node:
                found.append(node["namespace"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(((raw.get("spec") or {}).get("provider")) or {})
    return found[0] if found else None


class Stores:
    def __init__(
        self,
        state: State,
        queue: WorkQueue,
        moved: Moved,
        *,
        metrics: Metrics,
        statuses: StatusWriter,
        events: Events,
        resolver: Resolver,
        controller_class: str,
        reader: RawStores | None,
    ) -> None:
        self.state, self.queue, self.moved = state, queue, moved
        self.metrics, self.statuses, self.events = metrics, statuses, events
        self.resolver = resolver
        self.controller_class = controller_class
        self._reader = reader
        self._raw: dict[classes.StoreKey, dict[str, Any]] = {}

    def on_event(self, event_type: str | None, raw: Mapping[str, Any]) -> bool:
        """Record a store event and queue what it affects. True when a ClusterSecretStore was
        just handed over to us: ClusterExternalSecrets may use it and must re-select."""
        meta = raw.get("metadata") or {}
        kind, namespace, name = str(raw.get("kind")), meta.get("namespace"), str(meta.get("name"))
        if event_type == "DELETED":
            self.state.drop_store(kind, namespace, name)
            self._raw.pop((kind, namespace, name), None)
            self.metrics.forget_object(kind, namespace, name)
            return False
        previous = self._raw.get((kind, namespace, name))
        self._raw[(kind, namespace, name)] = dict(raw)
        self.metrics.labels(kind, namespace, name, meta.get("labels") or {})
        try:
            self.state.put_store(raw)
        except Unsupported as exc:
            self._unsupported(raw, kind, exc)
            return False
        except ConfigError as exc:
            if self.ours(raw):
                self._status(raw, kind, "False", "InvalidProviderConfig", str(exc))
            return False
        users = self.state.users_of(kind, namespace, name)
        if not self.ours(raw):
            # Another operator's store: its status and its ExternalSecrets are not ours to
            # touch. If it just moved away, its ExternalSecrets pass through a worker once
            # more, which finds them foreign and drops their metrics.
            self.metrics.forget_object(kind, namespace, name)
            if previous is not None and self.ours(previous):
                for key in users:
                    self.queue.add(key)
            return False
        handed_over = classes.moved_in(previous, raw, self.controller_class)
        if handed_over:
            # Handed over to us: sync its ExternalSecrets now, not at their next refresh.
            log.info("store handed over to this controller class", extra={"store": name})
            self.moved.add(users)
        # Reaching the source and logging in is slow I/O: a worker does it, off kopf's loop.
        self.queue.add(("store", kind, namespace, name))
        for key in users:
            self.queue.add(key)
        return handed_over and namespace is None

    def raw(self, ref: classes.StoreKey) -> Mapping[str, Any] | None:
        return self._raw.get(ref)

    # --- controller classes ----------------------------------------------------------------

    def ours(self, raw_store: Mapping[str, Any]) -> bool:
        return classes.processes(classes.store_class(raw_store), self.controller_class)

    def class_of(self, ref: classes.StoreKey) -> str | None:
        raw: Mapping[str, Any] | None = self._raw.get(ref)
        if raw is None and self._reader is not None:
            # Not delivered by the watch yet (at start-up the ExternalSecrets may come first):
            # ask the cluster rather than guess, or we could write on another operator's object.
            raw = self._reader.raw_store(*ref)
        return None if raw is None else classes.store_class(raw)

    def _generator_class_of(self, ref: classes.GeneratorKey) -> str | None:
        if self._reader is None:
            return None
        try:
            raw = self._reader.raw_generator(*ref)
        except SecretSyncError:
            return None  # ESO too goes on when it cannot read a generator
        return None if raw is None else classes.generator_class(raw)

    def reconciles_es(self, raw: Mapping[str, Any]) -> bool:
        ours = self.controller_class
        return classes.reconciles(
            classes.generator_refs(raw), self._generator_class_of, ours
        ) and classes.reconciles(classes.store_refs(raw), self.class_of, ours)

    def reconciles_ces(self, raw: Mapping[str, Any]) -> bool:
        refs = classes.cluster_store_refs(raw)
        return classes.reconciles(refs, self.class_of, self.controller_class)

    # --- validation and status -------------------------------------------------------------

    def validate(self, key: StoreWorkKey) -> None:
        _, kind, namespace, name = key
        raw = self._raw.get((kind, namespace, name))
        store = self.state.cached_store((kind, namespace, name))
        if raw is None or store is None or not self.ours(raw):
            return
        where = namespace or _credential_namespace(raw)
        if where is None:
            message = "store validated; referent auth is checked per ExternalSecret"
            self._status(raw, kind, "True", "Valid", message)
            return
        try:
            self.resolver.provider(store, where).validate()
        except SecretSyncError as exc:
            self._status(raw, kind, "False", "ValidationFailed", str(exc))
            return
        self._status(raw, kind, "True", "Valid", "store validated")

    def _unsupported(self, raw: Mapping[str, Any], kind: str, exc: Unsupported) -> None:
        """A store whose provider (or a field of it) secretsync does not implement: Ready=False
        Unsupported and one Warning Event on it; its ExternalSecrets are told the same."""
        meta = raw.get("metadata") or {}
        # An older, served version of it must not stay cached and keep being used.
        self.state.drop_store(kind, meta.get("namespace"), str(meta.get("name")))
        if not self.ours(raw):
            return
        if self._status(raw, kind, "False", status.Reason.UNSUPPORTED.value, str(exc)):
            self.events.record(raw, kind, "Unsupported", str(exc), warning=True)
        for key in self.state.users_of(kind, meta.get("namespace"), str(meta.get("name"))):
            self.queue.add(key)

    def _status(
        self, raw: Mapping[str, Any], kind: str, ready: str, reason: str, message: str
    ) -> bool:
        """Write the store's Ready condition; False when it already says this."""
        meta = raw.get("metadata") or {}
        namespace, name = meta.get("namespace"), str(meta.get("name"))
        self.metrics.object_condition(kind, namespace, name, ready == "True")
        previous = (raw.get("status") or {}).get("conditions") or []
        old = next((c for c in previous if c.get("type") == "Ready"), None)
        if old and (old.get("status"), old.get("reason"), old.get("message")) == (
            ready,
            reason,
            message,
        ):
            return False
        condition = {
            "type": "Ready",
            "status": ready,
            "reason": reason,
            "message": message,
            "lastTransitionTime": status.timestamp(datetime.datetime.now(datetime.UTC)),
        }
        try:
            plural = STORE_PLURALS[kind]
            self.statuses.patch_status(plural, namespace, name, {"conditions": [condition]})
        except Exception as exc:
            log.warning(
                "store status not written", extra={"object": name, "reason": type(exc).__name__}
            )
            return False
        return True
