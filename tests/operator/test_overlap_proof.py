"""Rotation of a dynamic PostgreSQL credential, proven with real logins (issue 13 §5).

Three replicas of a consumer Deployment log in to the test bed's PostgreSQL every 100 ms with
the credential their Secret held when they started (tests/testbed/pgconsumer.py), and go
not-Ready when they cannot. The operator (its own ServiceAccount) issues each credential from
OpenBao's database engine through a VaultDynamicSecret generator; a rotation is a forced refresh
(ESO's force-sync annotation), which issues a new login, writes the Secret and rolls the
Deployment.

Without overlap the superseded lease is revoked as soon as the new credential is written, while
the old pods still hold it: the failed logins of that window are counted and recorded (junit
suite property `overlap off: failed_serving_logins`, and printed), not asserted away. With
overlap (`spec.rollout.overlap`) the previous login outlives the rollout and its grace: 0
failed logins. A rotation to a login that cannot log in (a NOLOGIN role) is rolled back to the
previous login, still valid, with 0 failed logins of a serving pod, and the new lease is
revoked. At the end only the current login exists in pg_roles, no session of a revoked one is
left in pg_stat_activity, and deleting the ExternalSecret leaves none.

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


def _role(server: bao.Bao, engine: baodb.DatabaseEngine, db: postgres.Postgres) -> tuple[str, str]:
    """A database role of its own (8 characters, kept in OpenBao's login names, so pg_roles
    can be searched by it): its creds path and LIKE pattern. TTLs long enough that no lease
    step happens during the test: every rotation is one we asked for. Every login it creates
    is also written down in a table of its own (_issued), which a revocation does not undo."""
    name = f"p{uuid.uuid4().hex[:7]}"
    postgres.sql(db, f"CREATE TABLE {_table(name)} (login name)")
    path = baodb.dynamic_role(server, engine, name, "10m", "30m")
    bao.request(server, "POST", f"{engine.mount}/roles/{name}",
                {"creation_statements": _counted(name, baodb.CREATE)})  # fmt: skip
    return path, f"v-%-{name}-%"


def _table(role: str) -> str:
    return f"issued_{role}"


def _counted(role: str, create: str) -> list[str]:
    """Creation statements that also record the login in the role's table."""
    return [create, f"INSERT INTO {_table(role)} VALUES ('{{{{name}}}}');"]  # noqa: S608 - test-chosen name


def _issued(db: postgres.Postgres, role: str) -> int:
    """How many logins OpenBao created for the role, revoked ones included."""
    return int(postgres.sql(db, f"SELECT count(*) FROM {_table(role)}").strip())  # noqa: S608 - test-chosen name


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


def _sessions(db: postgres.Postgres, like: str) -> list[str]:
    query = f"SELECT usename FROM pg_stat_activity WHERE usename LIKE '{like}'"  # noqa: S608 - test-chosen pattern
    return [line for line in postgres.sql(db, query).splitlines() if line]


def _gone(kube: Cluster, name: str) -> bool:
    try:
        kube.es(name)
    except client.exceptions.ApiException as exc:
        return exc.status == 404
    return False


def _setup(kube: Cluster, api: client.ApiClient, server: bao.Bao, db: postgres.Postgres,
           engine: baodb.DatabaseEngine, consumers: pgconsumer.Consumers, start: Start,
           rollout: dict[str, Any]) -> tuple[str, str]:  # fmt: skip
    """The generator, the ExternalSecret, the operator and the consumers up on the first
    login; the role's name and pg_roles pattern."""
    path, like = _role(server, engine, db)
    _generator(kube, server, path)
    _es(kube, rollout)
    start()
    condition(kube, SECRET, "True", "SecretSynced", timeout=30)
    first = _user(kube)
    _consumer(api, kube.namespace)
    eventually(lambda: _rolled_to(api, kube.namespace, consumers, first), timeout=60,
               what="the consumers up on the first login")  # fmt: skip
    assert consumers.totals()["failed_serving"] == consumers.totals()["failed_start"] == 0
    role = path.rsplit("/", 1)[-1]
    assert _issued(db, role) == 1, "the first sync issued more than one credential"
    return role, like


def _rotate(kube: Cluster, api: client.ApiClient, db: postgres.Postgres,
            consumers: pgconsumer.Consumers, step: int, *, overlap: bool) -> str:  # fmt: skip
    """Force one rotation and wait until every consumer runs on the new login (and, with
    overlap, the previous one is revoked after its grace); the new login."""
    old = _user(kube)
    kube.patch_es(SECRET, {"metadata": {"annotations": {FORCE_SYNC: f"{step}-{time.time()}"}}})
    new: str = eventually(lambda: (u := _user(kube)) != old and u, timeout=30,
                          what=f"rotation {step}: a new credential")  # fmt: skip
    if overlap:
        # Written, not yet rolled out (new pods need a second of readiness): still valid.
        assert postgres.roles(db, old) == [old], "the previous login was revoked early"
    else:
        # Without overlap the old login is revoked right after the write (the next call the
        # operator makes), before the rollout ends.
        eventually(lambda: postgres.roles(db, old) == [], timeout=10,
                   what=f"rotation {step}: the previous login revoked at the write")  # fmt: skip
    # A sync that a kill or a race repeats issues once more: the consumers end on whatever
    # the Secret holds last, which is what a rotation must deliver.
    eventually(lambda: _rolled_to(api, kube.namespace, consumers, _user(kube)), timeout=120,
               what=f"rotation {step}: the consumers on the new login")  # fmt: skip
    new = _user(kube)
    if overlap:
        eventually(lambda: postgres.roles(db, old) == [], timeout=30,
                   what=f"rotation {step}: the previous login revoked after its grace")  # fmt: skip
    return new


def _rotations(kube: Cluster, api: client.ApiClient, db: postgres.Postgres, role: str,
               consumers: pgconsumer.Consumers, *,
               overlap: bool) -> tuple[list[int], list[int]]:  # fmt: skip
    """ROTATIONS forced rotations; the failed logins of serving pods in each, and the logins
    issued in each beyond the one a force-sync asks for (a second one is superseded at once: a
    lease leaked until its TTL, had it not been revoked)."""
    per_rotation: list[int] = []
    extra: list[int] = []
    users = {_user(kube)}
    for step in range(1, ROTATIONS + 1):
        served, issued = consumers.totals()["failed_serving"], _issued(db, role)
        users.add(_rotate(kube, api, db, consumers, step, overlap=overlap))
        per_rotation.append(consumers.totals()["failed_serving"] - served)
        extra.append(_issued(db, role) - issued - 1)
    assert len(users) >= ROTATIONS + 1
    assert min(extra) >= 0, f"a rotation issued no credential: {extra}"
    return per_rotation, extra


def _record(consumers: pgconsumer.Consumers, per_rotation: list[int], label: str,
            record: Callable[[str, object], None]) -> dict[str, int]:  # fmt: skip
    totals = consumers.totals()
    for name, value in (("rotations", len(per_rotation)),
                        ("failed_serving_logins", totals["failed_serving"]),
                        ("failed_serving_per_rotation", per_rotation),
                        ("failed_start_logins", totals["failed_start"]),
                        ("ok_logins", totals["ok"])):  # fmt: skip
        record(f"{label}: {name}", value)
    print(f"{label}, {len(per_rotation)} rotation(s): {totals['failed_serving']} failed logins of "
          f"serving pods ({per_rotation}), {totals['failed_start']} of pods that never "
          f"served, {totals['ok']} ok")  # fmt: skip
    return totals


def _no_leaks(kube: Cluster, db: postgres.Postgres, consumers: pgconsumer.Consumers,
              like: str) -> None:  # fmt: skip
    """Only the current login exists and no session of another is open; deleting the
    ExternalSecret revokes that one too."""
    current = _user(kube)
    assert postgres.roles(db, like) == [current]
    consumers.stop()
    assert set(_sessions(db, like)) <= {current}
    kube.custom.delete_namespaced_custom_object(ES_GROUP, "v1", kube.namespace,
                                                "externalsecrets", SECRET)  # fmt: skip
    eventually(lambda: _gone(kube, SECRET), timeout=20, what="the ExternalSecret to go")
    assert postgres.roles(db, like) == []
    assert _sessions(db, like) == []


def test_rotations_without_overlap_show_the_window(
    proof_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
    pg_consumers: pgconsumer.Consumers,
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    kube = proof_kube
    role, like = _setup(kube, kube_api, bao_dev, postgres_db, bao_database, pg_consumers,
                        start_operator, {})  # fmt: skip
    per_rotation, extra = _rotations(kube, kube_api, postgres_db, role, pg_consumers,
                                     overlap=False)  # fmt: skip
    totals = _record(pg_consumers, per_rotation, "overlap off", record_testsuite_property)
    record_testsuite_property("overlap off: extra_issues_per_rotation", extra)
    assert sum(extra) == 0, f"a force-sync issued more than one credential: {extra}"
    # The counts are real: every pod logged in, and every rotation's pods were counted.
    assert totals["pods"] == REPLICAS * (ROTATIONS + 1)
    assert all(p.ok > 0 for p in pg_consumers.counts()), "a pod never logged in"
    assert totals["failed_start"] == 0, "a new pod started with a credential that did not work"
    assert sum(per_rotation) == totals["failed_serving"]
    _no_leaks(kube, postgres_db, pg_consumers, like)


def test_rotations_with_overlap_fail_no_login(
    proof_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
    pg_consumers: pgconsumer.Consumers,
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    kube = proof_kube
    overlap = {"overlap": {"grace": "2s"}}
    role, like = _setup(kube, kube_api, bao_dev, postgres_db, bao_database, pg_consumers,
                        start_operator, overlap)  # fmt: skip
    per_rotation, extra = _rotations(kube, kube_api, postgres_db, role, pg_consumers,
                                     overlap=True)  # fmt: skip
    totals = _record(pg_consumers, per_rotation, "overlap on", record_testsuite_property)
    # Counted, not asserted: one run of 50 issued one login more in one rotation, cause not
    # found (docs/rotation.md); _no_leaks below shows it was revoked all the same.
    record_testsuite_property("overlap on: extra_issues_per_rotation", extra)
    print(f"overlap on: {sum(extra)} login(s) issued beyond one per force-sync ({extra})")
    assert totals["pods"] == REPLICAS * (ROTATIONS + 1)
    assert all(p.ok > 0 for p in pg_consumers.counts()), "a pod never logged in"
    assert totals["failed_serving"] == 0, f"failed logins per rotation: {per_rotation}"
    assert totals["failed_start"] == 0
    _no_leaks(kube, postgres_db, pg_consumers, like)


def test_a_broken_credential_is_rolled_back_with_no_failed_login(
    proof_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
    pg_consumers: pgconsumer.Consumers,
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    kube = proof_kube
    overlap = {"overlap": {"grace": "2s"}}
    role, like = _setup(kube, kube_api, bao_dev, postgres_db, bao_database, pg_consumers,
                        start_operator, overlap)  # fmt: skip
    good = _user(kube)
    # The role now issues logins that cannot log in: the next credential is broken.
    nologin = baodb.CREATE.replace("WITH LOGIN", "WITH NOLOGIN")
    bao.request(bao_dev, "POST", f"{bao_database.mount}/roles/{role}",
                {"creation_statements": _counted(role, nologin)})  # fmt: skip
    kube.patch_es(SECRET, {"metadata": {"annotations": {FORCE_SYNC: "broken"}}})
    broken: str = eventually(lambda: (u := _user(kube)) != good and u, timeout=30,
                             what="the broken credential written")  # fmt: skip
    assert postgres.roles(postgres_db, broken) == [broken]
    eventually(lambda: _rollout_failed(kube), timeout=90, what="RolloutFailed")
    eventually(lambda: _user(kube) == good, timeout=30, what="the previous login restored")
    eventually(lambda: _rolled_to(kube_api, kube.namespace, pg_consumers, good), timeout=60,
               what="the consumers back on the previous login")  # fmt: skip
    eventually(lambda: postgres.roles(postgres_db, broken) == [], timeout=30,
               what="the broken credential's lease revoked")  # fmt: skip
    assert postgres.roles(postgres_db, good) == [good]

    served = pg_consumers.totals()["failed_serving"]
    _record(pg_consumers, [served], "broken credential", record_testsuite_property)
    assert served == 0, "a serving pod failed to log in"
    # The pods started on the broken login never logged in (and so never became Ready).
    on_broken = [p for p in pg_consumers.counts() if p.user == broken]
    assert on_broken and all(p.ok == 0 and p.failed_start > 0 for p in on_broken)
    _no_leaks(kube, postgres_db, pg_consumers, like)


def _rollout_failed(kube: Cluster) -> bool:
    conditions = (kube.es(SECRET).get("status") or {}).get("conditions") or []
    return any(x.get("type") == "RolloutFailed" and x.get("status") == "True" for x in conditions)
