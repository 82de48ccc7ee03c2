"""What the operator knows between events: the latest ExternalSecrets and stores it was sent,
and the indexes that map a changed Secret or store back to the ExternalSecrets it concerns.

Only objects' specs and metadata are kept here, never Secret data.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.objects import CLUSTER_SECRET_STORE, SecretStore, parse_store
from secretsync.api.sources import StoreKind
from secretsync.errors import ConfigError, NotFound, Unsupported
from secretsync.reconcile import classes
from secretsync.resolve.generated import GeneratorSource
from secretsync.resolve.resolver import StoreLookup

Key = tuple[str, str]
StoreKey = tuple[str, str | None, str]


def es_key(raw: Mapping[str, Any]) -> Key:
    meta = raw.get("metadata") or {}
    return (str(meta.get("namespace")), str(meta.get("name")))


def _identity(raw: Mapping[str, Any]) -> tuple[Any, ...]:
    meta = raw.get("metadata") or {}
    return (
        meta.get("generation"),
        sorted((meta.get("labels") or {}).items()),
        sorted((meta.get("annotations") or {}).items()),
    )


def _copy(value: Any) -> Any:
    """A deep copy of a JSON document: its objects and arrays copied, its scalars shared (they
    are immutable). Several times faster than copy.deepcopy, which is called for every event
    and several times per sync; anything else is left to copy.deepcopy."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def _without_managed_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The object without metadata.managedFields, which nothing here reads: each field
    manager's entry (the creator's, our status writes') is most of a small ExternalSecret, and
    it was copied on every event and every sync, and kept for every object."""
    meta = raw.get("metadata")
    if not isinstance(meta, Mapping) or "managedFields" not in meta:
        return dict(raw)
    return {**raw, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


class State:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._es: dict[Key, dict[str, Any]] = {}
        self._seen: dict[Key, tuple[Any, ...]] = {}
        self._targets: dict[tuple[str, str], Key] = {}
        self._stores: dict[StoreKey, SecretStore] = {}

    def put_es(self, raw: Mapping[str, Any]) -> bool:
        """Remember the latest object; True when its spec, labels or annotations changed (a
        status-only update, such as our own, is not a reason to sync)."""
        key = es_key(raw)
        target = ((raw.get("spec") or {}).get("target") or {}).get("name") or key[1]
        with self._lock:
            self._es[key] = _copy(_without_managed_fields(raw))
            self._targets[(key[0], str(target))] = key
            identity = _identity(raw)
            changed = self._seen.get(key) != identity
            self._seen[key] = identity
            return changed

    def drop_es(self, key: Key) -> None:
        with self._lock:
            self._es.pop(key, None)
            self._seen.pop(key, None)
            for target in [t for t, k in self._targets.items() if k == key]:
                del self._targets[target]

    def get_es(self, key: Key) -> dict[str, Any] | None:
        with self._lock:
            found = self._es.get(key)
            return _copy(found) if found is not None else None

    def owner_of(self, namespace: str, secret_name: str) -> Key | None:
        with self._lock:
            return self._targets.get((namespace, secret_name))

    def put_store(self, raw: Mapping[str, Any]) -> SecretStore:
        store = parse_store(raw)
        scope = None if store.kind == CLUSTER_SECRET_STORE else store.metadata.namespace
        with self._lock:
            self._stores[(store.kind, scope, store.metadata.name)] = store
        return store

    def drop_store(self, kind: str, namespace: str | None, name: str) -> None:
        with self._lock:
            self._stores.pop(
                (kind, namespace if kind != CLUSTER_SECRET_STORE else None, name), None
            )

    def cached_store(self, key: StoreKey) -> SecretStore | None:
        with self._lock:
            return self._stores.get(key)

    def stores(self) -> list[tuple[StoreKey, SecretStore]]:
        with self._lock:
            return list(self._stores.items())

    def users_of(self, kind: str, namespace: str | None, name: str) -> list[Key]:
        wanted = (kind, None if kind == CLUSTER_SECRET_STORE else namespace, name)
        with self._lock:
            return [key for key, raw in self._es.items() if wanted in classes.store_refs(raw)]

    def keys(self) -> list[Key]:
        with self._lock:
            return list(self._es)


class CachedLookup:
    """Stores from the watch cache (no API call per sync), with the cluster as a fallback for
    a store not seen yet; namespace labels cached for a minute. A store of another controller
    class is refused, as ESO's client manager refuses an "unmanaged store"."""

    def __init__(
        self,
        state: State,
        cluster: StoreLookup,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = 60.0,
        controller_class: str = classes.DEFAULT_CLASS,
    ) -> None:
        self._state, self._cluster, self._clock, self._ttl = state, cluster, clock, ttl
        self._class = controller_class
        self._labels: dict[str, tuple[float, Mapping[str, str]]] = {}

    def store(self, kind: StoreKind, namespace: str, name: str) -> SecretStore:
        found = self._store(kind, namespace, name)
        klass = found.spec.controller or ""
        if not classes.processes(klass, self._class):
            message = classes.foreign_store_message(kind.value, name, klass, self._class)
            raise ConfigError(message)
        return found

    def _store(self, kind: StoreKind, namespace: str, name: str) -> SecretStore:
        scope = None if kind is StoreKind.CLUSTER_SECRET_STORE else namespace
        found = self._state.cached_store((kind.value, scope, name))
        if found is not None:
            return found
        try:
            return self._cluster.store(kind, namespace, name)
        except Unsupported as exc:
            raise exc.within(f"{kind.value} {name}") from exc
        except ConfigError as exc:
            raise ConfigError(f"{kind.value} {name}: {exc}") from exc
        except NotFound as exc:
            raise NotFound(f"{kind.value} {name} does not exist") from exc

    def raw_generator(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None:
        """Generators are not watched: read on every run, so an edit counts at the next one."""
        if not isinstance(self._cluster, GeneratorSource):
            raise ConfigError("generators can only be read from a cluster")
        return self._cluster.raw_generator(api_version, kind, namespace, name)

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        cached = self._labels.get(namespace)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        labels = self._cluster.namespace_labels(namespace)
        self._labels[namespace] = (self._clock(), labels)
        return labels
