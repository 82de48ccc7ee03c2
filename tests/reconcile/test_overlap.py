"""The overlap rotation's state machine (reconcile/overlap.py), every step of a rotation with a
crash after it: a new process has only the two durable records (the Secret's lease annotation
and status.rollout), so each step is decided again from them, and must come out the same:
nothing revoked before the consumers are healthy and the grace has passed, nothing forgotten."""

from __future__ import annotations

import dataclasses
import json

import pytest

from secretsync.generators import leases
from secretsync.generators.leases import Action, Lease, Step
from secretsync.reconcile import lease_plan, overlap
from secretsync.reconcile.overlap import RolloutView, Stage

NOW = 1_000_000.0
GRACE = 30.0


def _lease(name: str, data: str = "", **changes: object) -> Lease:
    base = Lease(f"database/creds/app/{name}", "VaultDynamicSecret/db", 60, NOW - 10, NOW + 50,
                 True, data_hash=data)  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _restart(leases_: list[Lease]) -> list[Lease]:
    """A crash and a new process: only what the annotation holds survives."""
    return leases.decode({leases.LEASES_ANNOTATION: leases.encode(leases_)})


def _ids(found: tuple[Lease, ...] | list[Lease]) -> list[str]:
    return [lease.id.rsplit("/", 1)[1] for lease in found]


def _written(previous: list[Lease], new: Lease, data: str) -> list[Lease]:
    recorded, gone = overlap.written(previous, [new], data, overlap=True)
    assert gone == [], "nothing is revoked by a write under overlap"
    return _restart(recorded)


def _after(plan: overlap.Plan) -> list[Lease]:
    """The annotation once the plan's step is recorded (then a crash)."""
    return _restart(list(plan.leases))


# --- the write -------------------------------------------------------------------------------


def test_a_write_keeps_the_superseded_lease_retiring_in_the_same_record() -> None:
    a = _lease("a", "hA")
    recorded = _written([a], _lease("c"), "hC")
    assert [(x, lease.retiring, lease.revoke_at) for x, lease in zip(_ids(recorded), recorded,
            strict=True)] == [("c", False, None), ("a", True, None)]  # fmt: skip
    assert recorded[0].data_hash == "hC" and recorded[1].data_hash == "hA"


def test_without_overlap_the_superseded_lease_goes_at_once() -> None:
    a = _lease("a", "hA")
    recorded, gone = overlap.written([a], [_lease("c")], "hC", overlap=False)
    assert _ids(recorded) == ["c"] and gone == [a]


def test_a_lease_already_pending_keeps_its_time_through_another_write() -> None:
    a = _lease("a", "hA", retiring=True, revoke_at=NOW + 5)
    b = _lease("b", "hB")
    recorded = _written([b, a], _lease("c"), "hC")
    assert {x: lease.revoke_at for x, lease in zip(_ids(recorded), recorded, strict=True)} == {
        "c": None, "b": None, "a": NOW + 5,
    }  # fmt: skip


# --- a rotation that succeeds, crash after every step ----------------------------------------


def _rotation() -> list[Lease]:
    return _written([_lease("a", "hA")], _lease("c"), "hC")


@pytest.mark.parametrize(
    "rollout",
    [
        None,  # killed between the Secret write and the rollout's record
        RolloutView("Succeeded", "hA", finished_at=NOW - 100),  # the previous rotation's record
        RolloutView("Progressing", "hA"),  # a rollout of older data, superseded meanwhile
        RolloutView("Progressing", "hC"),  # the consumers restarting on the new credential
    ],
)
def test_while_the_consumers_are_not_healthy_on_the_new_data_nothing_is_revoked(
    rollout: RolloutView | None,
) -> None:
    state = _rotation()
    for now in (NOW, NOW + 10, NOW + 45):  # however long it takes, short of the expiry
        plan = overlap.decide(state, rollout, now, GRACE)
        assert plan.revoke == () and plan.scheduled == ()
        assert plan.stage is Stage.ROLLING
        assert plan.wake_at == pytest.approx(now + overlap.POLL_SECONDS)
        assert _after(plan) == state


def test_healthy_then_pending_until_the_end_plus_grace_then_revoked() -> None:
    state = _rotation()
    done = RolloutView("Succeeded", "hC", finished_at=NOW + 2)
    plan = overlap.decide(state, done, NOW + 3, GRACE)
    assert _ids(plan.scheduled) == ["a"] and plan.scheduled[0].revoke_at == NOW + 2 + GRACE
    assert plan.revoke == () and plan.stage is Stage.GRACE and plan.changed
    assert plan.wake_at == NOW + 2 + GRACE
    assert "pending revocation until" not in overlap.pending_message(plan.scheduled)
    assert overlap.pending_message(plan.scheduled).endswith("Z")
    # Killed after recording the time: the new process keeps it, and does not revoke early.
    state = _after(plan)
    for now in (NOW + 3, NOW + 31.9):
        again = overlap.decide(state, done, now, GRACE)
        assert again.revoke == () and again.scheduled == () and not again.changed
        assert _after(again) == state
    # Killed before recording the time: the same time comes out of the same records.
    replay = overlap.decide(_rotation(), done, NOW + 20, GRACE)
    assert replay.scheduled[0].revoke_at == NOW + 2 + GRACE
    # At the time: revoked, and the annotation lets go of it.
    due = overlap.decide(state, done, NOW + 2 + GRACE, GRACE)
    assert _ids(due.revoke) == ["a"] and _ids(due.leases) == ["c"] and due.stage is Stage.IDLE
    # Killed after revoking, before the annotation was rewritten: revoked again (harmless).
    assert _ids(overlap.decide(state, done, NOW + 60, GRACE).revoke) == []
    assert _ids(overlap.decide(state, done, NOW + 40, GRACE).revoke) == ["a"]
    # Recorded: nothing left to do.
    final = overlap.decide(_after(due), done, NOW + 40, GRACE)
    assert final.stage is Stage.IDLE and final.revoke == () and not final.changed


def test_a_record_without_an_end_time_counts_the_grace_from_when_it_is_seen() -> None:
    plan = overlap.decide(_rotation(), RolloutView("Succeeded", "hC"), NOW + 7, GRACE)
    assert plan.scheduled[0].revoke_at == NOW + 7 + GRACE


def test_a_lease_that_ends_by_itself_is_dropped_not_revoked() -> None:
    state = _rotation()
    plan = overlap.decide(state, RolloutView("Progressing", "hC"), NOW + 50, GRACE)
    assert _ids(plan.expired) == ["a"] and plan.revoke == () and _ids(plan.leases) == ["c"]


# --- a rotation that fails -------------------------------------------------------------------


def test_a_rollback_makes_the_previous_lease_current_and_revokes_the_new_one() -> None:
    state = _rotation()
    # The rollout engine restored A's data; the annotation still says C (killed right after).
    back = RolloutView("RollingBack", "hA", held_hash="hC")
    plan = overlap.decide(state, back, NOW + 5, GRACE)
    assert _ids(plan.restored) == ["a"] and plan.stage is Stage.ROLLING_BACK and plan.changed
    assert [(x, lease.retiring) for x, lease in zip(_ids(plan.leases), plan.leases,
            strict=True)] == [("a", False), ("c", True)]  # fmt: skip
    assert plan.revoke == () and plan.scheduled == ()
    state = _after(plan)
    # Deciding again (a restart) does not flip it back.
    again = overlap.decide(state, back, NOW + 6, GRACE)
    assert not again.changed and again.restored == () and again.stage is Stage.ROLLING_BACK
    # The rollback is healthy: the new lease is revoked after the grace; A never.
    done = RolloutView("RolledBack", "hA", held_hash="hC", finished_at=NOW + 9)
    plan = overlap.decide(state, done, NOW + 10, GRACE)
    assert _ids(plan.scheduled) == ["c"] and plan.scheduled[0].revoke_at == NOW + 9 + GRACE
    state = _after(plan)
    due = overlap.decide(state, done, NOW + 9 + GRACE, GRACE)
    assert _ids(due.revoke) == ["c"] and _ids(due.leases) == ["a"]
    assert not due.leases[0].retiring


def test_killed_before_the_rollback_was_recorded_the_flip_happens_on_the_finished_record() -> None:
    done = RolloutView("RolledBack", "hA", held_hash="hC", finished_at=NOW + 9)
    plan = overlap.decide(_rotation(), done, NOW + 10, GRACE)
    assert _ids(plan.restored) == ["a"] and _ids(plan.scheduled) == ["c"]


def test_a_failed_rollout_that_is_held_keeps_the_previous_lease() -> None:
    held = RolloutView("Failed", "hC")
    plan = overlap.decide(_rotation(), held, NOW + 10, GRACE)
    assert plan.stage is Stage.HELD and plan.revoke == () and plan.scheduled == ()
    assert plan.wake_at == NOW + 50  # only its own expiry
    # A later rotation that succeeds retires both.
    state = _written(list(plan.leases), _lease("d"), "hD")
    ok = overlap.decide(state, RolloutView("Succeeded", "hD", finished_at=NOW + 20), NOW + 21,
                        GRACE)  # fmt: skip
    assert sorted(_ids(ok.scheduled)) == ["a", "c"]


def test_a_rollback_that_fails_revokes_only_the_new_lease() -> None:
    failed = RolloutView("RollbackFailed", "hA", held_hash="hC", finished_at=NOW + 9)
    state = _after(overlap.decide(_rotation(), failed, NOW + 10, GRACE))
    plan = overlap.decide(state, failed, NOW + 10, GRACE)
    assert [lease.id for lease in plan.leases if not lease.retiring] == [_lease("a").id]
    assert [(lease.id, lease.revoke_at) for lease in plan.leases if lease.retiring] == [
        (_lease("c").id, NOW + 9 + GRACE)
    ]


def test_a_restored_hash_no_lease_carries_revokes_only_the_failed_leases() -> None:
    # The previous data came from elsewhere (or its hash is not the lease's): its lease, if any,
    # is not known, so only the failed one goes; the rest wait for their expiry.
    state = _written([_lease("a", "hA")], _lease("c"), "hC")
    back = RolloutView("RolledBack", "hX", held_hash="hC", finished_at=NOW + 9)
    plan = overlap.decide(state, back, NOW + 10, GRACE)
    assert [lease.retiring for lease in plan.leases] == [True, True]
    assert _ids(plan.scheduled) == ["c"] and plan.stage is Stage.HELD
    assert plan.wake_at == NOW + 9 + GRACE


def test_a_rollback_of_a_merged_secret_restores_the_previous_lease_by_the_whole_data() -> None:
    # creationPolicy Merge: the Secret holds keys the ExternalSecret does not write, so the data
    # a rollback restores (and records) hashes to the whole Secret's ("sA"), not to A's data.
    first, _ = overlap.written([], [_lease("a")], "hA", overlap=True, secret_hash="sA")
    state, gone = overlap.written(_restart(first), [_lease("c")], "hC", True, secret_hash="sC")
    assert gone == []
    assert [(x.data_hash, x.secret_hash) for x in state] == [("hC", "sC"), ("hA", "sA")]
    state = _restart(state)
    back = RolloutView("RollingBack", "sA", held_hash="hC")
    plan = overlap.decide(state, back, NOW + 5, GRACE)
    assert _ids(plan.restored) == ["a"] and plan.stage is Stage.ROLLING_BACK
    assert not plan.unrecorded, "the rollback is the record of the restored data"
    state = _after(plan)
    done = RolloutView("RolledBack", "sA", held_hash="hC", finished_at=NOW + 9)
    plan = overlap.decide(state, done, NOW + 10, GRACE)
    assert _ids(plan.scheduled) == ["c"] and plan.stage is Stage.GRACE
    due = overlap.decide(_after(plan), done, NOW + 9 + GRACE, GRACE)
    assert _ids(due.revoke) == ["c"] and _ids(due.leases) == ["a"]
    assert not due.leases[0].retiring, "A is current again: renewed and re-issued as such"
    assert lease_plan.next_step(list(due.leases)) is not None
    # A later rollout of A's data (the source changed back, say) finds it current.
    ok = overlap.decide(list(due.leases), RolloutView("Succeeded", "hA", finished_at=NOW + 50),
                        NOW + 51, GRACE)  # fmt: skip
    assert ok.stage is Stage.IDLE and not ok.changed


def test_a_write_settles_what_was_pending() -> None:
    recorded, _ = overlap.written([], [_lease("c", pending=True)], "hC", overlap=True)
    assert [lease.pending for lease in recorded] == [False]
    assert recorded[0].secret_hash == "hC", "without other keys the whole data is the same"


# --- rotations that overlap each other -------------------------------------------------------


def test_a_rotation_during_a_rotation_keeps_every_lease_the_consumers_may_hold() -> None:
    state = _written([_lease("a", "hA")], _lease("b"), "hB")
    state = _written(state, _lease("c"), "hC")  # before B's rollout ended
    assert [lease.retiring for lease in state] == [False, True, True]
    plan = overlap.decide(state, RolloutView("Progressing", "hC"), NOW + 5, GRACE)
    assert plan.revoke == () and plan.scheduled == ()
    ok = overlap.decide(state, RolloutView("Succeeded", "hC", finished_at=NOW), NOW + 5, GRACE)
    assert sorted(_ids(ok.scheduled)) == ["a", "b"]
    # Rolled back instead, to the last good data (A's): B and C go, A is current.
    back = RolloutView("RolledBack", "hA", held_hash="hC", finished_at=NOW)
    plan = overlap.decide(state, back, NOW + 5, GRACE)
    assert _ids(plan.restored) == ["a"] and sorted(_ids(plan.scheduled)) == ["b", "c"]


def test_no_rollout_started_means_only_the_grace_is_waited_for() -> None:
    timed = overlap.settle_now(_rotation(), NOW, GRACE)
    assert [lease.revoke_at for lease in timed] == [None, NOW + GRACE]
    plan = overlap.decide(timed, None, NOW + GRACE, GRACE)
    assert _ids(plan.revoke) == ["a"]


def test_a_negative_grace_is_none() -> None:
    plan = overlap.decide(_rotation(), RolloutView("Succeeded", "hC", finished_at=NOW), NOW, -5)
    assert _ids(plan.revoke) == ["a"]


def test_nothing_retiring_is_idle() -> None:
    plan = overlap.decide([_lease("c", "hC")], RolloutView("Progressing", "hC"), NOW, GRACE)
    assert plan.stage is Stage.IDLE and not plan.changed and plan.wake_at is None


# --- the schedule ----------------------------------------------------------------------------


def test_a_retiring_lease_is_renewed_but_never_issued_anew() -> None:
    capped = _lease("a", "hA", retiring=True, capped=True)
    current = _lease("c", "hC", renewed_at=NOW, expires_at=NOW + 60)
    assert lease_plan.next_step([current, capped]) == Step(Action.RENEW, NOW + 40)
    renewable = _lease("a", "hA", retiring=True)
    assert lease_plan.next_step([current, renewable]) == leases.next_step(renewable, 2 / 3)
    assert lease_plan.next_step([current, capped], NOW + 1) == Step(Action.RETIRE, NOW + 1)
    assert lease_plan.due(Step(Action.RETIRE, NOW), NOW) is Action.RETIRE


def test_the_rollout_record_is_read_from_status() -> None:
    status = {"rollout": {"phase": "RolledBack", "dataHash": "hA", "heldHash": "hC",
                          "finishedAt": "1970-01-12T13:46:40Z"}}  # fmt: skip
    assert overlap.view(status) == RolloutView("RolledBack", "hA", "hC", 1_000_000.0)
    assert overlap.view({}) is None and overlap.view(None) is None
    assert overlap.view({"rollout": {"phase": "Succeeded", "finishedAt": "junk"}}) == RolloutView(
        "Succeeded", "", None, None
    )


def test_the_annotation_holds_the_pending_time_and_no_credential() -> None:
    text = leases.encode([_lease("a", "hA", retiring=True, revoke_at=NOW)])
    (item,) = json.loads(text)
    assert item["retiring"] is True and item["revoke_at"] == NOW and item["data_hash"] == "hA"
    assert "password" not in text and "username" not in text


def test_the_status_says_where_the_rotation_stands_and_is_written_only_on_change() -> None:
    rolling = overlap.decide(_rotation(), RolloutView("Progressing", "hC"), NOW, GRACE)
    assert overlap.status(rolling) == {
        "stage": "Rolling", "retiringLeases": 1, "pendingRevocationUntil": None,
    }  # fmt: skip
    assert overlap.status_due(rolling, None)
    assert not overlap.status_due(rolling, overlap.status(rolling))
    grace = overlap.decide(_rotation(), RolloutView("Succeeded", "hC", finished_at=NOW), NOW, 30)
    assert overlap.status(grace)["pendingRevocationUntil"] == "1970-01-12T13:47:10Z"
    assert overlap.status_due(grace, overlap.status(rolling))
    idle = overlap.decide([_lease("c", "hC")], None, NOW, GRACE)
    assert not overlap.status_due(idle, None), "no status for an ExternalSecret never rotated"
    assert overlap.status_due(idle, overlap.status(grace))


def test_a_rollout_the_records_do_not_show_is_flagged_for_recovery() -> None:
    # Killed between the Secret write and the rollout's record: the next process is told.
    for stale in (None, RolloutView("Succeeded", "hA", finished_at=NOW - 100)):
        assert overlap.decide(_rotation(), stale, NOW, GRACE).unrecorded
    for shown in (
        RolloutView("Progressing", "hC"),
        RolloutView("Succeeded", "hC", finished_at=NOW),
        RolloutView("Failed", "hC"),
        RolloutView("RollingBack", "hA", held_hash="hC"),
    ):
        assert not overlap.decide(_rotation(), shown, NOW, GRACE).unrecorded
    # Nothing waits for a rollout once every retiring lease has its time (nothing to restart).
    timed = overlap.settle_now(_rotation(), NOW, GRACE)
    plan = overlap.decide(timed, None, NOW, GRACE)
    assert not plan.unrecorded and plan.stage is Stage.GRACE and plan.wake_at == NOW + GRACE
