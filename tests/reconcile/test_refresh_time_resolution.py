"""--refresh-time-resolution: a refresh that changed nothing writes no status until
refreshTime is that old, the due times still follow the real refreshes, and a restart neither
refreshes every such object at once nor misses one that really was missed."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any, cast

import pytest

from secretsync.api.objects import parse_external_secret
from secretsync.reconcile import refresh, status
from secretsync.reconcile.report import Reporter

pytestmark = pytest.mark.unit

T0 = datetime.datetime(2026, 12, 6, 8, 0, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)
RESOLUTION = 5 * MINUTE
SYNCED = status.Outcome(True, status.Reason.SYNCED, "secret synced", synced=True)


class Recorder:
    """StatusWriter, Events and SyncMetrics: the status patches."""

    def __init__(self) -> None:
        self.patches: list[Mapping[str, Any]] = []

    def patch_status(self, plural: str, namespace: str, name: str, body: Any, **_: Any) -> None:
        self.patches.append(body)

    def record(self, *_: Any, **__: Any) -> None:
        pass

    def synced(self, *_: Any) -> None:
        pass

    def condition(self, *_: Any) -> None:
        pass


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


def _raw(uid: str = "u-1", status_: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db", "namespace": "ns", "uid": uid, "generation": 1},
        "spec": {
            "refreshInterval": "1m",
            "secretStoreRef": {"name": "vault"},
            "target": {"name": "db"},
            "data": [{"secretKey": "pw", "remoteRef": {"key": "db"}}],
        },
        "status": dict(status_ or {}),
    }


def _reporter(clock: Clock, resolution: datetime.timedelta) -> tuple[Reporter, Recorder]:
    recorder = Recorder()
    fake = cast(Any, recorder)
    return Reporter(fake, fake, fake, None, clock, resolution), recorder


def _refresh(
    reporter: Reporter, recorder: Recorder, raw: dict[str, Any], event: str | None = None
) -> dict[str, Any]:
    """One sync recorded; the cache then shows whatever was patched."""
    before = len(recorder.patches)
    reporter.record(raw, parse_external_secret(raw), SYNCED, event)
    if len(recorder.patches) > before:
        return {**raw, "status": dict(recorder.patches[-1])}
    return raw


def test_no_change_refreshes_write_no_status_until_refresh_time_is_that_old() -> None:
    clock = Clock(T0)
    reporter, recorder = _reporter(clock, RESOLUTION)
    raw = _refresh(reporter, recorder, _raw(), "Created")
    assert len(recorder.patches) == 1

    written = []
    for minute in range(1, 11):
        clock.now = T0 + minute * MINUTE
        before = len(recorder.patches)
        raw = _refresh(reporter, recorder, raw)
        written.append(len(recorder.patches) > before)

    assert written == [False, False, False, False, True, False, False, False, False, True]
    assert raw["status"]["refreshTime"] == status.timestamp(T0 + 10 * MINUTE)
    # The next refresh is due from the last real one, not from the one written.
    clock.now = T0 + 12 * MINUTE
    raw = _refresh(reporter, recorder, raw)
    state = reporter.last_sync(raw, MINUTE)
    assert state.refresh_time == T0 + 12 * MINUTE
    assert raw["status"]["refreshTime"] == status.timestamp(T0 + 10 * MINUTE)


def test_a_refresh_that_wrote_the_secret_or_changed_the_status_writes_refresh_time() -> None:
    clock = Clock(T0)
    reporter, recorder = _reporter(clock, RESOLUTION)
    raw = _refresh(reporter, recorder, _raw(), "Created")

    clock.now = T0 + MINUTE
    raw = _refresh(reporter, recorder, raw, "Updated")
    assert raw["status"]["refreshTime"] == status.timestamp(T0 + MINUTE)

    clock.now = T0 + 2 * MINUTE
    failed = status.Outcome(False, status.Reason.ERROR, "could not get secret data", False)
    reporter.record(raw, parse_external_secret(raw), failed, "UpdateFailed")
    raw = {**raw, "status": dict(recorder.patches[-1])}
    clock.now = T0 + 3 * MINUTE
    raw = _refresh(reporter, recorder, raw)
    assert raw["status"]["refreshTime"] == status.timestamp(T0 + 3 * MINUTE), "Ready again"


def test_at_zero_every_refresh_writes_as_eso_does() -> None:
    clock = Clock(T0)
    reporter, recorder = _reporter(clock, datetime.timedelta(0))
    raw = _refresh(reporter, recorder, _raw(), "Created")
    for minute in range(1, 4):
        clock.now = T0 + minute * MINUTE
        raw = _refresh(reporter, recorder, raw)
    assert len(recorder.patches) == 4


def _due_after_restart(uid: str, written: datetime.datetime, started: datetime.datetime) -> float:
    """Seconds from the restart to the object's first refresh, judged by the new process."""
    reporter, _ = _reporter(Clock(started), RESOLUTION)
    raw = _raw(uid, {"refreshTime": status.timestamp(written), "syncedResourceVersion": "x"})
    es = parse_external_secret(raw)
    raw["status"]["syncedResourceVersion"] = refresh.synced_version(es.metadata)
    state = reporter.last_sync(raw, MINUTE)
    if refresh.should_refresh(es.spec, es.metadata, state, started):
        return 0.0
    wait = refresh.seconds_until_due(es.spec, state, started, uid=uid)
    assert wait is not None
    return wait


def test_after_a_restart_objects_with_lagging_refresh_times_are_spread_not_all_due() -> None:
    started = T0 + 4 * MINUTE  # every refreshTime written at T0 lags by less than 5m + 1m
    waits = [
        _due_after_restart(str(uuid.uuid5(uuid.NAMESPACE_OID, f"es-{i}")), T0, started)
        for i in range(200)
    ]
    assert min(waits) > 0 and max(waits) <= 61, "each at its grid time in the next interval"
    assert max(waits) - min(waits) > 50, "spread over the interval, not lined up"
    # With the plain rule all 200 would have been due at once (refreshTime + 1m < start).


def test_after_a_restart_a_refresh_time_older_than_it_can_lag_is_due_at_once() -> None:
    started = T0 + RESOLUTION + MINUTE + datetime.timedelta(seconds=1)  # the operator was down
    assert _due_after_restart("u-1", T0, started) == 0.0


def test_lagging_is_pure_and_keeps_only_a_young_refresh_time() -> None:
    current = {"refreshTime": status.timestamp(T0), "binding": {"name": "db"}}
    new = {"refreshTime": status.timestamp(T0 + MINUTE), "binding": {"name": "db"}}
    assert status.lagging(new, current, T0 + MINUTE, RESOLUTION) == current
    assert status.lagging(new, current, T0 + RESOLUTION, RESOLUTION) == new
    changed = {**new, "binding": {"name": "other"}}
    assert status.lagging(changed, current, T0 + MINUTE, RESOLUTION) == changed
    future = {"refreshTime": status.timestamp(T0 + 2 * MINUTE)}
    assert status.lagging(new, future, T0 + MINUTE, RESOLUTION) == new, "a clock step back"
