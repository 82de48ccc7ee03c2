"""The operator's apiserver client keeps a connection per sync worker: workers that share it
reuse their connections instead of opening (and TLS-handshaking) a new one per request,
whether they read the answer (a Secret read) or not (a create, a delete)."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

from secretsync.kube.client import api_client
from secretsync.kube.secrets import SecretClient
from tests.testbed import stack

WORKERS = 16
ROUNDS = 5


def test_workers_reuse_their_connections(testbed: stack.Testbed, namespace: str) -> None:
    api = api_client(testbed.KUBECONFIG, pool_size=WORKERS)
    secrets = SecretClient(api)
    # Every worker holds its connection at the same moment in each round, as busy sync
    # workers do: without the barrier, requests could run one after another on one connection.
    barrier = threading.Barrier(WORKERS)

    def work(worker: int) -> None:
        for round_ in range(ROUNDS):
            name = f"pooled-{worker}-{round_}"
            barrier.wait(timeout=60)
            secrets.create(namespace, {"metadata": {"name": name}, "data": {}})
            assert secrets.get(namespace, name) is not None
            secrets.delete(namespace, name)

    try:
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(work, range(WORKERS)))
        pools: Any = api.rest_client.pool_manager.pools
        # urllib3's pool container cannot be iterated, only asked for its keys.
        opened = sum(pools[key].num_connections for key in pools.keys())  # noqa: SIM118
    finally:
        api.close()  # type: ignore[no-untyped-call]
    # At most one connection per worker, opened in the first round and kept for the others
    # (a pool smaller than the workers opens and closes the extra ones in every round).
    assert 0 < opened <= WORKERS
