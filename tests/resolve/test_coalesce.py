"""Concurrent single-key reads ride in one batch call (pure concurrency logic; the batch
provider here is a plain object recording its calls)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import pytest

from secretsync.api.sources import Find, RemoteRef
from secretsync.errors import NotFound, SecretSyncError, Unavailable
from secretsync.resolve.coalesce import Coalescing


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    def get_many(self, refs: Iterable[RemoteRef]) -> dict[RemoteRef, bytes | SecretSyncError]:
        refs = list(refs)
        self.batches.append([r.key for r in refs])
        if self.fail:
            raise Unavailable("down")
        return {r: NotFound(r.key) if r.key == "missing" else r.key.encode() for r in refs}

    def get(self, ref: RemoteRef) -> bytes:
        raise AssertionError("single reads must go through get_many")

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        return {}

    def find(self, query: Find) -> dict[str, bytes]:
        return {}

    def version(self, ref: RemoteRef) -> str | None:
        return None

    def validate(self) -> None:
        return None

    def close(self) -> None:
        return None


def _concurrently(provider: Coalescing, keys: list[str]) -> dict[str, object]:
    results: dict[str, object] = {}
    start = threading.Barrier(len(keys))

    def read(key: str) -> None:
        start.wait()
        try:
            results[key] = provider.get(RemoteRef(key=key))
        except SecretSyncError as exc:
            results[key] = exc

    threads = [threading.Thread(target=read, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_reads_share_one_call() -> None:
    inner = Recorder()
    keys = [f"k{i}" for i in range(12)]
    results = _concurrently(Coalescing(inner, window=0.2), keys)  # type: ignore[arg-type]
    assert results == {k: k.encode() for k in keys}
    assert len(inner.batches) == 1 and sorted(inner.batches[0]) == sorted(keys)


def test_a_full_batch_goes_at_once_and_the_rest_follow() -> None:
    inner = Recorder()
    keys = [f"k{i}" for i in range(25)]
    results = _concurrently(Coalescing(inner, window=0.2, max_batch=10), keys)  # type: ignore[arg-type]
    assert results == {k: k.encode() for k in keys}
    assert all(len(batch) <= 10 for batch in inner.batches)
    assert sorted(k for batch in inner.batches for k in batch) == sorted(keys)


def test_errors_reach_the_right_callers() -> None:
    results = _concurrently(Coalescing(Recorder(), window=0.1), ["missing", "here"])  # type: ignore[arg-type]
    assert isinstance(results["missing"], NotFound)
    assert results["here"] == b"here"
    with pytest.raises(Unavailable):
        Coalescing(Recorder(fail=True), window=0).get(RemoteRef(key="x"))  # type: ignore[arg-type]


def test_a_leader_waking_late_never_sends_a_later_window() -> None:
    """A fills window 1 with B (B sends it); C opens window 2. When A's wait ends it must leave
    window 2 alone, so D still rides with C: two calls of two, not 2 + 1 + 1."""
    inner = Recorder()
    gates = {name: threading.Event() for name in "AC"}
    asleep = {name: threading.Event() for name in "AC"}

    def sleep(_: float) -> None:
        name = threading.current_thread().name
        asleep[name].set()
        gates[name].wait(5)

    provider = Coalescing(inner, window=1.0, max_batch=2, sleep=sleep)  # type: ignore[arg-type]
    threads = {
        n: threading.Thread(target=provider.get, args=(RemoteRef(key=n),), name=n) for n in "ABCD"
    }

    threads["A"].start()
    asleep["A"].wait(5)
    threads["B"].start()
    threads["B"].join(5)  # window 1 was full: B sent it
    threads["C"].start()
    asleep["C"].wait(5)
    gates["A"].set()  # A wakes while C's window is open
    threads["A"].join(5)
    threads["D"].start()
    threads["D"].join(5)  # D fills window 2 and sends it
    gates["C"].set()
    threads["C"].join(5)

    assert [sorted(b) for b in inner.batches] == [["A", "B"], ["C", "D"]]
