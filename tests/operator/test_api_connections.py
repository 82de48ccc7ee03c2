"""The operator's apiserver client keeps a connection per sync worker: workers that share it
reuse their connections instead of opening (and TLS-handshaking) a new one per request,
whether they read the answer (a Secret read) or not (a create, a delete, an Event), and
whether the apiserver accepts the request or refuses it (a 404); a watch read to its end gives
its connection back, and one left early is not reused with events still unread; and the
client does not rebuild its credentials before every request."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from kubernetes.config import kube_config

from secretsync.kube import client as client_module
from secretsync.kube.client import api_client, request_json, resource_path, watch_events
from secretsync.kube.events import EventRecorder
from secretsync.kube.secrets import SecretClient
from tests.testbed import stack

WORKERS = 16
ROUNDS = 5


def test_workers_reuse_their_connections(testbed: stack.Testbed, namespace: str) -> None:
    api = api_client(testbed.KUBECONFIG, pool_size=WORKERS)
    secrets = SecretClient(api)
    events = EventRecorder(api)
    # Every worker holds its connection at the same moment in each round, as busy sync
    # workers do: without the barrier, requests could run one after another on one connection.
    barrier = threading.Barrier(WORKERS)

    def work(worker: int) -> None:
        for round_ in range(ROUNDS):
            name = f"pooled-{worker}-{round_}"
            barrier.wait(timeout=60)
            secrets.create(namespace, {"metadata": {"name": name}, "data": {}})
            stored = secrets.get(namespace, name)
            assert stored is not None
            assert secrets.get(namespace, f"{name}-absent") is None  # refused: 404
            events.record(stored, "Secret", "Pooled", f"round {round_}")
            secrets.delete(namespace, name)

    try:
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(work, range(WORKERS)))
        opened = _opened(api)
    finally:
        api.close()  # type: ignore[no-untyped-call]
    # At most one connection per worker, opened in the first round and kept for the others
    # (a pool smaller than the workers opens and closes the extra ones in every round).
    assert 0 < opened <= WORKERS


def _opened(api: Any) -> int:
    pools: Any = api.rest_client.pool_manager.pools
    # urllib3's pool container cannot be iterated, only asked for its keys.
    return sum(pools[key].num_connections for key in pools.keys())  # noqa: SIM118


def test_a_watch_gives_back_its_connection_unless_left_early(
    testbed: stack.Testbed, namespace: str
) -> None:
    api = api_client(testbed.KUBECONFIG, pool_size=1)
    secrets = SecretClient(api)
    collection = resource_path("api", "v1", "namespaces", namespace, "secrets")
    try:
        secrets.create(namespace, {"metadata": {"name": "db"}, "data": {}})
        listed = request_json(api, "GET", collection, what="listing secrets")
        version = listed["metadata"]["resourceVersion"]
        for _ in range(2):
            # Ended by the apiserver after a second: read to its end, the connection goes back.
            ended = watch_events(api, collection, {"timeoutSeconds": 1}, what="watching")
            assert [e["type"] for e in ended] == ["ADDED"]
            assert secrets.get(namespace, "db") is not None
        assert _opened(api) == 1

        # Left after the first event, while the apiserver still streams: the next request on
        # the same one-connection pool gets its own answer, not the rest of the watch.
        secrets.replace(namespace, {**listed["items"][0], "data": {"k": "dmFsdWU="}})
        early = watch_events(
            api, collection, {"resourceVersion": version, "timeoutSeconds": 60}, what="watching"
        )
        assert next(early)["type"] == "MODIFIED"
        early.close()
        stored = secrets.get(namespace, "db")
        assert stored is not None and stored["data"] == {"k": "dmFsdWU="}
    finally:
        api.close()  # type: ignore[no-untyped-call]


def test_the_credential_hook_runs_at_most_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "sa-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    runs: list[object] = []
    loader_set_config = kube_config.KubeConfigLoader._set_config

    def counted(self: Any, configuration: Any) -> None:
        runs.append(configuration)
        loader_set_config(self, configuration)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(kube_config.KubeConfigLoader, "_set_config", counted)
    now = [1000.0]
    monkeypatch.setattr(client_module, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    api = api_client(str(kubeconfig))
    loaded = len(runs)
    # Every request asks for the key: the hook behind it runs once, then not within a second.
    keys = {api.configuration.get_api_key_with_prefix("BearerToken") for _ in range(100)}
    assert keys == {"Bearer sa-token"}
    assert len(runs) == loaded + 1
    now[0] += client_module.CREDENTIAL_REFRESH_SECONDS
    assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer sa-token"
    assert len(runs) == loaded + 2
