"""A keyed, delaying work queue with per-key backoff, as client-go's rate-limited queue works:

- a key is processed by one worker at a time; adding it while in flight re-queues it after;
- adding a key that is already waiting keeps the earlier due time;
- failures back off exponentially per key, capped, with jitter so retries do not align;
- due keys are handed out fairly (secretsync.reconcile.fairness): namespaces in turn, stores in
  turn inside a namespace, and no store holds more than `store_cap` workers at once;
- when a store answers again after failures (a key of it succeeds right after one failed), its
  other failing keys are retried at once instead of waiting out a backoff that an outage grew
  to minutes. Each failing key is brought forward once per failure streak, so a key that fails
  for a reason of its own (a missing remote key) costs one extra try, not a retry loop.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable, Hashable

from secretsync.reconcile.fairness import Lane, Lanes

Key = Hashable


def no_lane(key: Key) -> Lane:
    return ("", "")


def backoff(
    failures: int,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Capped exponential backoff with ±25% jitter."""
    delay = min(cap, base * (2 ** max(0, failures - 1)))
    return float(delay * (0.75 + 0.5 * rand()))


class WorkQueue:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        lane_of: Callable[[Key], Lane] = no_lane,
        store_cap: int | None = None,
    ) -> None:
        """`lane_of` tells a key's (namespace, store) when it comes due; `store_cap` is how
        many keys of one store may be in flight at once (None: no cap). Keys of the lane
        ("", "") (stores themselves, ClusterExternalSecrets) are never capped."""
        self._clock = clock
        self._lane_of, self._store_cap = lane_of, store_cap
        self._heap: list[tuple[float, int, Key]] = []
        self._due: dict[Key, float] = {}
        """Keys waiting: scheduled in the heap, or due and waiting in a lane."""
        self._lanes = Lanes()
        self._in_flight: dict[Key, Lane] = {}
        self._busy: dict[str, int] = {}
        """Keys in flight per store (lane[1]): a ClusterSecretStore's cap spans namespaces."""
        self._again: dict[Key, float] = {}
        self._failures: dict[Key, int] = {}
        self._failing: dict[Key, str] = {}
        """Failing keys of a store (lane[1]) not yet brought forward in their failure streak."""
        self._store_failed: dict[str, bool] = {}
        """Whether the last key of the store to finish failed."""
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False

    def add(self, key: Key, delay: float = 0.0) -> None:
        with self._cond:
            due = self._clock() + max(0.0, delay)
            if key in self._in_flight:
                self._again[key] = min(due, self._again.get(key, due))
                return
            if key in self._due and (self._due[key] <= due or key in self._lanes):
                return
            self._due[key] = due
            heapq.heappush(self._heap, (due, next(self._seq), key))
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Key | None:
        """The next due key, or None when closed or after `timeout` seconds."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while not self._closed:
                now = self._clock()
                self._promote(now)
                picked = self._lanes.pick(self._full)
                if picked is not None:
                    key, lane = picked
                    del self._due[key]
                    self._in_flight[key] = lane
                    self._busy[lane[1]] = self._busy.get(lane[1], 0) + 1
                    return key
                wait = self._heap[0][0] - now if self._heap else None
                if deadline is not None:
                    left = deadline - now
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)
            return None

    def _drop_stale(self) -> None:
        # Entries superseded by an earlier due time, or forgotten keys, stay in the heap.
        while self._heap and (
            self._due.get(self._heap[0][2]) != self._heap[0][0] or self._heap[0][2] in self._lanes
        ):
            heapq.heappop(self._heap)

    def _promote(self, now: float) -> None:
        """Keys whose time has come move from the heap to their lanes."""
        self._drop_stale()
        while self._heap and self._heap[0][0] <= now:
            _, _, key = heapq.heappop(self._heap)
            self._lanes.push(key, self._lane_of(key))
            self._drop_stale()

    def _full(self, lane: Lane) -> bool:
        if self._store_cap is None or lane[1] == "":
            return False
        return self._busy.get(lane[1], 0) >= self._store_cap

    def done(self, key: Key, *, failed: bool = False, retry_after: float | None = None) -> None:
        """Finish a key. A failure schedules a retry with backoff; success resets the count and
        schedules `retry_after` (the next refresh) when given."""
        with self._cond:
            lane = self._in_flight.pop(key, None)
            if lane is not None:
                self._busy[lane[1]] -= 1
                if not self._busy[lane[1]]:
                    del self._busy[lane[1]]
                # A worker waiting on a full store may take one of its keys now.
                self._cond.notify()
            if failed:
                self._failures[key] = self._failures.get(key, 0) + 1
                retry_after = backoff(self._failures[key])
                if lane is not None and lane[1] and self._failures[key] == 1:
                    self._failing[key] = lane[1]
            else:
                self._failures.pop(key, None)
                self._failing.pop(key, None)
            recovered = self._recovered(lane, failed)
            again = self._again.pop(key, None)
        if again is not None:
            self.add(key, max(0.0, again - self._clock()))
        if retry_after is not None:
            self.add(key, retry_after)
        for other in recovered:
            self.add(other)

    def _recovered(self, lane: Lane | None, failed: bool) -> list[Key]:
        """The store's failing keys to retry now, when this success follows a failure on it."""
        if lane is None or not lane[1]:
            return []
        store = lane[1]
        was_failing = self._store_failed.get(store, False)
        self._store_failed[store] = failed
        if failed or not was_failing:
            return []
        woken = [k for k, s in self._failing.items() if s == store]
        for key in woken:
            del self._failing[key]
        return woken

    def forget(self, key: Key) -> None:
        with self._cond:
            self._due.pop(key, None)
            self._lanes.discard(key)
            self._again.pop(key, None)
            self._failures.pop(key, None)
            self._failing.pop(key, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def ready(self) -> int:
        """Keys due now and waiting for a worker (controller-runtime's workqueue depth); the
        ones scheduled for a later refresh are not counted."""
        now = self._clock()
        with self._cond:
            return sum(1 for due in self._due.values() if due <= now)

    def __len__(self) -> int:
        with self._cond:
            return len(self._due)
