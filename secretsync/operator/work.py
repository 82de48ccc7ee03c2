"""The workers: take a key off the queue, sync what it names if it is ours, and record the
outcome in the queue (retry, backoff, next refresh) and in the metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from secretsync.errors import Retryable, SecretSyncError
from secretsync.metrics import Counter
from secretsync.operator.moved import Moved
from secretsync.operator.pushes import Pushes
from secretsync.operator.state import Key, State
from secretsync.operator.stores import Stores
from secretsync.operator.telemetry import Health, Metrics
from secretsync.reconcile.cluster_sync import ClusterSyncer
from secretsync.reconcile.queue import WorkQueue
from secretsync.reconcile.sync import Syncer

log = logging.getLogger(__name__)
OtherKey = tuple[str, str, str | None, str]
"""A store's, a ClusterExternalSecret's or a PushSecret's key; ExternalSecret keys are pairs."""


class Worker:
    def __init__(
        self,
        state: State,
        queue: WorkQueue,
        moved: Moved,
        *,
        syncer: Syncer,
        cluster_syncer: ClusterSyncer,
        stores: Stores,
        pushes: Pushes,
        cluster_es: Mapping[str, Mapping[str, Any]],
        metrics: Metrics,
        health: Health,
    ) -> None:
        self.state, self.queue, self.moved = state, queue, moved
        self.syncer, self.cluster_syncer = syncer, cluster_syncer
        self.stores, self.pushes, self._cluster_es = stores, pushes, cluster_es
        self.metrics, self.health = metrics, health
        self.stopping = threading.Event()
        self.syncs = Counter("secretsync_syncs_performed_total", "Syncs the workers ran.")
        metrics.extra.append(self.syncs)

    def work(self) -> None:
        while not self.stopping.is_set():
            key = self.queue.get(timeout=1.0)
            if key is None:
                continue
            self._sync(key)  # type: ignore[arg-type]

    def _sync_other(self, key: OtherKey) -> None:
        retry: float | None = None
        failed = False
        started = time.monotonic()
        kind = key[1] if key[0] == "store" else "ClusterExternalSecret"
        try:
            if key[0] == "store":
                self.stores.validate(key)
            elif key[0] == "push":
                retry = self.pushes.run(key)
            elif key[3] in self._cluster_es and self.stores.reconciles_ces(
                self._cluster_es[key[3]]
            ):
                retry = self.cluster_syncer.sync(self._cluster_es[key[3]])
        except Exception:
            log.exception("sync crashed", extra={"object": key[3]})
            failed = True
        finally:
            self.queue.done(key, failed=failed, retry_after=retry)
        if self._tracked(key):
            seconds = time.monotonic() - started
            self.metrics.object_reconciled(kind, key[2], key[3], seconds, failed=failed)

    def _tracked(self, key: OtherKey) -> bool:
        """A store or ClusterExternalSecret that exists and is ours, so has metrics."""
        if key[0] == "store":
            raw = self.stores.raw((key[1], key[2], key[3]))
        else:
            raw = self._cluster_es.get(key[3])
        return raw is not None and self.stores.ours(raw)

    def _reconciles(self, key: Key, raw: Mapping[str, Any]) -> bool:
        """Whether this ExternalSecret is ours (its stores' class); marks it done when not."""
        try:
            ours = self.stores.reconciles_es(raw)
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
        moved = self.moved.take(key)
        started = time.monotonic()
        try:
            result = self.syncer.sync(raw, source_moved=moved)
        except Retryable as exc:
            # The apiserver away or busy (a restart, etcd down): retried with backoff like any
            # failure, but it is no crash, and 200 ExternalSecrets logged 800 of them as one.
            log.warning(
                "sync interrupted; retrying",
                extra={"object": f"{key[0]}/{key[1]}", "reason": type(exc).__name__},
            )
            self._reconciled(key, True, started)
            self.queue.done(key, failed=True)
            return
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
