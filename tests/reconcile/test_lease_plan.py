"""The lease lifecycle as the sync sees it (reconcile/lease_plan.py): when the ExternalSecret
wakes (the earlier of its refresh and its next lease step), what a due step does, which
superseded leases are revoked now, when the finalizer is wanted, when a revocation on deletion
is given up, and the annotation written with the Secret (lease IDs and times, no credential)."""

from __future__ import annotations

import json

import pytest

from secretsync.errors import AccessDenied, ConfigError, NotFound, Unavailable
from secretsync.generators import leases
from secretsync.generators.leases import LEASES_ANNOTATION, Action, Lease, Step
from secretsync.reconcile import lease_plan, overlap

NOW = 1_000_000.0


def _lease(lease_id: str = "database/creds/app/a", ttl: int = 30, **extra: object) -> Lease:
    return Lease(lease_id, "VaultDynamicSecret/db", ttl, NOW, NOW + ttl, True, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("refresh_in", "step", "expected"),
    [
        (3600.0, None, 3600.0),  # no lease: the refresh alone
        (None, None, None),  # nothing will ever come
        (3600.0, Step(Action.RENEW, NOW + 20), 20.0),  # the lease is first
        (5.0, Step(Action.RENEW, NOW + 20), 5.0),  # the refresh is first
        (None, Step(Action.REISSUE, NOW + 20), 20.0),  # CreatedOnce: the lease still wakes it
        (3600.0, Step(Action.RENEW, NOW - 3), 0.0),  # overdue: now, never negative
    ],
)
def test_the_next_wake_is_the_earlier_of_refresh_and_lease_step(
    refresh_in: float | None, step: Step | None, expected: float | None
) -> None:
    assert lease_plan.wake_in(refresh_in, step, NOW) == expected


def test_a_step_is_due_at_its_time_and_not_before() -> None:
    assert lease_plan.due(None, NOW) is None
    assert lease_plan.due(Step(Action.RENEW, NOW + 1), NOW) is None
    assert lease_plan.due(Step(Action.RENEW, NOW), NOW) is Action.RENEW
    assert lease_plan.due(Step(Action.REISSUE, NOW - 1), NOW) is Action.REISSUE


def test_the_schedule_uses_each_leases_own_share() -> None:
    early = _lease("a", ttl=30, renew_at=0.5)
    late = _lease("b", ttl=30)
    assert lease_plan.next_step([late, early]) == Step(Action.RENEW, NOW + 15)
    capped = leases.renewed(late, granted=10, now=NOW + 20)
    assert lease_plan.next_step([capped]) == Step(
        Action.REISSUE, pytest.approx(NOW + 20 + 10 * 2 / 3)
    )


def test_without_overlap_every_superseded_lease_is_revoked_at_once() -> None:
    old = [_lease("a"), _lease("b")]
    recorded, gone = overlap.written(old, [_lease("b")], "h", overlap=False)
    assert gone == [old[0]] and [lease.id for lease in recorded] == ["b"]


def test_the_finalizer_is_wanted_only_for_leases_revoked_on_delete() -> None:
    assert not lease_plan.wants_finalizer([])
    assert not lease_plan.wants_finalizer([_lease(revoke_on_delete=False)])
    mixed = [_lease("a", revoke_on_delete=False), _lease("b")]
    assert lease_plan.wants_finalizer(mixed)
    assert lease_plan.revoked_on_delete(mixed) == [mixed[1]]


def test_a_revocation_that_cannot_succeed_is_given_up_at_once() -> None:
    since = NOW - 1
    for hopeless in (NotFound("gone"), ConfigError("no longer a VaultDynamicSecret")):
        assert lease_plan.give_up(hopeless, since, NOW)
    for transient in (Unavailable("down"), AccessDenied("login refused")):
        assert not lease_plan.give_up(transient, since, NOW)
        late = NOW + lease_plan.GIVE_UP_AFTER_SECONDS
        assert lease_plan.give_up(transient, since, late)
    assert lease_plan.give_up(Unavailable("down"), None, NOW)  # no deletion time to wait from


def test_the_annotation_is_set_with_the_leases_and_dropped_without() -> None:
    body = {"metadata": {"name": "db", "annotations": {"keep": "me"}}, "data": {"password": "cA=="}}
    written = lease_plan.with_leases(body, [_lease()])
    recorded = json.loads(written["metadata"]["annotations"][LEASES_ANNOTATION])
    assert [item["id"] for item in recorded] == ["database/creds/app/a"]
    assert set(recorded[0]) == {
        "id", "generator", "ttl", "renewed_at", "expires_at", "renewable", "capped",
        "renew_at", "revoke_on_delete", "data_hash", "retiring", "revoke_at", "secret_hash",
        "pending",
    }  # fmt: skip
    assert written["metadata"]["annotations"]["keep"] == "me"
    assert written["data"] == body["data"]
    assert LEASES_ANNOTATION not in body["metadata"]["annotations"]  # the input is not changed
    assert lease_plan.with_leases(written, [])["metadata"]["annotations"] == {"keep": "me"}
    assert "annotations" not in lease_plan.with_leases({"metadata": {}}, [])["metadata"]


def test_the_annotation_round_trips_and_older_ones_take_the_defaults() -> None:
    lease = _lease(renew_at=0.5, revoke_on_delete=False)
    secret = lease_plan.with_leases({"metadata": {}}, [lease])
    assert leases.decode(lease_plan.annotations_of(secret)) == [lease]
    old = [{k: v for k, v in json.loads(leases.encode([_lease()]))[0].items()
            if k not in ("renew_at", "revoke_on_delete")}]  # fmt: skip
    (read,) = leases.decode({LEASES_ANNOTATION: json.dumps(old)})
    assert (read.renew_at, read.revoke_on_delete) == (2 / 3, True)
