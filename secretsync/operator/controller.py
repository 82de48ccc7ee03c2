"""The operator's moving parts, without kopf: events in, keys on the work queue, workers that
sync, and drift detection from the managed-Secret watch."""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from secretsync.api.sops import SopsProvider
from secretsync.errors import ConfigError, SecretSyncError, Unsupported
from secretsync.gitsource.push import Push
from secretsync.gitsource.registry import Repositories
from secretsync.gitsource.source import revision_from
from secretsync.metrics import Counter
from secretsync.operator.state import Key, State, es_key
from secretsync.operator.telemetry import Health, Metrics
from secretsync.reconcile import classes, status, unserved, writes
from secretsync.reconcile.cluster_sync import ClusterSyncer
from secretsync.reconcile.queue import WorkQueue
from secretsync.reconcile.sync import StatusWriter, Syncer
from secretsync.resolve import manifest
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, data_hash

log = logging.getLogger(__name__)
STORE_PLURALS = {"SecretStore": "secretstores", "ClusterSecretStore": "clustersecretstores"}


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


def parse_selector(text: str) -> list[tuple[str, str, str | None]]:
    """Equality-based label selector terms: `k=v`, `k==v`, `k!=v`, `k`, `!k`."""
    terms: list[tuple[str, str, str | None]] = []
    for raw in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in raw:
            key, value = raw.split("!=", 1)
            terms.append((key.strip(), "!=", value.strip()))
        elif "=" in raw:
            key, value = raw.replace("==", "=").split("=", 1)
            terms.append((key.strip(), "=", value.strip()))
        elif raw.startswith("!"):
            terms.append((raw[1:].strip(), "!", None))
        else:
            terms.append((raw, "exists", None))
    return terms


def _term_holds(labels: Mapping[str, str], key: str, op: str, value: str | None) -> bool:
    if op == "=":
        return labels.get(key) == value
    if op == "!=":
        return labels.get(key) != value
    if op == "!":
        return key not in labels
    return key in labels


def selected(labels: Mapping[str, str], terms: list[tuple[str, str, str | None]]) -> bool:
    return all(_term_holds(labels, key, op, value) for key, op, value in terms)


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


def _follows(provider: object, pushed: Push) -> bool:
    """A SOPS store that fetches the pushed repository and ref."""
    if not isinstance(provider, SopsProvider):
        return False
    try:
        revision = revision_from(provider.git.ref, "spec.provider.sops.git.ref")
    except ConfigError:
        return False  # reported on the store already
    return pushed.affects(provider.git.url, revision)


class Controller:
    def __init__(
        self,
        state: State,
        syncer: Syncer,
        cluster_syncer: ClusterSyncer,
        *,
        statuses: StatusWriter,
        metrics: Metrics,
        health: Health,
        repositories: Repositories | None = None,
        label_selector: str = "",
        default_refresh_interval: str = "1h",
        controller_class: str = classes.DEFAULT_CLASS,
        raw_stores: RawStores | None = None,
    ) -> None:
        self.state = state
        self.controller_class = controller_class
        self._store_reader = raw_stores
        self.resolver = syncer.resolver
        self.cluster_syncer = cluster_syncer
        self._cluster_es: dict[str, dict[str, Any]] = {}
        self._pushes: dict[tuple[str, str, str | None, str], dict[str, Any]] = {}
        self._announced_pushes: set[tuple[object, object]] = set()
        self._raw_stores: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.queue = WorkQueue()
        self.syncer = syncer
        self.statuses = statuses
        self.metrics = metrics
        self.health = health
        self._terms = parse_selector(label_selector)
        self._default_interval = default_refresh_interval
        self._repositories = repositories
        self._moved: set[Key] = set()
        self._moved_lock = threading.Lock()
        self.stopping = threading.Event()
        self.syncs = Counter("secretsync_syncs_performed_total", "Syncs the workers ran.")
        metrics.extra.append(self.syncs)

    # --- events ---------------------------------------------------------------------------

    def on_external_secret(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        self.health.beat()
        key = es_key(raw)
        labels = (raw.get("metadata") or {}).get("labels") or {}
        if event_type == "DELETED" or not selected(labels, self._terms):
            self.state.drop_es(key)
            self.queue.forget(key)
            with self._moved_lock:
                self._moved.discard(key)
            self.metrics.forget(*key)
            return
        self.metrics.labels("ExternalSecret", key[0], key[1], labels)
        body = dict(raw)
        spec = dict(body.get("spec") or {})
        spec.setdefault("refreshInterval", self._default_interval)
        body["spec"] = spec
        if self.state.put_es(body):
            self.queue.add(key)

    def on_store(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        self.health.beat()
        meta = raw.get("metadata") or {}
        kind = str(raw.get("kind"))
        namespace = meta.get("namespace")
        name = str(meta.get("name"))
        if event_type == "DELETED":
            self.state.drop_store(kind, namespace, name)
            self._raw_stores.pop((kind, namespace, name), None)
            self.metrics.forget_object(kind, namespace, name)
            return
        previous = self._raw_stores.get((kind, namespace, name))
        self._raw_stores[(kind, namespace, name)] = dict(raw)
        self.metrics.labels(kind, namespace, name, meta.get("labels") or {})
        try:
            self.state.put_store(raw)
        except Unsupported as exc:
            self._unsupported_store(raw, kind, exc)
            return
        except ConfigError as exc:
            if self._ours(raw):
                self._store_status(raw, kind, "False", "InvalidProviderConfig", str(exc))
            return
        if not self._ours(raw):
            # Another operator's store: its status and its ExternalSecrets are not ours to
            # touch. If it just moved away, its ExternalSecrets pass through _sync once more,
            # which finds them foreign and drops their metrics.
            self.metrics.forget_object(kind, namespace, name)
            if previous is not None and self._ours(previous):
                for key in self.state.users_of(kind, namespace, name):
                    self.queue.add(key)
            return
        users = self.state.users_of(kind, namespace, name)
        if classes.moved_in(previous, raw, self.controller_class):
            # Handed over to us: sync its ExternalSecrets now, not at their next refresh.
            log.info("store handed over to this controller class", extra={"store": name})
            with self._moved_lock:
                self._moved |= set(users)
            if namespace is None:  # a ClusterSecretStore: ClusterExternalSecrets may use it
                self.on_namespace(None)
        # Reaching the source and logging in is slow I/O: a worker does it, off kopf's loop.
        self.queue.add(("store", kind, namespace, name))
        for key in users:
            self.queue.add(key)

    def on_cluster_external_secret(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        self.health.beat()
        name = str((raw.get("metadata") or {}).get("name"))
        key = ("ces", name, None, name)
        if event_type == "DELETED":
            # Its ExternalSecrets carry it as controller owner: the garbage collector removes them.
            self._cluster_es.pop(name, None)
            self.queue.forget(key)
            self.metrics.forget_object("ClusterExternalSecret", None, name)
            return
        self._cluster_es[name] = dict(raw)
        self.metrics.labels(
            "ClusterExternalSecret", None, name, (raw.get("metadata") or {}).get("labels") or {}
        )
        self.queue.add(key)

    def on_push(self, pushed: Push) -> int:
        """A Git host says a repository moved: fetch it again at the next read, and sync every
        ExternalSecret that reads a store following the pushed ref now, not at its next refresh.
        Returns how many were queued."""
        if self._repositories is not None:
            self._repositories.changed(lambda remote: pushed.affects(remote.url, remote.revision))
        keys: set[Key] = set()
        for (kind, namespace, name), store in self.state.stores():
            if _follows(store.spec.provider, pushed):
                keys.update(self.state.users_of(kind, namespace, name))
        with self._moved_lock:
            self._moved |= keys
        for key in keys:
            self.queue.add(key)
        return len(keys)

    def on_push_secret(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        """A PushSecret or ClusterPushSecret: not run yet; a worker marks it Unsupported."""
        self.health.beat()
        meta = raw.get("metadata") or {}
        key = ("push", str(raw.get("kind")), meta.get("namespace"), str(meta.get("name")))
        if event_type == "DELETED":
            self._pushes.pop(key, None)
            self.queue.forget(key)
            return
        self._pushes[key] = dict(raw)
        self.queue.add(key)

    def _mark_push(self, key: tuple[str, str, str | None, str]) -> None:
        """Ready=False Unsupported and one Warning Event, on a (Cluster)PushSecret whose stores
        are of our class; another operator's (ESO's) is not touched."""
        raw = self._pushes.get(key)
        refs = None if raw is None else unserved.store_refs(raw)
        if raw is None or refs is None:
            return
        if not classes.reconciles(refs, self._class_of, self.controller_class):
            return
        meta = raw.get("metadata") or {}
        message = str(unserved.unsupported(key[1]))
        new = unserved.new_status(raw, message, datetime.datetime.now(datetime.UTC))
        seen = (meta.get("uid"), meta.get("generation"))
        if new is None or seen in self._announced_pushes:
            return  # it says so already (our patch may not be in this cached copy yet)
        plural = unserved.PLURALS[key[1]]
        self.statuses.patch_status(plural, key[2], key[3], new, version=unserved.VERSION)
        self.syncer.events.record(raw, key[1], "Unsupported", message, warning=True)
        self._announced_pushes.add(seen)

    def on_namespace(self, event_type: str | None) -> None:
        """A namespace came, went or changed labels: ClusterExternalSecrets re-select."""
        for name in list(self._cluster_es):
            self.queue.add(("ces", name, None, name))

    # --- controller classes ----------------------------------------------------------------

    def _ours(self, raw_store: Mapping[str, Any]) -> bool:
        return classes.processes(classes.store_class(raw_store), self.controller_class)

    def _class_of(self, ref: classes.StoreKey) -> str | None:
        raw: Mapping[str, Any] | None = self._raw_stores.get(ref)
        if raw is None and self._store_reader is not None:
            # Not delivered by the watch yet (at start-up the ExternalSecrets may come first):
            # ask the cluster rather than guess, or we could write on another operator's object.
            raw = self._store_reader.raw_store(*ref)
        return None if raw is None else classes.store_class(raw)

    def _generator_class_of(self, ref: classes.GeneratorKey) -> str | None:
        if self._store_reader is None:
            return None
        try:
            raw = self._store_reader.raw_generator(*ref)
        except SecretSyncError:
            return None  # ESO too goes on when it cannot read a generator
        return None if raw is None else classes.generator_class(raw)

    def reconciles_es(self, raw: Mapping[str, Any]) -> bool:
        ours = self.controller_class
        return classes.reconciles(
            classes.generator_refs(raw), self._generator_class_of, ours
        ) and classes.reconciles(classes.store_refs(raw), self._class_of, ours)

    def reconciles_ces(self, raw: Mapping[str, Any]) -> bool:
        refs = classes.cluster_store_refs(raw)
        return classes.reconciles(refs, self._class_of, self.controller_class)

    def _validate_store(self, key: tuple[str, str, str | None, str]) -> None:
        _, kind, namespace, name = key
        raw = self._raw_stores.get((kind, namespace, name))
        store = self.state.cached_store((kind, namespace, name))
        if raw is None or store is None or not self._ours(raw):
            return
        where = namespace or _credential_namespace(raw)
        if where is None:
            self._store_status(
                raw,
                kind,
                "True",
                "Valid",
                "store validated; referent auth is checked per ExternalSecret",
            )
            return
        try:
            self.resolver.provider(store, where).validate()
        except SecretSyncError as exc:
            self._store_status(raw, kind, "False", "ValidationFailed", str(exc))
            return
        self._store_status(raw, kind, "True", "Valid", "store validated")

    def _unsupported_store(self, raw: Mapping[str, Any], kind: str, exc: Unsupported) -> None:
        """A store whose provider (or a field of it) secretsync does not implement: Ready=False
        Unsupported and one Warning Event on it; its ExternalSecrets are told the same."""
        meta = raw.get("metadata") or {}
        # An older, served version of it must not stay cached and keep being used.
        self.state.drop_store(kind, meta.get("namespace"), str(meta.get("name")))
        if not self._ours(raw):
            return
        if self._store_status(raw, kind, "False", status.Reason.UNSUPPORTED.value, str(exc)):
            self.syncer.events.record(raw, kind, "Unsupported", str(exc), warning=True)
        for key in self.state.users_of(kind, meta.get("namespace"), str(meta.get("name"))):
            self.queue.add(key)

    def _store_status(
        self, raw: Mapping[str, Any], kind: str, ready: str, reason: str, message: str
    ) -> bool:
        """Write the store's Ready condition; False when it already says this."""
        meta = raw.get("metadata") or {}
        self.metrics.object_condition(
            kind, meta.get("namespace"), str(meta.get("name")), ready == "True"
        )
        current = raw.get("status") or {}
        previous = current.get("conditions") or []
        old = next((c for c in previous if c.get("type") == "Ready"), None)
        if old and (old.get("status"), old.get("reason"), old.get("message")) == (
            ready,
            reason,
            message,
        ):
            return False
        now = datetime.datetime.now(datetime.UTC)
        condition = {
            "type": "Ready",
            "status": ready,
            "reason": reason,
            "message": message,
            "lastTransitionTime": status.timestamp(now),
        }
        try:
            self.statuses.patch_status(
                STORE_PLURALS[kind],
                meta.get("namespace"),
                str(meta.get("name")),
                {"conditions": [condition]},
            )
        except Exception as exc:
            log.warning(
                "store status not written",
                extra={"object": meta.get("name"), "reason": type(exc).__name__},
            )
            return False
        return True

    def on_managed_secret(self, event_type: str, raw: Mapping[str, Any]) -> None:
        """A managed Secret was edited or deleted by someone else: put it back."""
        meta = raw.get("metadata") or {}
        owner = self.state.owner_of(str(meta.get("namespace")), str(meta.get("name")))
        if owner is None:
            return
        annotation = (meta.get("annotations") or {}).get(DATA_HASH_ANNOTATION)
        drifted = event_type == "DELETED" or annotation != data_hash(writes.decode_data(raw))
        if drifted:
            self.metrics.drift.inc(owner[0])
            log.info(
                "managed secret drifted; restoring",
                extra={"object": f"{owner[0]}/{owner[1]}", "reason": event_type.lower()},
            )
            self.queue.add(owner)

    def on_managed_config_map(self, event_type: str, raw: Mapping[str, Any]) -> None:
        """A ConfigMap a target.manifest wrote was edited or deleted: put it back (ESO watches
        its generic targets too). Custom resource targets are checked at their next refresh."""
        meta = raw.get("metadata") or {}
        owner = self.state.owner_of(str(meta.get("namespace")), str(meta.get("name")))
        if owner is None:
            return
        annotation = (meta.get("annotations") or {}).get(DATA_HASH_ANNOTATION)
        if event_type == "DELETED" or annotation != manifest.content_hash(raw):
            self.metrics.drift.inc(owner[0])
            log.info(
                "managed config map drifted; restoring",
                extra={"object": f"{owner[0]}/{owner[1]}", "reason": event_type.lower()},
            )
            self.queue.add(owner)

    # --- workers --------------------------------------------------------------------------

    def work(self) -> None:
        while not self.stopping.is_set():
            key = self.queue.get(timeout=1.0)
            if key is None:
                continue
            self._sync(key)  # type: ignore[arg-type]

    def _sync_other(self, key: tuple[str, str, str | None, str]) -> None:
        retry: float | None = None
        failed = False
        started = time.monotonic()
        kind = key[1] if key[0] == "store" else "ClusterExternalSecret"
        try:
            if key[0] == "store":
                self._validate_store(key)
            elif key[0] == "push":
                self._mark_push(key)
            elif key[3] in self._cluster_es and self.reconciles_ces(self._cluster_es[key[3]]):
                retry = self.cluster_syncer.sync(self._cluster_es[key[3]])
        except Exception:
            log.exception("sync crashed", extra={"object": key[3]})
            failed = True
        finally:
            self.queue.done(key, failed=failed, retry_after=retry)
        if self._tracked(key):
            seconds = time.monotonic() - started
            self.metrics.object_reconciled(kind, key[2], key[3], seconds, failed=failed)

    def _tracked(self, key: tuple[str, str, str | None, str]) -> bool:
        """A store or ClusterExternalSecret that exists and is ours, so has metrics."""
        if key[0] == "store":
            raw = self._raw_stores.get((key[1], key[2], key[3]))
        else:
            raw = self._cluster_es.get(key[3])
        return raw is not None and self._ours(raw)

    def _reconciles(self, key: Key, raw: Mapping[str, Any]) -> bool:
        """Whether this ExternalSecret is ours (its stores' class); marks it done when not."""
        try:
            ours = self.reconciles_es(raw)
        except SecretSyncError as exc:
            log.warning(
                "store class unknown; retrying",
                extra={"object": f"{key[0]}/{key[1]}", "reason": type(exc).__name__},
            )
            self.queue.done(key, failed=True)
            return False
        if not ours:
            # Another operator's (ESO's): no status, no Event, no Secret write, no metric.
            # A store event brings it back here if the store is handed over to us.
            self.metrics.forget(*key)
            self.queue.done(key)
        return ours

    def _sync(self, key: Key) -> None:
        if len(key) == 4:  # a store or a ClusterExternalSecret; ExternalSecret keys are pairs
            self._sync_other(key)
            return
        raw = self.state.get_es(key)
        if raw is None:
            self.queue.done(key)
            return
        if not self._reconciles(key, raw):
            return
        with self._moved_lock:
            moved = key in self._moved
            self._moved.discard(key)
        started = time.monotonic()
        try:
            result = self.syncer.sync(raw, source_moved=moved)
        except Exception:
            log.exception("sync crashed", extra={"object": f"{key[0]}/{key[1]}"})
            self._reconciled(key, True, started)
            self.queue.done(key, failed=True)
            return
        finally:
            self.syncs.inc()
            self.health.beat()
        self._reconciled(key, result.failed, started)
        self.queue.done(key, failed=result.failed, retry_after=result.next_refresh)

    def _reconciled(self, key: Key, failed: bool, started: float) -> None:
        self.metrics.reconciled(key[0], key[1], failed, time.monotonic() - started)
        if self.state.get_es(key) is None:
            # Deleted while it synced: the deletion's forget ran first; the gone object
            # must not keep the series the sync just wrote.
            self.metrics.forget(*key)
