"""A failing ExternalSecret retried again and again keeps one Event up to date (count and
lastTimestamp rise), and ExternalSecrets that synced in the same second do not refresh in the
same second again after the operator restarts."""

from __future__ import annotations

import collections
import datetime
from collections.abc import Callable

from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import (
    external_secret,
    unique,
    vault,
    vault_store,
)
from tests.testbed import procs, stack

Start = Callable[..., Operator]


def _about(kube: Cluster, uid: str) -> list[client.CoreV1Event]:
    found = kube.core.list_namespaced_event(
        kube.namespace, field_selector=f"involvedObject.uid={uid}"
    )
    return list(found.items)


def _failed(kube: Cluster, uid: str) -> client.CoreV1Event | None:
    return next((e for e in _about(kube, uid) if e.reason == "UpdateFailed"), None)


def _count(kube: Cluster, uid: str) -> int:
    event = _failed(kube, uid)
    return int(event.count or 0) if event is not None else 0


def _seconds(stamp: str | None) -> float:
    assert stamp is not None
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").timestamp()


def _span(event: client.CoreV1Event) -> datetime.timedelta:
    assert event.first_timestamp is not None and event.last_timestamp is not None
    return event.last_timestamp - event.first_timestamp


def test_a_failing_external_secret_keeps_one_event_up_to_date(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key, value = unique("events"), unique("value-9f3c")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": value})
    vault_store(kube, testbed)
    kube.apply(
        "externalsecrets",
        external_secret("db", key, properties=("password",), refreshInterval="1s"),
    )
    start_operator()
    eventually(lambda: kube.data("db-secret") == {"password": value.encode()}, what="a sync")
    uid = kube.es("db")["metadata"]["uid"]

    # The store dies: nothing listens on its port. Every refresh and retry fails the same way.
    dead = f"http://127.0.0.1:{procs.free_port()}"
    kube.custom.patch_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        kube.namespace,
        "secretstores",
        "vault",
        {"spec": {"provider": {"vault": {"server": dead}}}},
    )
    first = eventually(lambda: _failed(kube, uid), what="the UpdateFailed Event")
    counts = [_count(kube, uid)]
    # The operator's own retries (with backoff), then more forced ones (an annotation change
    # syncs at once): each one raises the count of the same Event.
    eventually(lambda: _count(kube, uid) >= 3, timeout=30, what="the operator's retries")
    for i in range(10):
        before = _count(kube, uid)
        kube.patch_es("db", {"metadata": {"annotations": {"retry": str(i)}}})
        eventually(lambda: _count(kube, uid) > before, timeout=20, what=f"retry {i} counted")  # noqa: B023
        counts.append(_count(kube, uid))
    events = _about(kube, uid)
    failed = [e for e in events if e.reason == "UpdateFailed"]
    assert len(failed) == 1, [(e.metadata.name, e.message, e.count) for e in failed]
    (event,) = failed
    assert counts == sorted(counts) and _count(kube, uid) >= 13, counts
    assert _span(event) > datetime.timedelta(0), "lastTimestamp moves on"
    assert event.first_timestamp == first.first_timestamp
    # Other reasons have their own objects: one each (the first sync's Created, say).
    reasons = collections.Counter((e.reason, e.message) for e in events)
    assert max(reasons.values()) == 1 and len(events) <= 3, reasons
    # No value, no token in what a user without Secret access can read.
    shown = " ".join(f"{e.reason} {e.message}" for e in events)
    assert value not in shown and testbed.VAULT_TOKEN not in shown
    assert kube.data("db-secret") == {"password": value.encode()}, "the last good Secret is kept"


def test_after_a_restart_refreshes_with_the_same_interval_do_not_line_up(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = unique("spread")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"v": "1"})
    vault_store(kube, testbed)
    names = [f"es-{i}" for i in range(16)]
    for name in names:
        kube.apply("externalsecrets", external_secret(name, key, refreshInterval="20s"))
    operator = start_operator()

    def refresh_times() -> dict[str, str | None]:
        return {n: (kube.es(n).get("status") or {}).get("refreshTime") for n in names}

    def ready_since() -> dict[str, str | None]:
        # When each first became Ready: a refresh (its slot may come seconds after the first
        # sync) moves refreshTime but not this, so a slow poll cannot mistake one for the other.
        found = {}
        for n in names:
            conditions = (kube.es(n).get("status") or {}).get("conditions") or []
            ready = [c for c in conditions if c.get("type") == "Ready" and c["status"] == "True"]
            found[n] = ready[0].get("lastTransitionTime") if ready else None
        return found

    # New objects are not delayed: all sync at once, in the same second or two.
    first = eventually(lambda: all(ready_since().values()) and ready_since(), what="all synced")
    assert _seconds(max(first.values())) - _seconds(min(first.values())) <= 3, first
    synced = refresh_times()
    operator.stop()
    start_operator()
    # The next refresh of each (within 20 s + the grid's second) after the restart.
    moved = eventually(
        lambda: (now := refresh_times()) and all(now[n] != synced[n] for n in names) and now,
        timeout=40,
        what="every ExternalSecret refreshed again",
    )
    per_second = collections.Counter(moved.values())
    # With refreshTime + interval they would all fall in the second or two they synced in;
    # on their grids 16 objects spread over the 20 s (all inside any 8 s: a chance of 1e-5).
    assert max(per_second.values()) <= len(names) // 2, per_second
    assert _seconds(max(per_second)) - _seconds(min(per_second)) >= 8, per_second
