"""When a store answers again after an outage, its failing keys are retried at once rather than
after a backoff the outage grew; a key failing for a reason of its own gets one early try per
failure streak, never a loop."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from secretsync.reconcile.fairness import Lane
from secretsync.reconcile.queue import WorkQueue

pytestmark = pytest.mark.unit

VAULT = "SecretStore/vault"
AWS = "SecretStore/aws"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lane(key: Hashable) -> Lane:
    assert isinstance(key, tuple)
    namespace, name = str(key[0]), str(key[1])
    return (namespace, AWS if name.startswith("aws") else VAULT)


def run(queue: WorkQueue, key: Hashable, *, failed: bool) -> None:
    assert queue.get(timeout=0) == key
    queue.done(key, failed=failed, retry_after=None if failed else 3600.0)


def due_now(queue: WorkQueue) -> set[Hashable]:
    found = set()
    while (key := queue.get(timeout=0)) is not None:
        found.add(key)
    return found


def fail_due_keys(queue: WorkQueue) -> set[Hashable]:
    """Every key due now is taken and fails."""
    taken = due_now(queue)
    for key in taken:
        queue.done(key, failed=True)
    return taken


def test_a_success_after_failures_brings_the_stores_failing_keys_forward() -> None:
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane)
    keys = [("team", f"es-{i}") for i in range(3)] + [("team", "aws-0")]
    for key in keys:
        queue.add(key)
    for _ in range(6):  # an outage: six failures each, backoffs grown to ~32 s
        assert fail_due_keys(queue) == set(keys)
        clock.now += 100.0
    assert fail_due_keys(queue) == set(keys)
    assert due_now(queue) == set()

    clock.now += 10.0
    queue.add(("other", "es-new"))  # a new key of the store syncs: the store answers again
    run(queue, ("other", "es-new"), failed=False)

    # The Vault store's failing keys are due at once; the AWS store's are not.
    assert due_now(queue) == {("team", "es-0"), ("team", "es-1"), ("team", "es-2")}


def test_a_key_failing_on_its_own_gets_one_early_try_per_streak() -> None:
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane)
    broken, healthy = ("team", "es-missing"), [("team", f"es-{i}") for i in range(3)]
    queue.add(broken)
    run(queue, broken, failed=True)
    early = 0
    for healthy_key in healthy * 3:
        queue.add(healthy_key)
        run(queue, healthy_key, failed=False)
        woken = due_now(queue)
        if broken in woken:
            early += 1
            queue.done(broken, failed=True)  # fails again, for its own reason
    assert early == 1


def test_a_success_with_no_failure_before_it_moves_nothing() -> None:
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane)
    failing, fine = ("team", "aws-broken"), ("team", "es-0")
    queue.add(failing)
    run(queue, failing, failed=True)
    queue.add(fine)
    run(queue, fine, failed=False)  # another store's success
    assert due_now(queue) == set()


def test_a_key_that_succeeds_ends_its_streak_and_may_be_brought_forward_again() -> None:
    clock = Clock()
    queue = WorkQueue(clock, lane_of=lane)
    key, other = ("team", "es-0"), ("team", "es-1")
    for _ in range(2):  # two outages, each ending with another key's success
        queue.add(key)
        run(queue, key, failed=True)
        queue.add(other)
        run(queue, other, failed=True)
        clock.now += 0.5  # before their first retry (backoff starts at 0.75 s or more)
        queue.add(("team", "es-2"))
        run(queue, ("team", "es-2"), failed=False)
        assert due_now(queue) == {key, other}
        queue.done(key)
        queue.done(other)
