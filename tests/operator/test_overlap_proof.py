"""Rotation of a dynamic PostgreSQL credential, proven with real logins (issue 13 §5).

Three replicas of a consumer Deployment log in to the test bed's PostgreSQL every 100 ms with
the credential their Secret held when they started (tests/testbed/pgconsumer.py), and go
not-Ready when they cannot. The operator (its own ServiceAccount) issues each credential from
OpenBao's database engine through a VaultDynamicSecret generator; a rotation is a forced refresh
(ESO's force-sync annotation), which issues a new login, writes the Secret and rolls the
Deployment.

Without overlap the superseded lease is revoked as soon as the new credential is written, while
the old pods still hold it: the failed logins of that window are counted and recorded (the
junit property `failed_serving_logins`, and printed), not asserted away. At the end only the
current login exists in pg_roles, no session of a revoked one is left in pg_stat_activity, and
deleting the ExternalSecret leaves none.

ROTATIONS (10 by default, SECRETSYNC_ROTATIONS to change it: 50 is the bench-style run) rotations
of about 4-5 s each: minReadySeconds 1 on three pods rolled one at a time.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.operator.harness import GROUP as ES_GROUP
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition
from tests.rollout import cluster as c
from tests.testbed import bao, baodb, pgconsumer, postgres

Start = Callable[..., Operator]
GEN_GROUP, GEN_VERSION = "generators.external-secrets.io", "v1alpha1"
TOKEN_SECRET = "bao-token"
SECRET = "db"
APP = "consumer"
REPLICAS = 3
ROTATIONS = int(os.environ.get("SECRETSYNC_ROTATIONS", "10"))
FORCE_SYNC = "force-sync"


@pytest.fixture
def proof_kube(kube: Cluster, bao_dev: bao.Bao) -> Iterator[Cluster]:
    """The namespace with the store token; afterwards no ExternalSecret keeps our finalizer."""
    kube.put_secret(TOKEN_SECRET, {"token": bao_dev.token})
    yield kube
    found = kube.custom.list_namespaced_custom_object(
        ES_GROUP, "v1", kube.namespace, "externalsecrets"
    )
    for item in found.get("items", []):
        if item["metadata"].get("finalizers"):
            kube.patch_es(item["metadata"]["name"], {"metadata": {"finalizers": None}})


def _role(server: bao.Bao, engine: baodb.DatabaseEngine) -> tuple[str, str]:
    """A database role of its own (8 characters, kept in OpenBao's login names, so pg_roles
    can be searched by it): its creds path and LIKE pattern. TTLs long enough that no lease
    step happens during the test: every rotation is one we asked for."""
    name = f"p{uuid.uuid4().hex[:7]}"
    return baodb.dynamic_role(server, engine, name, "10m", "30m"), f"v-%-{name}-%"


def _generator(kube: Cluster, server: bao.Bao, path: str) -> None:
    body = {
        "apiVersion": f"{GEN_GROUP}/{GEN_VERSION}",
        "kind": "VaultDynamicSecret",
        "metadata": {"name": "db"},
        "spec": {
            "provider": {
                "server": server.addr,
                "auth": {"tokenSecretRef": {"name": TOKEN_SECRET, "key": "token"}},
            },
            "path": path,
        },
    }
    kube.custom.create_namespaced_custom_object(
        GEN_GROUP, GEN_VERSION, kube.namespace, "vaultdynamicsecrets", body
    )


def _es(kube: Cluster, rollout: dict[str, Any]) -> None:
    ref = {"apiVersion": f"{GEN_GROUP}/{GEN_VERSION}", "kind": "VaultDynamicSecret",
           "name": "db"}  # fmt: skip
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": SECRET},
            "spec": {
                "refreshInterval": "1h",
                "target": {"name": SECRET},
                "dataFrom": [{"sourceRef": {"generatorRef": ref}}],
                "rollout": {
                    "targets": [{"kind": "Deployment", "name": APP}],
                    "healthTimeout": "30s",
                    **rollout,
                },
            },
        },
    )


def _consumer(api: client.ApiClient, namespace: str) -> None:
    template = c.pod_template(APP, secret=SECRET, annotations={pgconsumer.ANNOTATION: SECRET})
    body = c.deployment(APP, template, replicas=REPLICAS)
    body.spec.min_ready_seconds = 1  # a pod whose first login fails is never available
    client.AppsV1Api(api).create_namespaced_deployment(namespace, body)


def _user(kube: Cluster) -> str:
    found = kube.data(SECRET) or {}
    return found.get("username", b"").decode()


def _rolled_to(api: client.ApiClient, namespace: str, consumers: pgconsumer.Consumers,
               user: str) -> bool:  # fmt: skip
    """Every running consumer pod started with `user`, and the Deployment is complete."""
    running = consumers.running()
    if len(running) != REPLICAS or any(p.user != user for p in running):
        return False
    found = client.AppsV1Api(api).read_namespaced_deployment_status(APP, namespace)
    status = found.status
    return bool(
        status.observed_generation == found.metadata.generation
        and (status.updated_replicas or 0) == REPLICAS
        and (status.available_replicas or 0) == REPLICAS
        and (status.replicas or 0) == REPLICAS
    )


def _rotate(kube: Cluster, api: client.ApiClient, consumers: pgconsumer.Consumers,
            step: int) -> tuple[str, str]:  # fmt: skip
    """Force one rotation and wait until every consumer runs on the new login; (old, new)."""
    old = _user(kube)
    kube.patch_es(SECRET, {"metadata": {"annotations": {FORCE_SYNC: f"{step}-{time.time()}"}}})
    new: str = eventually(lambda: (u := _user(kube)) != old and u, timeout=30,
                          what=f"rotation {step}: a new credential")  # fmt: skip
    eventually(lambda: _rolled_to(api, kube.namespace, consumers, new), timeout=60,
               what=f"rotation {step}: the consumers on the new login")  # fmt: skip
    return old, new


def _sessions(db: postgres.Postgres, like: str) -> list[str]:
    query = f"SELECT usename FROM pg_stat_activity WHERE usename LIKE '{like}'"  # noqa: S608 - test-chosen pattern
    return [line for line in postgres.sql(db, query).splitlines() if line]


def _gone(kube: Cluster, name: str) -> bool:
    try:
        kube.es(name)
    except client.exceptions.ApiException as exc:
        return exc.status == 404
    return False


def test_rotations_without_overlap_show_the_window(
    proof_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
    pg_consumers: pgconsumer.Consumers,
    record_property: Callable[[str, object], None],
) -> None:
    kube = proof_kube
    path, like = _role(bao_dev, bao_database)
    _generator(kube, bao_dev, path)
    _es(kube, {})
    start_operator()
    condition(kube, SECRET, "True", "SecretSynced", timeout=30)
    first = _user(kube)
    _consumer(kube_api, kube.namespace)
    eventually(lambda: _rolled_to(kube_api, kube.namespace, pg_consumers, first), timeout=60,
               what="the consumers up on the first login")  # fmt: skip
    before = pg_consumers.totals()

    per_rotation: list[int] = []
    users = {first}
    for step in range(1, ROTATIONS + 1):
        served = pg_consumers.totals()["failed_serving"]
        old, new = _rotate(kube, kube_api, pg_consumers, step)
        users.add(new)
        # Without overlap the old login is dropped at the write, before the rollout ends.
        assert postgres.roles(postgres_db, old) == []
        per_rotation.append(pg_consumers.totals()["failed_serving"] - served)

    totals = pg_consumers.totals()
    record_property("rotations", ROTATIONS)
    record_property("failed_serving_logins", totals["failed_serving"])
    record_property("failed_serving_per_rotation", per_rotation)
    record_property("ok_logins", totals["ok"])
    print(f"overlap off, {ROTATIONS} rotations: {totals['failed_serving']} failed logins of "
          f"serving pods ({per_rotation}), {totals['ok']} ok")  # fmt: skip

    # The counts are real: every pod logged in, and every rotation's pods were counted.
    assert before["failed_serving"] == 0 and before["failed_start"] == 0
    assert totals["pods"] == REPLICAS * (ROTATIONS + 1)
    assert all(p.ok > 0 for p in pg_consumers.counts()), "a pod never logged in"
    assert totals["failed_start"] == 0, "a new pod started with a credential that did not work"
    assert len(users) == ROTATIONS + 1
    assert sum(per_rotation) == totals["failed_serving"]

    # Nothing leaked: only the current login exists, and no session of an old one is open.
    current = _user(kube)
    assert postgres.roles(postgres_db, like) == [current]
    pg_consumers.stop()
    assert set(_sessions(postgres_db, like)) <= {current}
    kube.custom.delete_namespaced_custom_object(ES_GROUP, "v1", kube.namespace,
                                                "externalsecrets", SECRET)  # fmt: skip
    eventually(lambda: _gone(kube, SECRET), timeout=20, what="the ExternalSecret to go")
    assert postgres.roles(postgres_db, like) == []
