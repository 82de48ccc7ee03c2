"""Coalescing of single-key reads into batch calls, across ExternalSecrets.

The operator's workers sync different ExternalSecrets at once; each one reads its own key.
Against a provider that can batch (AWS BatchGetSecretValue, GetParameters), the first read to
arrive opens a short window, and every read arriving within it rides in the same call. At
refresh time, when many keys come due together, that turns N calls into about N/20.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future

from secretsync.api.sources import Find, RemoteRef
from secretsync.errors import SecretSyncError
from secretsync.providers.base import BatchProvider

WINDOW_SECONDS = 0.1
MAX_BATCH = 20


class Coalescing:
    """A BatchProvider whose `get` joins concurrent callers into one `get_many`."""

    def __init__(
        self,
        inner: BatchProvider,
        *,
        window: float = WINDOW_SECONDS,
        max_batch: int = MAX_BATCH,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._inner, self._window, self._max, self._sleep = inner, window, max_batch, sleep
        self._lock = threading.Lock()
        self._open: list[tuple[RemoteRef, Future[bytes]]] | None = None

    def get(self, ref: RemoteRef) -> bytes:
        future: Future[bytes] = Future()
        with self._lock:
            batch = self._open
            leader = batch is None
            if batch is None:
                batch = self._open = []
            batch.append((ref, future))
            send = len(batch) >= self._max and self._close(batch)
        if leader and not send:
            self._sleep(self._window)
            with self._lock:
                # A window filled up meanwhile was sent by whoever filled it; the window open
                # now belongs to a later leader, whose callers must keep their full wait.
                send = self._close(batch)
        if send:
            self._send(batch)
        return future.result()

    def _close(self, batch: list[tuple[RemoteRef, Future[bytes]]]) -> bool:
        """Close `batch` if it is still the open window (call with the lock held)."""
        if self._open is not batch:
            return False
        self._open = None
        return True

    def _send(self, batch: list[tuple[RemoteRef, Future[bytes]]]) -> None:
        try:
            found = self._inner.get_many([ref for ref, _ in batch])
        except SecretSyncError as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        for ref, future in batch:
            value = found.get(ref)
            if isinstance(value, bytes):
                future.set_result(value)
            else:
                future.set_exception(value or SecretSyncError("no value returned"))

    def get_many(self, refs: Iterable[RemoteRef]) -> dict[RemoteRef, bytes | SecretSyncError]:
        return self._inner.get_many(refs)

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        return self._inner.get_map(ref)

    def find(self, query: Find) -> dict[str, bytes]:
        return self._inner.find(query)

    def version(self, ref: RemoteRef) -> str | None:
        return self._inner.version(ref)

    def validate(self) -> None:
        self._inner.validate()

    def close(self) -> None:
        self._inner.close()
