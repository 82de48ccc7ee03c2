"""ExternalSecrets whose source moved (a Git push, a store handed over to us): their next
sync runs now and fetches again, not at their next refresh."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from secretsync.operator.state import Key


class Moved:
    """A set shared by the event handlers (which add) and the workers (which take)."""

    def __init__(self) -> None:
        self._keys: set[Key] = set()
        self._lock = threading.Lock()

    def add(self, keys: Iterable[Key]) -> None:
        with self._lock:
            self._keys.update(keys)

    def discard(self, key: Key) -> None:
        with self._lock:
            self._keys.discard(key)

    def take(self, key: Key) -> bool:
        """Whether the key's source moved; it is forgotten either way."""
        with self._lock:
            moved = key in self._keys
            self._keys.discard(key)
        return moved
