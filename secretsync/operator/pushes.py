"""Git pushes (from the webhook receiver) and PushSecrets: what each queues, and the run of a
PushSecret of our class (reconcile/push.py) or of a ClusterPushSecret (reconcile/cluster_pusher.py:
its PushSecrets, each then run as any other)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.sops import SopsProvider
from secretsync.errors import ConfigError
from secretsync.gitsource.push import Push
from secretsync.gitsource.registry import Repositories
from secretsync.gitsource.source import revision_from
from secretsync.operator.moved import Moved
from secretsync.operator.state import Key, State
from secretsync.reconcile import classes, cluster_push, unserved
from secretsync.reconcile.cluster_pusher import ClusterPusher
from secretsync.reconcile.ports import Events, StatusWriter
from secretsync.reconcile.push import Pusher
from secretsync.reconcile.queue import WorkQueue

PushKey = tuple[str, str, str | None, str]
"""("push", kind, namespace, name)."""


def _follows(provider: object, pushed: Push) -> bool:
    """A SOPS store that fetches the pushed repository and ref."""
    if not isinstance(provider, SopsProvider):
        return False
    try:
        revision = revision_from(provider.git.ref, "spec.provider.sops.git.ref")
    except ConfigError:
        return False  # reported on the store already
    return pushed.affects(provider.git.url, revision)


class Pushes:
    def __init__(
        self,
        state: State,
        queue: WorkQueue,
        moved: Moved,
        *,
        statuses: StatusWriter,
        events: Events,
        repositories: Repositories | None,
        class_of: Callable[[classes.StoreKey], str | None],
        controller_class: str,
        pusher: Pusher | None = None,
        cluster_pusher: ClusterPusher | None = None,
    ) -> None:
        self.state, self.queue, self.moved = state, queue, moved
        self.statuses, self.events = statuses, events
        self._repositories = repositories
        self._class_of = class_of
        self.controller_class = controller_class
        self._pusher = pusher
        self._cluster_pusher = cluster_pusher
        self._pushes: dict[PushKey, dict[str, Any]] = {}
        self._announced: dict[object, object] = {}
        """uid -> the generation whose Unsupported condition and Event we wrote."""

    def on_git_push(self, pushed: Push) -> int:
        """A Git host says a repository moved: fetch it again at the next read, and sync every
        ExternalSecret that reads a store following the pushed ref now, not at its next refresh.
        Returns how many were queued."""
        if self._repositories is not None:
            self._repositories.changed(lambda remote: pushed.affects(remote.url, remote.revision))
        keys: set[Key] = set()
        for (kind, namespace, name), store in self.state.stores():
            if _follows(store.spec.provider, pushed):
                keys.update(self.state.users_of(kind, namespace, name))
        self.moved.add(keys)
        for key in keys:
            self.queue.add(key)
        return len(keys)

    def on_push_secret(self, event_type: str | None, raw: Mapping[str, Any]) -> None:
        """A PushSecret or ClusterPushSecret, run by a worker."""
        meta = raw.get("metadata") or {}
        key = ("push", str(raw.get("kind")), meta.get("namespace"), str(meta.get("name")))
        old = self._pushes.get(key)
        if event_type != "DELETED" and old is not None and _same(old, raw):
            self._pushes[key] = dict(raw)
            return  # our own status patch coming back: not a reason to push again
        if event_type == "DELETED":
            self._pushes.pop(key, None)
            self._announced.pop(meta.get("uid"), None)
            self.queue.forget(key)
            return
        self._pushes[key] = dict(raw)
        self.queue.add(key)

    def run(self, key: PushKey) -> float | None:
        """A PushSecret of our class is pushed; returns seconds until its next run."""
        if key[1] == "ClusterPushSecret" and self._cluster_pusher is not None:
            return self._run_cluster(key, self._cluster_pusher)
        if key[1] != "PushSecret" or self._pusher is None:
            self.mark(key)
            return None
        raw = self._pushes.get(key)
        refs = None if raw is None else unserved.store_refs(raw)
        if raw is None or refs is None:
            return None
        if not classes.reconciles(refs, self._class_of, self.controller_class):
            return None
        return self._pusher.run(raw)

    def _run_cluster(self, key: PushKey, pusher: ClusterPusher) -> float | None:
        """Run unless a ClusterSecretStore it names is another operator's: SecretStores are
        each namespace's, and each child PushSecret is judged by its own stores."""
        raw = self._pushes.get(key)
        if raw is None:
            return None
        refs = cluster_push.cluster_store_refs(raw)
        if not classes.reconciles(refs, self._class_of, self.controller_class):
            return None
        return pusher.run(raw)

    def mark(self, key: PushKey) -> None:
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
        uid, generation = meta.get("uid"), meta.get("generation")
        if new is None or self._announced.get(uid, object()) == generation:
            return  # it says so already (our patch may not be in this cached copy yet)
        plural = unserved.PLURALS[key[1]]
        self.statuses.patch_status(plural, key[2], key[3], new, version=unserved.VERSION)
        self.events.record(raw, key[1], "Unsupported", message, warning=True)
        self._announced[uid] = generation


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Nothing the push depends on changed: spec (generation), finalizers, deletion."""

    def view(raw: Mapping[str, Any]) -> tuple[Any, ...]:
        meta = raw.get("metadata") or {}
        return (meta.get("generation"), meta.get("deletionTimestamp"), meta.get("finalizers"))

    return view(old) == view(new)
