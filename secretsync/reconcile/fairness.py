"""Which due key a free worker takes next, so no namespace or store starves the others.

Due keys wait in lanes: one per namespace, and inside it one per store, each in the order the
keys came due. A worker takes from the namespaces in turn (round-robin), and inside the chosen
namespace from its stores in turn; a store that already holds its cap of workers is passed over
until one of its syncs finishes. So a namespace with 5,000 due ExternalSecrets gets one turn in
each round like a namespace with one, and a store whose calls take 5 s holds at most its cap of
workers while the others keep the rest.

Pure: no clock, no threads, no I/O. secretsync.reconcile.queue holds the lock and the clock.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

Key = Hashable
Lane = tuple[str, str]
"""(namespace, store): "" for a cluster-scoped object's namespace, or a key that reads no
store. The store's name is unique across the cluster (lane_store), so a ClusterSecretStore used
from many namespaces is one store, and a SecretStore is its namespace's own."""


def lane_store(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


class Lanes:
    """Due keys by namespace, then store, each in arrival order, with round-robin turns."""

    def __init__(self) -> None:
        self._namespaces: OrderedDict[str, OrderedDict[str, deque[Key]]] = OrderedDict()
        self._lane_of: dict[Key, Lane] = {}

    def push(self, key: Key, lane: Lane) -> None:
        """A key came due; a key already waiting keeps its place."""
        if key in self._lane_of:
            return
        self._lane_of[key] = lane
        stores = self._namespaces.setdefault(lane[0], OrderedDict())
        stores.setdefault(lane[1], deque()).append(key)

    def discard(self, key: Key) -> None:
        """Forget a waiting key. Its entry stays in its deque and is skipped when reached
        (removing from the middle of a deque would cost a scan per forget)."""
        self._lane_of.pop(key, None)

    def pick(self, full: Callable[[Lane], bool]) -> tuple[Key, Lane] | None:
        """The next key to run and its lane, or None when every waiting key's store is `full`.
        The namespace and the store that were served go to the back of their rounds."""
        for namespace in list(self._namespaces):
            stores = self._namespaces[namespace]
            for store in list(stores):
                if full((namespace, store)):
                    continue
                key = self._take(stores, namespace, store)
                if key is None:
                    continue
                if namespace in self._namespaces:
                    self._namespaces.move_to_end(namespace)
                    if store in stores:
                        stores.move_to_end(store)
                return key, (namespace, store)
        return None

    def _take(self, stores: OrderedDict[str, deque[Key]], namespace: str, store: str) -> Key | None:
        """The first live key of a lane, dropping stale entries and emptied lanes."""
        waiting = stores[store]
        found = None
        while waiting and found is None:
            key = waiting.popleft()
            if self._lane_of.get(key) == (namespace, store):
                del self._lane_of[key]
                found = key
        if not waiting:
            del stores[store]
            if not stores:
                del self._namespaces[namespace]
        return found

    def __len__(self) -> int:
        return len(self._lane_of)

    def __contains__(self, key: object) -> bool:
        return key in self._lane_of
