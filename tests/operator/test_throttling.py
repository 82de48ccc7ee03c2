"""A store that throttles, on the test bed, with the operator as its own process: OpenBao behind
a loopback relay that answers 429 "rate limit quota exceeded" for a while. The operator backs
off (counted at the relay), says so in its metrics, keeps the last good Secrets, and recovers
once the store lets calls through again."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import (
    external_secret,
    unique,
    vault,
    vault_store_body,
    visible_text,
)
from tests.testbed import stack
from tests.testbed.store_proxy import StoreProxy, store_proxy

SYNCING = 5
"""ExternalSecrets on the throttling store, each refreshing every second: unthrottled they call
it 5 times a second."""
WINDOW = 20.0
"""How long the store is watched throttling; without backoff that is SYNCING * WINDOW calls."""
MAX_CALLS_IN_WINDOW = SYNCING * (int(math.log2(WINDOW)) + 1)
"""With backoff doubling from 1 s, each ExternalSecret calls at most about log2(WINDOW) + 1
times in the window (the store's pause and each one's own retry backoff both double); a 1 s
refresh without backoff would make SYNCING * WINDOW calls, 100."""

SAMPLE = re.compile(r"^(\w+)\{([^}]*)\} (\S+)$")


def sample(metrics: str, name: str, labels: str) -> float:
    """One series' value, 0 when it is absent."""
    for line in metrics.splitlines():
        match = SAMPLE.match(line)
        if match and match[1] == name and match[2] == labels:
            return float(match[3])
    return 0.0


def synced(kube: Cluster, name: str, value: str) -> bool:
    ready = kube.ready(name) or {}
    return ready.get("status") == "True" and kube.data(f"{name}-secret") == {
        "password": value.encode()
    }


def throttled(kube: Cluster, name: str) -> dict[str, Any] | None:
    """The Ready condition once it reports the store's throttling."""
    ready = kube.ready(name) or {}
    return ready if "rate limited" in ready.get("message", "") else None


def test_a_throttling_store_is_backed_off_and_recovers_with_the_last_good_secrets_kept(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    kube_api: client.ApiClient,
) -> None:
    key = f"throttle/{kube.namespace}"
    first, second = unique("first"), unique("second")
    bao = vault(testbed)
    bao.secrets.kv.v2.create_or_update_secret(key, secret={"password": first})
    names = [f"es-{i}" for i in range(SYNCING)]
    with store_proxy(testbed.VAULT_ADDR) as proxy:
        kube.put_secret("vault-token", {"token": testbed.VAULT_TOKEN})
        store = vault_store_body(testbed)
        store["spec"]["provider"]["vault"]["server"] = proxy.url
        kube.apply("secretstores", store)
        for name in names:
            kube.apply("externalsecrets", external_secret(name, key, refreshInterval="1s"))
        operator = start_operator()
        for name in names:
            eventually(partial(synced, kube, name, first), what=f"{name} synced")

        bao.secrets.kv.v2.create_or_update_secret(key, secret={"password": second})
        proxy.throttle(True)
        for name in names:
            failed = eventually(
                partial(throttled, kube, name), timeout=60, what=f"{name} failing as throttled"
            )
            assert failed["status"] == "False"
            assert failed["reason"] == "SecretSyncedError"
        watched = time.monotonic()
        # The observation window is the property itself: how many calls arrive in it.
        time.sleep(WINDOW)
        calls = proxy.arrivals(since=watched)
        print(f"{len(calls)} calls in {WINDOW:g} s of throttling from {SYNCING} ExternalSecrets")
        print("rounds at", sorted({round(c.at - watched) for c in calls}), "s")
        assert len(calls) <= MAX_CALLS_IN_WINDOW, [(c.method, c.path) for c in calls]
        for name in names:
            assert kube.data(f"{name}-secret") == {"password": first.encode()}
        _assert_throttling_in_metrics(operator.metrics(), kube.namespace)
        text = " ".join(visible_text(kube, *names))
        assert first not in text and second not in text

        proxy.throttle(False)
        unthrottled = time.monotonic()
        for name in names:
            eventually(
                partial(synced, kube, name, second),
                timeout=150,
                what=f"{name} recovered with the new value",
            )
        print(f"all recovered {time.monotonic() - unthrottled:.1f} s after the throttling ended")
        _assert_no_call_was_throttled_after(proxy, unthrottled)


def _assert_throttling_in_metrics(metrics: str, namespace: str) -> None:
    store = f'store_kind="SecretStore",store_namespace="{namespace}",store="vault"'
    throttled = sample(metrics, "secretsync_store_throttled_total", store)
    waited = sample(metrics, "secretsync_store_rate_limited_seconds_total", store)
    errors = sample(metrics, "secretsync_store_sync_errors_total", f'{store},reason="Throttled"')
    assert throttled >= SYNCING, metrics
    assert waited > 0, "calls waited out the store's pause"
    assert errors >= SYNCING


def _assert_no_call_was_throttled_after(proxy: StoreProxy, moment: float) -> None:
    assert all(not call.throttled for call in proxy.arrivals(since=moment))
