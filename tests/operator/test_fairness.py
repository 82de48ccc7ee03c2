"""Fairness and limits on the test bed, with the operator as its own process: one namespace's
backlog on a slow store does not hold up another namespace, and the caps fail one sync with a
clear message while the last good Secret stays."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client

from secretsync import limits
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, external_secret, vault, vault_store
from tests.testbed import stack

BACKLOG = 200
"""ExternalSecrets due at once on the slow store. The property does not depend on the number
(tests/reconcile/test_fairness.py shows it for 5,000 on a simulated clock); 200 keep the test
inside a minute on the 2-core test bed."""
DELAY = 5.0
LONE_READY_WITHIN = 4.0
"""The lone ExternalSecret's create-to-Ready bound: its own sync (a Vault read, a Secret
write, a status write) and the watch delivering it, never a wait for a 5 s call."""


@contextlib.contextmanager
def slow_proxy(upstream: str, delay: float) -> Iterator[str]:
    """A loopback HTTP relay to `upstream` that holds every request `delay` seconds."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            time.sleep(delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            request = urllib.request.Request(  # noqa: S310 - the test bed's OpenBao, loopback
                upstream.rstrip("/") + self.path, body or None, headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    status, data = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, data = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _relay

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ready_at(kube: Cluster, name: str) -> bool:
    ready = kube.ready(name) or {}
    return ready.get("status") == "True"


def test_a_slow_store_backlog_does_not_delay_another_namespace(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    make_namespace: Callable[..., str],
) -> None:
    key = f"fair/{kube.namespace}"
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": "p"})
    other = Cluster(kube_api, make_namespace())
    with slow_proxy(testbed.VAULT_ADDR, DELAY) as slow_url:
        vault_store(kube, testbed, name="slow")
        kube.custom.patch_namespaced_custom_object(
            "external-secrets.io",
            "v1",
            kube.namespace,
            "secretstores",
            "slow",
            {"spec": {"provider": {"vault": {"server": slow_url}}}},
        )
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda i: kube.apply(
                        "externalsecrets", external_secret(f"es-{i}", key, store="slow")
                    ),
                    range(BACKLOG),
                )
            )
        vault_store(other, testbed, name="fast")
        operator = start_operator("--concurrency", "8", also=(other.namespace,))
        # The backlog holds every worker the slow store may have before the lone one comes.
        eventually(
            lambda: sum(ready_at(kube, f"es-{i}") for i in range(0, BACKLOG, 25)) >= 1,
            timeout=60,
            what="the slow store's first syncs",
        )
        created = time.monotonic()
        other.apply("externalsecrets", external_secret("lone", key, store="fast"))
        eventually(lambda: ready_at(other, "lone"), timeout=60, what="the lone ExternalSecret")
        took = time.monotonic() - created
        behind = sum(not ready_at(kube, f"es-{i}") for i in range(BACKLOG))
        print(f"lone ExternalSecret create->Ready {took:.2f} s with {behind} of {BACKLOG} behind")
        assert behind > BACKLOG // 2, "the backlog was still there while the lone one synced"
        assert took < LONE_READY_WITHIN, f"{took:.2f} s"
        metrics = operator.metrics()
        fast = f'store_kind="SecretStore",store_namespace="{other.namespace}",store="fast"'
        assert f"secretsync_store_rate_limit_tokens{{{fast}}}" in metrics


def test_a_secret_over_1_mib_fails_and_the_last_good_one_stays(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"big/{kube.namespace}"
    client_ = vault(testbed)
    client_.secrets.kv.v2.create_or_update_secret(key, secret={"a": "small"})
    vault_store(kube, testbed)
    kube.apply("externalsecrets", external_secret("big", key, refreshInterval="1s"))
    start_operator()
    condition(kube, "big", "True", "SecretSynced")
    assert kube.data("big-secret") == {"a": b"small"}

    half = "x" * (limits.SECRET_MAX_BYTES // 2)
    client_.secrets.kv.v2.create_or_update_secret(key, secret={"a": half, "b": half})
    failed = condition(kube, "big", "False", "SecretSyncedError", timeout=30)
    message = failed["message"]
    assert f"ExternalSecret {kube.namespace}/big" in message
    assert "1048578 bytes, over the 1048576-byte (1 MiB) limit" in message
    assert "split the data" in message
    assert kube.data("big-secret") == {"a": b"small"}
    assert half not in message


def test_a_find_over_the_cap_fails_and_the_last_good_secret_stays(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    client_ = vault(testbed)
    prefix = f"many-{kube.namespace}"
    for i in range(2):
        client_.secrets.kv.v2.create_or_update_secret(f"{prefix}/k{i}", secret={"v": str(i)})
    vault_store(kube, testbed)
    body = external_secret("many", "unused")
    body["spec"]["dataFrom"] = [{"find": {"path": prefix, "name": {"regexp": ".*"}}}]
    kube.apply("externalsecrets", body)
    start_operator()
    condition(kube, "many", "True", "SecretSynced")
    good = kube.data("many-secret")
    assert good and len(good) == 2

    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: client_.secrets.kv.v2.create_or_update_secret(
                    f"{prefix}/k{i}", secret={"v": str(i)}
                ),
                range(2, limits.FIND_MAX_KEYS + 2),
            )
        )
    # All written, then one refresh: a refresh part-way would rightly sync the keys so far.
    kube.patch_es("many", {"metadata": {"annotations": {"force-sync": str(time.time())}}})
    failed = condition(kube, "many", "False", "SecretSyncedError", timeout=60)
    message = failed["message"]
    assert f"ExternalSecret {kube.namespace}/many" in message
    assert f"matched {limits.FIND_MAX_KEYS + 2} remote secrets" in message
    assert f"over the limit of {limits.FIND_MAX_KEYS} per find" in message
    assert "narrow find.path" in message
    assert kube.data("many-secret") == good
