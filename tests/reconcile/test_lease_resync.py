"""One change, one sync: the sync after a successful one must not be judged due again from a
cached ExternalSecret whose status does not show that sync yet.

An overlap rotation looks at its ExternalSecret again a second after the write; when the watch
had not yet brought the status patch (syncedResourceVersion for the new force-sync annotation),
the cached status said the change was never synced, the generator ran again and a second
credential was issued for one force-sync: a lease superseded at once, leaked until its TTL if it
was not revoked. The Reporter remembers what it recorded (report.Reporter.last_sync).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from typing import Any, cast

from secretsync.api.objects import parse_external_secret
from secretsync.reconcile import refresh, status
from secretsync.reconcile.report import Reporter, last_sync

NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


class Recorder:
    """StatusWriter, Events and SyncMetrics: what was patched."""

    def __init__(self) -> None:
        self.patches: list[Mapping[str, Any]] = []

    def patch_status(self, plural: str, namespace: str, name: str, body: Any, **_: Any) -> None:
        self.patches.append(body)

    def record(self, raw: Any, kind: str, reason: str, message: str, warning: bool = False) -> None:
        pass

    def synced(self, store: tuple[str, str, str], ok: bool, reason: str, seconds: float) -> None:
        pass

    def condition(self, namespace: str, name: str, ready: bool) -> None:
        pass


def _raw(force: str, uid: str = "u-1") -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {
            "name": "db",
            "namespace": "ns",
            "uid": uid,
            "generation": 1,
            "annotations": {"force-sync": force},
        },
        "spec": {
            "refreshInterval": "1h",
            "target": {"name": "db"},
            "dataFrom": [
                {
                    "sourceRef": {
                        "generatorRef": {
                            "apiVersion": "generators.external-secrets.io/v1alpha1",
                            "kind": "VaultDynamicSecret",
                            "name": "db",
                        }
                    }
                }
            ],
        },
    }


def _synced(raw: dict[str, Any], at: datetime.datetime) -> dict[str, Any]:
    """`raw` as the cache shows it once a sync of it at `at` is in its status."""
    es = parse_external_secret(raw)
    out = copy.deepcopy(raw)
    out["status"] = {
        "refreshTime": status.timestamp(at),
        "syncedResourceVersion": refresh.synced_version(es.metadata),
    }
    return out


def _reporter(at: datetime.datetime) -> tuple[Reporter, Recorder]:
    recorder = Recorder()
    fake = cast(Any, recorder)
    return Reporter(fake, fake, fake, None, lambda: at), recorder


def _due(reporter: Reporter, raw: dict[str, Any], now: datetime.datetime) -> bool:
    es = parse_external_secret(raw)
    return refresh.should_refresh(es.spec, es.metadata, reporter.last_sync(raw, HOUR), now)


SYNCED = status.Outcome(True, status.Reason.SYNCED, "secret synced", synced=True)


def test_a_forced_sync_is_not_due_again_before_the_cache_shows_its_status() -> None:
    reporter, recorder = _reporter(NOW)
    # The cache: the first force-sync synced a minute ago; the annotation now says "2".
    stale = {
        **_raw("2"),
        "status": _synced(_raw("1"), NOW - datetime.timedelta(minutes=1))["status"],
    }
    assert _due(reporter, stale, NOW), "the change itself is due"
    reporter.record(stale, parse_external_secret(stale), SYNCED, "Updated")
    assert recorder.patches and recorder.patches[-1]["refreshTime"] == status.timestamp(NOW)

    # A second later the same cached object comes back (the watch has not caught up).
    later = NOW + datetime.timedelta(seconds=1)
    assert refresh.should_refresh(
        parse_external_secret(stale).spec,
        parse_external_secret(stale).metadata,
        last_sync(stale),
        later,
    ), "judged from the cached status alone it is due again (the bug)"
    assert not _due(reporter, stale, later), "one force-sync, one sync"

    # The next change is due, whatever the cache shows.
    assert _due(reporter, {**_raw("3"), "status": stale["status"]}, later)


def test_what_the_cluster_shows_later_wins_and_a_new_object_starts_afresh() -> None:
    reporter, _ = _reporter(NOW)
    stale = {
        **_raw("2"),
        "status": _synced(_raw("1"), NOW - datetime.timedelta(minutes=1))["status"],
    }
    reporter.record(stale, parse_external_secret(stale), SYNCED, "Updated")
    later = NOW + datetime.timedelta(seconds=5)

    # Another process (a new leader) synced a newer change after ours: its status counts.
    newer = _synced(_raw("4"), later)
    assert reporter.last_sync(newer, HOUR) == last_sync(newer)
    assert not _due(reporter, newer, later)

    # Deleted and created again under the same name: nothing remembered applies to it.
    again = {**_raw("2", uid="u-2"), "status": stale["status"]}
    assert reporter.last_sync(again, HOUR) == last_sync(again)
    assert _due(reporter, again, later)

    # Forgotten with the object.
    reporter.forget(("ns", "db"))
    assert reporter.last_sync(stale, HOUR) == last_sync(stale)


def test_a_failed_sync_is_not_remembered_as_a_sync() -> None:
    reporter, _ = _reporter(NOW)
    stale = {
        **_raw("2"),
        "status": _synced(_raw("1"), NOW - datetime.timedelta(minutes=1))["status"],
    }
    failed = status.Outcome(False, status.Reason.ERROR, "store unreachable", synced=False)
    reporter.record(stale, parse_external_secret(stale), failed, "UpdateFailed")
    assert _due(reporter, stale, NOW + datetime.timedelta(seconds=1)), "still to be synced"
