"""Overlap rotation (`spec.rollout.overlap`) on the real operator, OpenBao's database engine, a
real PostgreSQL and a consumer Deployment on KWOK:

- a rotation keeps the previous login working while the consumers restart on the new one; it is
  revoked (gone from pg_roles) only after every consumer is healthy and the grace has passed;
- a rotation that breaks the consumers is rolled back to the previous login, which still works,
  and the new lease is revoked;
- the operator killed (SIGKILL) during the rollout and again while the previous lease is pending
  revocation: the new process finishes the rotation, at the recorded time, not earlier; the same
  when the leader is killed and its standby takes over; and killed between writing the Secret and
  recording its rollout: the next process starts that rollout (with the previous data kept for a
  rollback) and then revokes the previous lease.

Rotations are made by changing the ExternalSecret (a generator runs again on each sync); the
consumers break on the `mode: bad` value (tests/testbed/failif.py). Grace and TTLs are seconds.
"""

from __future__ import annotations

import base64
import datetime
import json
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from secretsync.generators import leases
from secretsync.generators.leases import LEASES_ANNOTATION
from secretsync.reconcile import overlap
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, data_hash
from secretsync.rollout import record
from tests.operator import harness
from tests.operator.harness import GROUP as ES_GROUP
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.test_dynamic_leases import TOKEN_SECRET, _generator, _logs_in, _role
from tests.rollout import cluster as c
from tests.testbed import bao, baodb, postgres

Start = Callable[..., Operator]
GRACE = 6


@pytest.fixture
def overlap_kube(kube: Cluster, bao_dev: bao.Bao) -> Iterator[Cluster]:
    kube.put_secret(TOKEN_SECRET, {"token": bao_dev.token})
    yield kube
    found: Any = kube.custom.list_namespaced_custom_object(
        ES_GROUP, "v1", kube.namespace, "externalsecrets"
    )
    for item in found.get("items", []):
        if item["metadata"].get("finalizers"):
            kube.patch_es(item["metadata"]["name"], {"metadata": {"finalizers": None}})


def _es(kube: Cluster, name: str, generator: str, mode: str, grace: int = GRACE,
        **target: Any) -> None:  # fmt: skip
    ref = {"apiVersion": "generators.external-secrets.io/v1alpha1",
           "kind": "VaultDynamicSecret", "name": generator}  # fmt: skip
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": name},
            "spec": {
                "refreshInterval": "1h",
                "target": {
                    "name": name,
                    "template": {"mergePolicy": "Merge", "data": {"mode": mode}},
                    **target,
                },
                "dataFrom": [{"sourceRef": {"generatorRef": ref}}],
                "rollout": {
                    "targets": [{"kind": "Deployment", "name": "app"}],
                    "healthTimeout": "15s",
                    "overlap": {"grace": f"{grace}s"},
                },
            },
        },
    )


def _rotate(kube: Cluster, name: str, mode: str) -> None:
    kube.patch_es(name, {"spec": {"target": {"template": {"data": {"mode": mode}}}}})


def _consumers(kube: Cluster, api: client.ApiClient, secret: str) -> None:
    template = c.pod_template(
        "app", secret=secret, annotations={"testbed.secretsync.io/fail-if": f"{secret}/mode=bad"}
    )
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(kube.namespace, c.deployment("app", template))
    eventually(lambda: _ready(api, kube.namespace) == 2, what="the consumers to be healthy")


def _ready(api: client.ApiClient, namespace: str) -> int:
    found = client.AppsV1Api(api).read_namespaced_deployment_status("app", namespace)
    return int(getattr(found.status, "ready_replicas", None) or 0)


def _leases(kube: Cluster, name: str) -> list[dict[str, Any]]:
    secret = kube.secret(name)
    assert secret is not None and secret.metadata is not None
    text = (secret.metadata.annotations or {})[LEASES_ANNOTATION]
    found: list[dict[str, Any]] = json.loads(text)
    return found


def _rollout(kube: Cluster, name: str) -> dict[str, Any]:
    found: dict[str, Any] = (kube.es(name).get("status") or {}).get("rollout") or {}
    return found


def _rotation(kube: Cluster, name: str) -> dict[str, Any]:
    found: dict[str, Any] = (kube.es(name).get("status") or {}).get("leaseRotation") or {}
    return found


def _finished(rollout: dict[str, Any]) -> float:
    when = datetime.datetime.strptime(rollout["finishedAt"], "%Y-%m-%dT%H:%M:%SZ")
    return when.replace(tzinfo=datetime.UTC).timestamp()


def _user(values: dict[str, bytes]) -> str:
    return values["username"].decode()


def _changed(kube: Cluster, name: str, before: dict[str, bytes]) -> dict[str, bytes]:
    found: dict[str, bytes] = eventually(
        lambda: (d := kube.data(name)) and d != before and d, what="the new credential"
    )
    return found


def _reasons(kube: Cluster, name: str) -> set[str]:
    return {str(e.reason) for e in kube.events(name)}


def test_overlap_keeps_the_old_login_until_healthy_and_grace_and_rolls_back_to_it(
    overlap_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = overlap_kube
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    _generator(kube, bao_dev, "db", path)
    _es(kube, "app", "db", "v1")
    start_operator()
    first = eventually(lambda: kube.data("app"), what="the first credential")
    _consumers(kube, kube_api, "app")

    # A rotation: the new credential is written, the previous one stays valid and recorded.
    _rotate(kube, "app", "v2")
    second = _changed(kube, "app", first)
    assert _logs_in(postgres_db, second)
    current, previous = _leases(kube, "app")
    assert not current["retiring"] and previous["retiring"]
    assert _logs_in(postgres_db, first), "the previous login works during the rollout"

    # Consumers healthy: the previous lease is pending revocation until the end + grace.
    done = eventually(lambda: (r := _rollout(kube, "app")).get("phase") == "Succeeded" and r,
                      timeout=60, what="the rollout to succeed")  # fmt: skip
    revoke_at = _finished(done) + GRACE
    pending = eventually(lambda: (x := _leases(kube, "app")[1:]) and x[0]["revoke_at"] and x[0],
                         what="the pending revocation recorded")  # fmt: skip
    assert pending["revoke_at"] == pytest.approx(revoke_at, abs=1)
    assert _logs_in(postgres_db, first), "the previous login works during the grace"
    shown = eventually(lambda: (x := _rotation(kube, "app")).get("stage") == "Grace" and x,
                       what="status.leaseRotation Grace")  # fmt: skip
    assert shown["retiringLeases"] == 1 and shown["pendingRevocationUntil"].endswith("Z")
    eventually(lambda: postgres.roles(postgres_db, _user(first)) == [], timeout=GRACE + 15,
               what="the previous login revoked")  # fmt: skip
    revoked_seen = time.time()
    assert revoked_seen >= pending["revoke_at"], "revoked before the grace had passed"
    assert [lease["id"] for lease in _leases(kube, "app")] == [current["id"]]
    assert _logs_in(postgres_db, second)
    eventually(
        lambda: (
            {"LeaseRetiring", "LeaseRevocationScheduled", "LeasesRetired"} <= _reasons(kube, "app")
        ),
        what="the Events",
    )
    eventually(lambda: _rotation(kube, "app").get("stage") == "Idle", what="the rotation done")
    print(f"previous lease revoked {revoked_seen - _finished(done):.1f}s after healthy")

    # A rotation that breaks the consumers: rolled back to the still-valid second login, and
    # the new one revoked.
    _rotate(kube, "app", "bad")
    third = _changed(kube, "app", second)
    eventually(lambda: _rollout(kube, "app").get("phase") == "RolledBack", timeout=90,
               what="the rollback")  # fmt: skip
    assert kube.data("app") == second
    assert _logs_in(postgres_db, second), "the previous login still works after the rollback"
    eventually(lambda: postgres.roles(postgres_db, _user(third)) == [], timeout=GRACE + 20,
               what="the failed rotation's login revoked")  # fmt: skip
    (kept,) = _leases(kube, "app")
    assert kept["id"] == current["id"] and not kept["retiring"]
    assert _logs_in(postgres_db, second)
    assert postgres.roles(postgres_db, like) == [_user(second)]
    eventually(
        lambda: {"LeaseRestored", "LeasesRetired"} <= _reasons(kube, "app"), what="the Events"
    )
    eventually(lambda: _ready(kube_api, kube.namespace) == 2, timeout=30,
               what="the consumers healthy on the previous credential")  # fmt: skip


def test_killed_during_the_rollout_and_the_grace_the_revocation_comes_at_its_time(
    overlap_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = overlap_kube
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    _generator(kube, bao_dev, "db", path)
    _es(kube, "app", "db", "v1")
    operator = start_operator()
    first = eventually(lambda: kube.data("app"), what="the first credential")
    _consumers(kube, kube_api, "app")

    # Killed right after the new credential is written (the rollout in flight).
    _rotate(kube, "app", "v2")
    _changed(kube, "app", first)  # written: the rollout is in flight
    operator.stop(signal.SIGKILL)
    assert _leases(kube, "app")[1]["retiring"]
    assert _logs_in(postgres_db, first)

    # The new process resumes the rollout; killed again while the revocation is pending.
    operator = start_operator()
    pending = eventually(lambda: (x := _leases(kube, "app")[1:]) and x[0]["revoke_at"] and x[0],
                         timeout=60, what="the pending revocation recorded")  # fmt: skip
    operator.stop(signal.SIGKILL)
    assert _rollout(kube, "app")["phase"] == "Succeeded"
    assert _logs_in(postgres_db, first), "killed before its time: the previous login works"

    start_operator()
    eventually(lambda: postgres.roles(postgres_db, _user(first)) == [], timeout=GRACE + 20,
               what="the previous login revoked after the restart")  # fmt: skip
    assert time.time() >= pending["revoke_at"], "revoked before its recorded time"
    # A kill before the status write makes the restarted operator sync (and issue) once more:
    # what must hold is that only the Secret's current login is left, and that it works.
    current = kube.data("app")
    assert postgres.roles(postgres_db, like) == [_user(current)], "nothing leaked"
    assert _logs_in(postgres_db, current)


def _holder(api: client.ApiClient) -> str | None:
    lease = client.CoordinationV1Api(api).read_namespaced_lease(
        "secretsync-operator", "secretsync-system"
    )
    return lease.spec.holder_identity if lease.spec else None


# Takes the real Lease, as tests/operator/test_ha.py does: one at a time.
@pytest.mark.xdist_group("lease")
def test_a_leader_change_during_the_grace_revokes_at_the_recorded_time(
    overlap_kube: Cluster,
    kube_api: client.ApiClient,
    operator_kubeconfig: Path,
    tmp_path: Path,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = overlap_kube
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    _generator(kube, bao_dev, "db", path)
    # A grace longer than a takeover (15 s Lease), so the new leader has the chance to be early.
    _es(kube, "app", "db", "v1", grace=25)
    names = [f"replica-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    replicas = [
        harness.start(
            operator_kubeconfig,
            tmp_path / f"{identity}.log",
            "--leader-elect",
            "--namespace",
            kube.namespace,
            "--identity",
            identity,
        )
        for identity in names
    ]
    try:
        eventually(lambda: _holder(kube_api) in names, what="a replica to lead")
        leader = names.index(str(_holder(kube_api)))
        first = eventually(lambda: kube.data("app"), what="the first credential")
        _consumers(kube, kube_api, "app")
        _rotate(kube, "app", "v2")
        second = _changed(kube, "app", first)
        pending = eventually(lambda: (x := _leases(kube, "app")[1:]) and x[0]["revoke_at"]
                             and x[0], timeout=60, what="the pending revocation")  # fmt: skip
        replicas[leader].stop(signal.SIGKILL)  # the Lease must expire before the other leads
        eventually(lambda: _holder(kube_api) == names[1 - leader], timeout=40,
                   what="the standby to take over")  # fmt: skip
        took_over = time.time()
        if took_over < pending["revoke_at"]:
            assert _logs_in(postgres_db, first), "the new leader revoked before the time"
        eventually(lambda: postgres.roles(postgres_db, _user(first)) == [], timeout=40,
                   what="the new leader to revoke the previous login")  # fmt: skip
        assert time.time() >= pending["revoke_at"], "revoked before its recorded time"
        assert postgres.roles(postgres_db, like) == [_user(second)], "nothing leaked"
        print(f"took over {took_over - pending['revoke_at']:+.1f}s from the pending time")
    finally:
        for replica in replicas:
            replica.stop()


def _as_if_killed_after_the_write(
    kube: Cluster, server: bao.Bao, path: str, name: str, first: dict[str, bytes]
) -> dict[str, bytes]:
    """What a process killed right after writing a new credential leaves, and nothing more:
    the previous data kept for a rollback (written before the Secret), the Secret with the new
    login and both leases (the old one retiring), and no record of a rollout."""
    es = kube.es(name)
    kube.core.create_namespaced_secret(
        kube.namespace, record.companion(es, first, data_hash(first))
    )
    issued = bao.request(server, "GET", path)
    new = {**first, **{k: str(v).encode() for k, v in issued["data"].items()}}
    ttl, renewable = int(issued["lease_duration"]), bool(issued["renewable"])
    lease = leases.issued(issued["lease_id"], "VaultDynamicSecret/db", ttl, renewable, time.time())
    assert lease is not None
    secret = kube.secret(name)
    assert secret is not None and secret.metadata is not None
    held = leases.decode(secret.metadata.annotations)
    recorded, _ = overlap.written(held, [lease], data_hash(new), overlap=True)
    secret.data = {k: base64.b64encode(v).decode() for k, v in new.items()}
    secret.metadata.annotations = {
        **(secret.metadata.annotations or {}),
        LEASES_ANNOTATION: leases.encode(recorded),
        DATA_HASH_ANNOTATION: data_hash(new),
    }
    kube.core.replace_namespaced_secret(name, kube.namespace, secret)
    return new


def test_killed_between_the_write_and_the_rollout_the_rollout_is_started_after_restart(
    overlap_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = overlap_kube
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    _generator(kube, bao_dev, "db", path)
    _es(kube, "app", "db", "v1")
    operator = start_operator()
    first = eventually(lambda: kube.data("app"), what="the first credential")
    _consumers(kube, kube_api, "app")
    before = c.generation(kube_api, kube.namespace, "Deployment", "app")
    operator.stop(signal.SIGKILL)

    second = _as_if_killed_after_the_write(kube, bao_dev, path, "app", first)
    operator = start_operator()
    eventually(lambda: "rollout was not recorded; starting it" in operator.logs(),
               what="the lost rollout to be started")  # fmt: skip
    done = eventually(lambda: (r := _rollout(kube, "app")).get("phase") == "Succeeded" and r,
                      timeout=60, what="the rollout to succeed")  # fmt: skip
    assert done["dataHash"] == data_hash(second)
    assert c.generation(kube_api, kube.namespace, "Deployment", "app") == before + 1
    assert _logs_in(postgres_db, first), "the previous login works until its time"
    eventually(lambda: postgres.roles(postgres_db, _user(first)) == [], timeout=GRACE + 20,
               what="the previous login revoked")  # fmt: skip
    assert time.time() >= _finished(done) + GRACE
    assert postgres.roles(postgres_db, like) == [_user(second)], "nothing leaked"
    assert kube.data("app") == second


def test_a_rollback_of_a_merged_secret_makes_the_previous_lease_current_again(
    overlap_kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    """creationPolicy Merge into a Secret with a key of its own: the rollback restores the whole
    data, whose hash is not that of the ExternalSecret's data; the previous lease is still found
    by it, made current again (renewed and re-issued as the Secret's), and the new one revoked."""
    kube = overlap_kube
    kube.put_secret("app", {"other": "kept"})
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    _generator(kube, bao_dev, "db", path)
    _consumers(kube, kube_api, "app")  # on the Secret's own key: the first write rolls them
    _es(kube, "app", "db", "v1", creationPolicy="Merge")
    start_operator()
    first = eventually(lambda: (d := kube.data("app")) and "username" in d and d,
                       what="the first credential")  # fmt: skip
    assert first["other"] == b"kept"
    eventually(lambda: _rollout(kube, "app").get("phase") == "Succeeded", timeout=60,
               what="the consumers on the first credential")  # fmt: skip
    (good,) = _leases(kube, "app")

    _rotate(kube, "app", "bad")
    broken = _changed(kube, "app", first)
    assert broken["other"] == b"kept"
    eventually(lambda: _rollout(kube, "app").get("phase") == "RolledBack", timeout=90,
               what="the rollback")  # fmt: skip
    assert kube.data("app") == first
    eventually(lambda: postgres.roles(postgres_db, _user(broken)) == [], timeout=GRACE + 20,
               what="the failed rotation's login revoked")  # fmt: skip
    eventually(lambda: [x["id"] for x in _leases(kube, "app")] == [good["id"]], timeout=20,
               what="only the previous lease left")  # fmt: skip
    (kept,) = _leases(kube, "app")
    assert not kept["retiring"], "the restored credential's lease is current again"
    assert _logs_in(postgres_db, first)
    assert postgres.roles(postgres_db, like) == [_user(first)]
    eventually(lambda: _rotation(kube, "app").get("stage") == "Idle", what="the rotation done")
    assert "LeaseRestored" in _reasons(kube, "app")
