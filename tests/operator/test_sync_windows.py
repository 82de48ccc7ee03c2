"""spec.syncWindows through the running operator: the first sync is never held, a deny window
holds a changed source value back while it is open (status untouched, no Event), and the value
arrives once the window closes."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, unique, vault, vault_store
from tests.testbed import stack

HOLD = 14  # seconds the deny window stays open after the test has seen the first sync


def test_a_deny_window_holds_a_change_back_and_releases_it_after(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = unique(f"windows/{kube.namespace}")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": "first-7a1"})
    vault_store(kube, testbed)
    # A daily window that opened at the start of this minute (UTC) and closes HOLD seconds
    # from now: cron has minute resolution, the duration does the rest.
    now = datetime.datetime.now(datetime.UTC)
    opened = now.replace(second=0, microsecond=0)
    closes = now + datetime.timedelta(seconds=HOLD)
    duration = int((closes - opened).total_seconds())
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "held"},
            "spec": {
                "refreshInterval": "1s",
                "syncWindows": {
                    "kind": "deny",
                    "windows": [
                        {
                            "schedule": f"{opened.minute} {opened.hour} * * *",
                            "duration": f"{duration}s",
                        }
                    ],
                },
                "secretStoreRef": {"name": "vault"},
                "target": {"name": "held"},
                "data": [
                    {"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}
                ],
            },
        },
    )
    start_operator()
    # Never synced: the window does not apply to the first sync.
    eventually(lambda: kube.data("held") == {"password": b"first-7a1"}, what="the first sync")
    ready = condition(kube, "held", "True", "SecretSynced")
    events_before = len(kube.events("held"))

    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": "second-9c4"})
    # While the window is open, every due refresh (each second) is held back.
    while datetime.datetime.now(datetime.UTC) < closes - datetime.timedelta(seconds=2):
        assert kube.data("held") == {"password": b"first-7a1"}
        time.sleep(0.5)
    assert kube.ready("held") == ready  # status untouched while held
    assert len(kube.events("held")) == events_before  # and no Event

    # Released: the value arrives right after the window closes.
    eventually(
        lambda: kube.data("held") == {"password": b"second-9c4"}, timeout=HOLD, what="the release"
    )
    released_at = datetime.datetime.now(datetime.UTC)
    assert released_at >= closes
    assert released_at - closes < datetime.timedelta(seconds=5)
