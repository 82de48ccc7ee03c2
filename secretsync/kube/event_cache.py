"""Which Event object an occurrence updates, and whether it is written now: the decisions of
client-go's EventCorrelator (tools/record), in memory, with no I/O.

- Deduplication: occurrences alike in involved object, type, reason and message share one
  Event object; each one after the first raises its count and lastTimestamp.
- Similar events: when one object's (type, reason) has shown `similar` (10) different messages
  within `window` (10 min) of each other, the rest go to one Event whose message is prefixed
  "(combined from similar events): ", so a message that varies cannot mint objects without end.
- Spam filter: a token bucket per involved object, `burst` (25) writes then one per `refill`
  (300 s). An occurrence that finds the bucket empty is not written, but still counted: the next
  write carries the true count.

Unlike client-go, the Event's name is not a timestamp but derived from what it deduplicates on,
so a restarted operator or a new leader finds the same object (see EventRecorder) instead of
starting a second one. All three caches are LRUs of `entries` (4,096) keys: bounded memory,
and patching an Event needs no GET.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

COMBINED = "(combined from similar events): "
_NAME_MAX = 253
_DIGEST = 16

K = TypeVar("K")
V = TypeVar("V")


@dataclasses.dataclass(frozen=True)
class Occurrence:
    """One thing that happened to one object, as a recorder is asked to post it."""

    namespace: str
    kind: str
    name: str
    uid: str
    api_version: str
    type: str
    reason: str
    message: str

    def about(self) -> tuple[str, ...]:
        return (self.namespace, self.kind, self.name, self.uid, self.api_version)


@dataclasses.dataclass(frozen=True)
class Write:
    """What to write: the Event object `name` with this message, count and timestamps."""

    key: tuple[str, ...]
    name: str
    message: str
    count: int
    first: datetime.datetime
    last: datetime.datetime


@dataclasses.dataclass
class _Seen:
    count: int
    first: datetime.datetime


@dataclasses.dataclass
class _Similar:
    messages: set[str]
    last: datetime.datetime


@dataclasses.dataclass
class _Bucket:
    tokens: float
    at: datetime.datetime


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size, self._items = size, OrderedDict[K, V]()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def event_name(object_name: str, key: tuple[str, ...]) -> str:
    """`<object>.<digest of the key>`: a valid DNS subdomain of at most 253 characters."""
    digest = hashlib.sha256("\x00".join(key).encode()).hexdigest()[:_DIGEST]
    prefix = object_name[: _NAME_MAX - _DIGEST - 1].rstrip(".-")
    return f"{prefix}.{digest}" if prefix else digest


class Correlator:
    def __init__(
        self,
        *,
        entries: int = 4096,
        burst: int = 25,
        refill: float = 300.0,
        similar: int = 10,
        window: float = 600.0,
    ) -> None:
        self._burst, self._refill, self._similar, self._window = burst, refill, similar, window
        self._seen: _Lru[tuple[str, ...], _Seen] = _Lru(entries)
        self._groups: _Lru[tuple[str, ...], _Similar] = _Lru(entries)
        self._buckets: _Lru[tuple[str, ...], _Bucket] = _Lru(entries)
        # The operator's handlers run on several threads; every decision is under one lock.
        self._lock = threading.Lock()

    def observe(self, occurrence: Occurrence, now: datetime.datetime) -> Write | None:
        """Count the occurrence; what to write now, or None when the spam filter holds it."""
        with self._lock:
            key, message = self._aggregate(occurrence, now)
            seen = self._seen.get(key)
            if seen is None:
                seen = _Seen(0, now)
            seen.count += 1
            self._seen.put(key, seen)
            if not self._take(occurrence.about(), now):
                return None
            return Write(
                key, event_name(occurrence.name, key), message, seen.count, seen.first, now
            )

    def adopt(self, write: Write, count: int, first: datetime.datetime) -> Write:
        """The Event already existed (written before a restart, or by another replica): go on
        from its count and first timestamp."""
        with self._lock:
            seen = self._seen.get(write.key) or _Seen(count, first)
            seen.count, seen.first = max(seen.count, count), first
            self._seen.put(write.key, seen)
            return dataclasses.replace(write, count=seen.count, first=first)

    def sizes(self) -> tuple[int, int, int]:
        """How many keys each cache holds (deduplication, similar messages, spam buckets)."""
        with self._lock:
            return len(self._seen), len(self._groups), len(self._buckets)

    def _aggregate(
        self, occurrence: Occurrence, now: datetime.datetime
    ) -> tuple[tuple[str, ...], str]:
        group = (*occurrence.about(), occurrence.type, occurrence.reason)
        similar = self._groups.get(group)
        if similar is None or (now - similar.last).total_seconds() > self._window:
            similar = _Similar(set(), now)
        similar.messages.add(occurrence.message)
        similar.last = now
        self._groups.put(group, similar)
        if len(similar.messages) < self._similar:
            return (*group, "message", occurrence.message), occurrence.message
        # Keep the set bounded, as client-go does: from here on it stays at the threshold.
        others = similar.messages - {occurrence.message}
        if others:
            similar.messages.discard(next(iter(others)))
        return (*group, "combined"), COMBINED + occurrence.message

    def _take(self, about: tuple[str, ...], now: datetime.datetime) -> bool:
        bucket = self._buckets.get(about)
        if bucket is None:
            bucket = _Bucket(float(self._burst), now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(self._burst), bucket.tokens + elapsed / self._refill)
        bucket.at = now
        self._buckets.put(about, bucket)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
