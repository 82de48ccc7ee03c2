"""Periodic refreshes fall due on a grid of each object's own (hash of its uid), so objects that
synced in the same second do not refresh in the same second again, on any run."""

from __future__ import annotations

import collections
import datetime
import uuid

from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.objects import ObjectMeta
from secretsync.api.parsing import parse
from secretsync.reconcile import refresh, spread

HOUR = datetime.timedelta(hours=1)
T0 = datetime.datetime(2026, 12, 6, 8, 0, 0, tzinfo=datetime.UTC)
UIDS = [str(uuid.uuid5(uuid.NAMESPACE_OID, f"es-{i}")) for i in range(1000)]


def test_a_thousand_objects_synced_together_fall_due_spread_over_the_interval() -> None:
    dues = [spread.next_due(uid, T0, HOUR) for uid in UIDS]
    offsets = [(due - T0).total_seconds() for due in dues]
    assert all(spread.MIN_GAP <= s <= HOUR.total_seconds() + spread.MIN_GAP for s in offsets)
    minutes = collections.Counter(int(s // 60) for s in offsets)
    # 1,000 over 60 one-minute buckets: about 17 each. A stampede would put them in one.
    assert len(minutes) == 60
    assert max(minutes.values()) <= 35 and min(minutes.values()) >= 5
    seconds = collections.Counter(int(s) for s in offsets)
    assert max(seconds.values()) <= 4, "no second is crowded"


def test_the_due_time_is_a_function_of_the_uid_only() -> None:
    # A restart, another replica, another process: nothing but the uid and the last refresh.
    first = [spread.next_due(uid, T0, HOUR) for uid in UIDS[:50]]
    again = [spread.next_due(uid, T0, HOUR) for uid in UIDS[:50]]
    assert first == again
    assert spread.phase(UIDS[0]) == spread.phase(str(UIDS[0]))
    assert len({spread.phase(uid) for uid in UIDS}) == len(UIDS)


def test_in_the_steady_state_the_period_is_exactly_the_interval() -> None:
    for uid in UIDS[:100]:
        due = spread.next_due(uid, T0, HOUR)
        # The refresh ran a little late, and its refreshTime was rounded down to the second.
        ran = due + datetime.timedelta(milliseconds=700)
        stored = ran.replace(microsecond=0)
        assert spread.next_due(uid, stored, HOUR) == due + HOUR
        assert spread.next_due(uid, ran, HOUR) == due + HOUR


def test_no_refresh_is_ever_later_than_the_interval_plus_the_gap() -> None:
    for uid in UIDS[:200]:
        for late in (0, 1, 59, 1799, 3598, 3600, 7300):
            last = T0 + datetime.timedelta(seconds=late)
            gap = (spread.next_due(uid, last, HOUR) - last).total_seconds()
            assert spread.MIN_GAP <= gap <= HOUR.total_seconds() + spread.MIN_GAP


def test_objects_refreshed_together_after_an_outage_are_spread_again() -> None:
    # The operator comes back after two hours: every object is overdue and refreshes at once,
    # in the same second. Their following refreshes do not line up.
    back = T0 + 2 * HOUR + datetime.timedelta(seconds=13)
    seconds = collections.Counter(
        int((spread.next_due(u, back, HOUR) - back).total_seconds()) for u in UIDS
    )
    assert max(seconds.values()) <= 4


def test_without_a_uid_or_with_a_tiny_interval_the_plain_interval() -> None:
    assert spread.next_due(None, T0, HOUR) == T0 + HOUR
    second = datetime.timedelta(seconds=1)
    assert spread.next_due(UIDS[0], T0, second) == T0 + second


def _spec(**fields: object) -> ExternalSecretSpec:
    raw = {"secretStoreRef": {"name": "s"}, "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}]}
    return parse(ExternalSecretSpec, {**raw, **fields}, "spec")


def test_should_refresh_and_the_wake_up_agree_on_the_grid() -> None:
    spec = _spec(refreshInterval="1h")
    for uid in UIDS[:20]:
        meta = ObjectMeta(name="es", namespace="ns", generation=1, uid=uid)
        state = refresh.SyncState(
            refresh_time=T0, synced_resource_version=refresh.synced_version(meta)
        )
        wait = refresh.seconds_until_due(spec, state, T0, uid=uid)
        assert wait is not None
        due = T0 + datetime.timedelta(seconds=wait)
        assert not refresh.should_refresh(spec, meta, state, due - datetime.timedelta(seconds=0.5))
        assert refresh.should_refresh(spec, meta, state, due)


def test_the_first_sync_and_a_forced_sync_are_not_delayed() -> None:
    spec = _spec(refreshInterval="1h")
    meta = ObjectMeta(name="es", namespace="ns", generation=1, uid=UIDS[0])
    assert refresh.should_refresh(spec, meta, refresh.SyncState(), T0)
    assert refresh.seconds_until_due(spec, refresh.SyncState(), T0, uid=UIDS[0]) == 0.0
    forced = ObjectMeta(
        name="es", namespace="ns", generation=1, uid=UIDS[0], annotations={"force-sync": "1"}
    )
    state = refresh.SyncState(refresh_time=T0, synced_resource_version=refresh.synced_version(meta))
    assert refresh.should_refresh(spec, forced, state, T0 + datetime.timedelta(seconds=1))
