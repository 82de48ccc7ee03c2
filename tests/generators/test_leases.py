"""The lease lifecycle's decisions (generators/leases.py): when a lease is renewed, when its
credential is issued anew instead, and what is kept about it (never a credential)."""

from __future__ import annotations

import dataclasses

import pytest

from secretsync.generators import leases
from secretsync.generators.leases import Action, Lease

NOW = 1_000_000.0


def _lease(ttl: int = 30, renewable: bool = True) -> Lease:
    made = leases.issued("database/creds/app/abc", "VaultDynamicSecret/db", ttl, renewable, NOW)
    assert made is not None
    return made


def test_a_lease_is_renewed_at_two_thirds_of_its_ttl_by_default() -> None:
    step = leases.next_step(_lease(ttl=30), 2 / 3)
    assert step == leases.Step(Action.RENEW, NOW + 20)


@pytest.mark.parametrize(("fraction", "due"), [(0.5, 15.0), (0.9, 27.0), (0.01, 0.3)])
def test_the_renewal_point_is_the_configured_share_of_the_ttl(fraction: float, due: float) -> None:
    assert leases.next_step(_lease(ttl=30), fraction).at == pytest.approx(NOW + due)


def test_after_a_full_renewal_the_next_is_two_thirds_of_the_new_span() -> None:
    later = leases.renewed(_lease(ttl=30), granted=30, now=NOW + 20)
    assert not later.capped
    assert later.expires_at == NOW + 50
    assert leases.next_step(later, 2 / 3) == leases.Step(Action.RENEW, NOW + 40)


def test_a_renewal_cut_short_by_the_max_ttl_means_reissue_before_the_hard_end() -> None:
    # max TTL 45s: renewed at 20s, the server grants only 25s more (until 45s).
    capped = leases.renewed(_lease(ttl=30), granted=25, now=NOW + 20)
    assert capped.capped
    step = leases.next_step(capped, 2 / 3)
    assert step.action is Action.REISSUE
    assert NOW + 20 < step.at < capped.expires_at == NOW + 45


def test_a_renewal_within_the_tolerance_is_still_full() -> None:
    assert not leases.renewed(_lease(ttl=30), granted=29, now=NOW + 20).capped


def test_a_lease_that_is_not_renewable_is_reissued_at_the_renewal_point() -> None:
    step = leases.next_step(_lease(ttl=30, renewable=False), 2 / 3)
    assert step == leases.Step(Action.REISSUE, NOW + 20)


def test_a_renewal_granting_nothing_is_due_for_reissue_at_once() -> None:
    gone = leases.renewed(_lease(ttl=30), granted=0, now=NOW + 20)
    assert leases.next_step(gone, 2 / 3) == leases.Step(Action.REISSUE, NOW + 20)


def test_a_response_without_a_lease_keeps_nothing() -> None:
    assert leases.issued("", "VaultDynamicSecret/db", 30, True, NOW) is None
    assert leases.issued("static/creds/x", "VaultDynamicSecret/db", 0, False, NOW) is None


def test_the_earliest_step_among_several_leases() -> None:
    short = leases.issued("a", "VaultDynamicSecret/short", 30, True, NOW)
    long = leases.issued("b", "VaultDynamicSecret/long", 300, True, NOW)
    assert short is not None and long is not None
    step = leases.earliest([long, short], {"VaultDynamicSecret/long": 0.5})
    assert step == leases.Step(Action.RENEW, NOW + 20)
    assert leases.earliest([], {}) is None


def test_the_annotation_round_trips_and_holds_only_ids_and_times() -> None:
    lease = leases.renewed(_lease(), granted=25, now=NOW + 20)
    text = leases.encode([lease])
    assert set(__import__("json").loads(text)[0]) == {
        "id", "generator", "ttl", "renewed_at", "expires_at", "renewable", "capped",
        "renew_at", "revoke_on_delete", "data_hash", "retiring", "revoke_at", "secret_hash",
        "pending",
    }  # fmt: skip
    assert leases.decode({leases.LEASES_ANNOTATION: text}) == [lease]
    marked = dataclasses.replace(lease, pending=True, secret_hash="h")
    assert leases.decode({leases.LEASES_ANNOTATION: leases.encode([marked])}) == [marked]
    # Written before these fields existed: read as settled, with no whole-data hash.
    older = {k: v for k, v in __import__("json").loads(text)[0].items()
             if k not in ("secret_hash", "pending")}  # fmt: skip
    (read,) = leases.decode({leases.LEASES_ANNOTATION: __import__("json").dumps([older])})
    assert not read.pending and read.secret_hash == ""


@pytest.mark.parametrize("text", ["", "not json", "[{}]", '{"id": 1}', "[1]"])
def test_an_unreadable_annotation_yields_no_leases(text: str) -> None:
    assert leases.decode({leases.LEASES_ANNOTATION: text}) == []
    assert leases.decode(None) == []


def test_leases_no_longer_held_after_a_write_are_the_ones_to_revoke() -> None:
    old, new = (
        _lease(),
        leases.issued("database/creds/app/new", "VaultDynamicSecret/db", 30, True, NOW),
    )
    assert new is not None
    assert leases.superseded([old], [new]) == [old]
    assert leases.superseded([old], [old, new]) == []
