"""The operator's moving parts, without kopf: events in, keys on the work queue, workers that
sync, and drift detection from the managed-Secret watch. This class assembles them: stores
(controller classes, validation), pushes, drift and the workers each live in their module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secretsync.gitsource.push import Push
from secretsync.gitsource.registry import Repositories
from secretsync.operator.drift import Drift
from secretsync.operator.moved import Moved
from secretsync.operator.pushes import Pushes
from secretsync.operator.state import State, es_key
from secretsync.operator.stores import RawStores, Stores
from secretsync.operator.telemetry import Health, Metrics
from secretsync.operator.work import Worker
from secretsync.reconcile import classes
from secretsync.reconcile.cluster_pusher import ClusterPusher, PushChildren
from secretsync.reconcile.cluster_sync import ClusterSyncer
from secretsync.reconcile.fairness import Lane, lane_store
from secretsync.reconcile.lease_keeper import Finalizers
from secretsync.reconcile.ports import StatusWriter
from secretsync.reconcile.push import Pusher
from secretsync.reconcile.queue import WorkQueue
from secretsync.reconcile.selector import parse_selector, selected
from secretsync.reconcile.sync import Syncer


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
        store_cap: int | None = None,
        push_finalizers: Finalizers | None = None,
        push_children: PushChildren | None = None,
    ) -> None:
        """`store_cap`: how many workers one store's ExternalSecrets may hold at once
        (secretsync.limits.store_concurrency). `push_finalizers`/`push_children`: PushSecrets
        and ClusterPushSecrets are run (without them they are marked Unsupported)."""
        self.state = state
        self.resolver = syncer.resolver
        self.queue = WorkQueue(lane_of=self._lane, store_cap=store_cap)
        self.metrics = metrics
        self.health = health
        self._cluster_es: dict[str, dict[str, Any]] = {}
        self._terms = parse_selector(label_selector)
        self._default_interval = default_refresh_interval
        self._moved = Moved()
        self.stores = Stores(
            state,
            self.queue,
            self._moved,
            metrics=metrics,
            statuses=statuses,
            events=syncer.events,
            resolver=syncer.resolver,
            controller_class=controller_class,
            reader=raw_stores,
        )
        self.pushes = Pushes(
            state,
            self.queue,
            self._moved,
            statuses=statuses,
            events=syncer.events,
            repositories=repositories,
            class_of=self.stores.class_of,
            controller_class=controller_class,
            pusher=None
            if push_finalizers is None
            else Pusher(
                syncer.secrets,
                statuses,
                syncer.events,
                syncer.resolver,
                syncer.lookup,
                push_finalizers,
            ),
            cluster_pusher=None
            if push_children is None
            else ClusterPusher(push_children, statuses, syncer.events),
        )
        self.drift = Drift(state, self.queue, metrics)
        self.worker = Worker(
            state,
            self.queue,
            self._moved,
            syncer=syncer,
            cluster_syncer=cluster_syncer,
            stores=self.stores,
            pushes=self.pushes,
            cluster_es=self._cluster_es,
            metrics=metrics,
            health=health,
        )
        self.stopping = self.worker.stopping
        self.work = self.worker.work

    def _lane(self, key: object) -> Lane:
        """An ExternalSecret waits in its namespace's lane for its first store; stores,
        ClusterExternalSecrets and pushes share one uncapped lane."""
        if not isinstance(key, tuple) or len(key) != 2:
            return ("", "")
        raw = self.state.get_es(key)
        refs = classes.store_refs(raw) if raw is not None else []
        return (str(key[0]), lane_store(*refs[0]) if refs else "")

    # --- events ---------------------------------------------------------------------------

    def on_external_secret(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        self.health.beat()
        key = es_key(raw)
        labels = (raw.get("metadata") or {}).get("labels") or {}
        if event_type == "DELETED" or not selected(labels, self._terms):
            self.state.drop_es(key)
            self.queue.forget(key)
            self._moved.discard(key)
            self.metrics.forget(*key)
            self.worker.syncer.report.forget(key)
            return
        self.metrics.labels("ExternalSecret", key[0], key[1], labels)
        body = dict(raw)
        spec = dict(body.get("spec") or {})
        spec.setdefault("refreshInterval", self._default_interval)
        body["spec"] = spec
        # A deletion held by our finalizer changes no spec: it is queued to revoke the leases.
        deleting = bool((raw.get("metadata") or {}).get("deletionTimestamp"))
        if self.state.put_es(body) or deleting:
            self.queue.add(key)

    def on_store(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        self.health.beat()
        if self.stores.on_event(event_type, raw):
            self.on_namespace(None)  # a ClusterSecretStore handed over to us

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
        """A Git host says a repository moved; returns how many ExternalSecrets were queued."""
        return self.pushes.on_git_push(pushed)

    def on_push_secret(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        self.health.beat()
        self.pushes.on_push_secret(event_type, raw)

    def on_namespace(self, event_type: str | None) -> None:
        """A namespace came, went or changed labels: ClusterExternalSecrets re-select."""
        for name in list(self._cluster_es):
            self.queue.add(("ces", name, None, name))

    def on_managed_secret(self, event_type: str, raw: Mapping[str, Any]) -> None:
        self.drift.on_secret(event_type, raw)

    def on_managed_config_map(self, event_type: str, raw: Mapping[str, Any]) -> None:
        self.drift.on_config_map(event_type, raw)
