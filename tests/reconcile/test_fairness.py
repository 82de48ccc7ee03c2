"""The work queue's fairness, decided by the pure Lanes and driven on a simulated clock: no
namespace with many due keys and no slow store delays another namespace's key."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable

import pytest

from secretsync import limits
from secretsync.reconcile.fairness import Lane, Lanes
from secretsync.reconcile.queue import WorkQueue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def never_full(lane: Lane) -> bool:
    return False


def test_namespaces_take_turns_whatever_their_backlog() -> None:
    lanes = Lanes()
    for i in range(100):
        lanes.push(("big", f"es-{i}"), ("big", "SecretStore/vault"))
    lanes.push(("small", "one"), ("small", "SecretStore/vault"))
    first = [lanes.pick(never_full) for _ in range(3)]
    assert [p[0] for p in first if p] == [("big", "es-0"), ("small", "one"), ("big", "es-1")]
    assert len(lanes) == 98


def test_stores_take_turns_inside_a_namespace() -> None:
    lanes = Lanes()
    for i in range(5):
        lanes.push(f"slow-{i}", ("team", "SecretStore/slow"))
    lanes.push("fast-0", ("team", "SecretStore/fast"))
    lanes.push("fast-1", ("team", "SecretStore/fast"))
    order = [lanes.pick(never_full) for _ in range(4)]
    assert [p[0] for p in order if p] == ["slow-0", "fast-0", "slow-1", "fast-1"]


def test_a_full_store_is_passed_over_and_nothing_is_lost() -> None:
    lanes = Lanes()
    lanes.push("a", ("team", "SecretStore/slow"))
    lanes.push("b", ("team", "SecretStore/slow"))
    lanes.push("c", ("other", "SecretStore/fast"))

    def slow_full(lane: Lane) -> bool:
        return lane[1] == "SecretStore/slow"

    assert lanes.pick(slow_full) == ("c", ("other", "SecretStore/fast"))
    assert lanes.pick(slow_full) is None
    assert len(lanes) == 2
    assert [lanes.pick(never_full), lanes.pick(never_full)] == [
        ("a", ("team", "SecretStore/slow")),
        ("b", ("team", "SecretStore/slow")),
    ]
    assert lanes.pick(never_full) is None


def test_a_discarded_key_is_never_handed_out_and_may_come_back() -> None:
    lanes = Lanes()
    lanes.push("a", ("ns", "s"))
    lanes.push("b", ("ns", "s"))
    lanes.discard("a")
    assert "a" not in lanes
    lanes.push("a", ("ns", "other"))
    picked = [lanes.pick(never_full), lanes.pick(never_full)]
    assert {p[0] for p in picked if p} == {"a", "b"}
    assert lanes.pick(never_full) is None and len(lanes) == 0


def test_pushing_a_waiting_key_keeps_its_place() -> None:
    lanes = Lanes()
    lanes.push("a", ("ns", "s"))
    lanes.push("b", ("ns", "s"))
    lanes.push("a", ("ns", "s"))
    assert [lanes.pick(never_full), lanes.pick(never_full), lanes.pick(never_full)] == [
        ("a", ("ns", "s")),
        ("b", ("ns", "s")),
        None,
    ]


class Simulation:
    """`workers` simulated workers on the queue, each sync taking `seconds_for(key)`."""

    def __init__(
        self,
        queue: WorkQueue,
        clock: Clock,
        workers: int,
        seconds_for: Callable[[Hashable], float],
    ) -> None:
        self.queue, self.clock, self.free, self.seconds_for = queue, clock, workers, seconds_for
        self.running: list[tuple[float, int, Hashable]] = []
        self.finished: dict[Hashable, float] = {}
        self._seq = 0

    def run(self, until: Callable[[], bool]) -> None:
        while True:
            while self.free:
                key = self.queue.get(timeout=0)
                if key is None:
                    break
                self.free -= 1
                self._seq += 1
                ends = self.clock.now + self.seconds_for(key)
                heapq.heappush(self.running, (ends, self._seq, key))
            if until():
                return
            assert self.running, "nothing runs and nothing is due: a key was lost"
            self.clock.now, _, key = heapq.heappop(self.running)
            self.finished[key] = self.clock.now
            self.queue.done(key)
            self.free += 1

    def run_to(self, time: float) -> None:
        """Every sync that ends by `time` ends; then the clock stands at `time`."""
        self.run(until=lambda: not self.running or self.running[0][0] > time)
        self.clock.now = time


def lane_of(key: Hashable) -> Lane:
    assert isinstance(key, tuple)
    return (key[0], "SecretStore/slow" if key[0] == "big" else "SecretStore/fast")


@pytest.mark.parametrize("backlog", [500, 5000])
def test_a_lone_key_is_not_delayed_by_a_slow_store_with_a_backlog(backlog: int) -> None:
    clock = Clock()
    workers = 32
    cap = limits.store_concurrency(workers, None)
    queue = WorkQueue(clock, lane_of=lane_of, store_cap=cap)
    for i in range(backlog):
        queue.add(("big", f"es-{i}"))

    def seconds_for(key: Hashable) -> float:
        return 5.0 if lane_of(key)[1] == "SecretStore/slow" else 0.05

    # Every worker the slow store may hold is busy for 5 s when the lone key arrives.
    sim = Simulation(queue, clock, workers, seconds_for)
    sim.run_to(7.0)
    # The backlog has its share of workers: the capped number of syncs every 5 s.
    assert len(sim.finished) == cap and len(sim.running) == cap
    arrived = clock.now
    queue.add(("small", "one"))
    sim.run(until=lambda: ("small", "one") in sim.finished)
    assert sim.finished[("small", "one")] - arrived == pytest.approx(0.05)


def test_without_a_store_cap_a_slow_store_holds_every_worker() -> None:
    """The property above depends on the cap: without one the lone key waits for a slow
    sync to finish (what the cap exists to prevent)."""
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane_of, store_cap=None)
    for i in range(500):
        queue.add(("big", f"es-{i}"))

    def seconds_for(key: Hashable) -> float:
        return 5.0 if key[0] == "big" else 0.05  # type: ignore[index]

    sim = Simulation(queue, clock, 32, seconds_for)
    sim.run_to(7.0)
    arrived = clock.now
    queue.add(("small", "one"))
    sim.run(until=lambda: ("small", "one") in sim.finished)
    assert sim.finished[("small", "one")] - arrived == pytest.approx(3.05)


def test_the_slow_store_keeps_at_most_its_cap_of_workers() -> None:
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane_of, store_cap=4)
    for i in range(20):
        queue.add(("big", f"es-{i}"))
    taken = [queue.get(timeout=0) for _ in range(6)]
    assert taken[:4] == [("big", f"es-{i}") for i in range(4)]
    assert taken[4:] == [None, None]
    queue.done(("big", "es-0"))
    assert queue.get(timeout=0) == ("big", "es-4")
    assert queue.ready() == 15


def test_keys_of_no_store_are_never_capped() -> None:
    clock = Clock()
    queue = WorkQueue(clock, store_cap=1)
    queue.add(("store", "SecretStore", "ns", "a"))
    queue.add(("store", "SecretStore", "ns", "b"))
    assert queue.get(timeout=0) is not None and queue.get(timeout=0) is not None


def test_queue_semantics_survive_the_lanes() -> None:
    """One worker per key; re-adding an in-flight key runs it again after; forget drops a
    waiting key; failures back off; a later refresh waits for its time."""
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane_of, store_cap=2)
    queue.add(("small", "a"))
    assert queue.get(timeout=0) == ("small", "a")
    queue.add(("small", "a"))
    assert queue.get(timeout=0) is None
    queue.done(("small", "a"), retry_after=30.0)
    assert queue.get(timeout=0) == ("small", "a")
    queue.done(("small", "a"), failed=True)
    assert queue.get(timeout=0) is None
    clock.now += 2.0
    assert queue.get(timeout=0) == ("small", "a")
    queue.done(("small", "a"), retry_after=30.0)
    queue.add(("small", "b"))
    queue.forget(("small", "b"))
    clock.now += 29.0
    assert queue.get(timeout=0) is None
    assert len(queue) == 1
    clock.now += 1.0
    assert queue.get(timeout=0) == ("small", "a")
