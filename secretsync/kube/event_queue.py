"""Events posted off the sync path, as client-go's broadcaster does: `record` queues the
occurrence and one thread posts them in order.

A sync that reports with an Event would otherwise wait for one more apiserver round trip, and
with N workers that latency, not CPU, set the pace (docs/benchmarks.md, "Side by side"). The
queue is bounded (client-go's 1,000) and drops what does not fit, as client-go does: Events are
best effort, and a slow apiserver must not make the operator's memory grow. One thread keeps
each Event's create ahead of its patches. A drop streak is said once, when it starts, and its
count when it ends.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

from secretsync.kube.events import EventRecorder

CAPACITY = 1000
log = logging.getLogger(__name__)

_Item = tuple[Mapping[str, Any], str, str, str, bool]


class QueuedEventRecorder(EventRecorder):
    """An EventRecorder whose `record` returns at once; `close` posts what is queued."""

    def __init__(self, *args: Any, capacity: int = CAPACITY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: queue.Queue[_Item | None] = queue.Queue(capacity)
        self._capacity = capacity
        self._dropped = 0
        self._dropping = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._post, name="events", daemon=True)
        self._thread.start()

    def record(
        self,
        involved: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None:
        try:
            self._queue.put_nowait((_reference(involved), kind, reason, message, warning))
        except queue.Full:
            with self._lock:
                self._dropped += 1
                first, self._dropping = not self._dropping, True
            if first:
                log.warning(
                    "events dropped",
                    extra={
                        "reason": f"{self._capacity} Events are waiting for the apiserver; "
                        "new ones are dropped until it catches up (is it overloaded?)"
                    },
                )

    def close(self, timeout: float = 5.0) -> None:
        """Post what is queued, for at most `timeout` seconds, then stop the thread."""
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return  # the thread is a daemon: what is left goes with the process
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def _post(self) -> None:
        while (item := self._queue.get()) is not None:
            involved, kind, reason, message, warning = item
            try:
                super().record(involved, kind, reason, message, warning=warning)
            except Exception:  # a bug here must not end every later Event
                log.exception("event not posted", extra={"reason": reason})
            self._said_drops()

    def _said_drops(self) -> None:
        with self._lock:
            if not self._dropping or self._queue.qsize() >= self._capacity // 2:
                return
            dropped, self._dropped, self._dropping = self._dropped, 0, False
        log.warning("events no longer dropped", extra={"reason": f"{dropped} were dropped"})


def _reference(involved: Mapping[str, Any]) -> dict[str, Any]:
    """What the Event names, copied now: the caller goes on with its object."""
    meta = involved.get("metadata") or {}
    kept = ("name", "namespace", "uid", "resourceVersion")
    return {
        "apiVersion": involved.get("apiVersion"),
        "metadata": {key: meta[key] for key in kept if key in meta},
    }
