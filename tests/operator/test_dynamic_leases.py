"""VaultDynamicSecret leases on the real operator (its own ServiceAccount), OpenBao's database
engine and a real PostgreSQL: the Secret's login works and its lease is recorded beside it (no
credential in the annotation); between refreshes the lease is renewed (OpenBao shows the later
expiry; the data, so the consumers, are untouched), and re-issued before its max TTL (the new
login works, the old lease is revoked, its role gone from pg_roles), across an operator restart;
deleting the ExternalSecret revokes its lease and lets go of the finalizer, also when the
generator is gone (said in an Event). What a sync issued and could not write is revoked.
No credential reaches the logs, the Events or the status.

TTLs are tens of seconds, so the file runs in about a minute and a half.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from secretsync.generators import leases
from secretsync.generators.leases import LEASES_ANNOTATION
from secretsync.reconcile.lease_plan import FINALIZER
from tests.operator import test_overlap_proof as proof
from tests.operator.harness import GROUP as ES_GROUP
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition
from tests.testbed import bao, baodb, postgres

Start = Callable[..., Operator]
GEN_GROUP, GEN_VERSION = "generators.external-secrets.io", "v1alpha1"
TOKEN_SECRET = "bao-token"


@pytest.fixture
def leases_kube(kube: Cluster, bao_dev: bao.Bao) -> Iterator[Cluster]:
    """The test namespace with the store token; afterwards no ExternalSecret keeps our
    finalizer (a stopped operator must not leave the namespace stuck terminating)."""
    kube.put_secret(TOKEN_SECRET, {"token": bao_dev.token})
    yield kube
    found = kube.custom.list_namespaced_custom_object(
        ES_GROUP, "v1", kube.namespace, "externalsecrets"
    )
    for item in found.get("items", []):
        if item["metadata"].get("finalizers"):
            kube.patch_es(item["metadata"]["name"], {"metadata": {"finalizers": None}})


def _role(server: bao.Bao, engine: baodb.DatabaseEngine, ttl: str, max_ttl: str) -> tuple[str, str]:
    """A database role with a name of its own (8 characters: OpenBao's login names keep that
    much of it, so pg_roles can be searched by it); its creds path and LIKE pattern."""
    name = f"l{uuid.uuid4().hex[:7]}"
    return baodb.dynamic_role(server, engine, name, ttl, max_ttl), f"v-%-{name}-%"


def _generator(kube: Cluster, server: bao.Bao, name: str, path: str, **lease: Any) -> None:
    spec: dict[str, Any] = {
        "provider": {
            "server": server.addr,
            "auth": {"tokenSecretRef": {"name": TOKEN_SECRET, "key": "token"}},
        },
        "path": path,
    }
    if lease:
        spec["lease"] = lease
    body = {
        "apiVersion": f"{GEN_GROUP}/{GEN_VERSION}",
        "kind": "VaultDynamicSecret",
        "metadata": {"name": name},
        "spec": spec,
    }
    kube.custom.create_namespaced_custom_object(
        GEN_GROUP, GEN_VERSION, kube.namespace, "vaultdynamicsecrets", body
    )


def _es(kube: Cluster, name: str, generator: str, **target: Any) -> None:
    ref = {"apiVersion": f"{GEN_GROUP}/{GEN_VERSION}", "kind": "VaultDynamicSecret",
           "name": generator}  # fmt: skip
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": name},
            "spec": {
                "refreshInterval": "1h",
                "target": {"name": name, **target},
                "dataFrom": [{"sourceRef": {"generatorRef": ref}}],
            },
        },
    )


def _recorded(kube: Cluster, name: str) -> list[dict[str, Any]]:
    secret = kube.secret(name)
    assert secret is not None
    found: list[dict[str, Any]] = json.loads(secret.metadata.annotations[LEASES_ANNOTATION])
    return found


def _logs_in(db: postgres.Postgres, values: dict[str, bytes]) -> bool:
    user = values["username"].decode()
    done = postgres.login(db, user, values["password"].decode())
    return done.returncode == 0 and done.stdout.strip() == user


def _updated_events(kube: Cluster, name: str) -> int:
    return sum(e.count or 1 for e in kube.events(name) if e.reason == "Updated")


def _finalizers(kube: Cluster, name: str) -> list[str]:
    return list(kube.es(name)["metadata"].get("finalizers") or [])


def _gone(kube: Cluster, name: str) -> bool:
    try:
        kube.es(name)
    except Exception as exc:  # the admin client's 404
        return getattr(exc, "status", None) == 404
    return False


def _never_shown(kube: Cluster, operators: list[Operator], name: str,
                 values: list[dict[str, bytes]], recorded: str) -> None:  # fmt: skip
    """Neither password in the logs, the Events, or `recorded` (annotation and status)."""
    shown = [op.logs() for op in operators]
    shown.extend(str(e.message) for e in kube.events(name))
    shown.append(recorded)
    text = "\n".join(shown)
    for found in values:
        password = found["password"]
        for form in (password, base64.b64encode(password)):
            assert form.decode() not in text


def test_renewal_reissue_before_max_ttl_restart_and_revoke_on_delete(
    leases_kube: Cluster,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = leases_kube
    # TTL 40s, max 54s, renewed at half: a full renewal is impossible (54 - 20 < 40), so the
    # renewal at ~20s comes back capped (34s), and the credential is issued anew at ~37s,
    # leaving the operator's restart 17 s before the re-issue is due (a loaded machine has
    # taken over 10 s to start one).
    path, like = _role(bao_dev, bao_database, "40s", "54s")
    _generator(kube, bao_dev, "db", path, renewAtPercent=50)
    _es(kube, "app", "db")
    operators = [start_operator()]

    condition(kube, "app", "True", "SecretSynced", timeout=30)
    first = kube.data("app")
    assert first is not None and _logs_in(postgres_db, first)
    (issued,) = _recorded(kube, "app")
    issued_expiry = baodb.lease_lookup(bao_dev, issued["id"])["expire_time"]
    assert issued["id"].startswith(f"{path}/") and issued["ttl"] == 40
    assert FINALIZER in _finalizers(kube, "app")
    updates = _updated_events(kube, "app")

    # Renewal: the annotation only; OpenBao's lease ends later; the data is untouched.
    renewed = eventually(lambda: (r := _recorded(kube, "app")[0])["renewed_at"]
                         > issued["renewed_at"] and r, timeout=35,
                         what="the lease to be renewed")  # fmt: skip
    renewed_after = renewed["renewed_at"] - issued["renewed_at"]
    assert renewed["id"] == issued["id"] and renewed["capped"]
    assert baodb.lease_lookup(bao_dev, issued["id"])["expire_time"] > issued_expiry
    assert kube.data("app") == first
    assert _updated_events(kube, "app") == updates  # no data write, so no rollout

    # A restart: the new process reads the schedule from the annotation.
    operators[0].stop()
    operators.append(start_operator())

    # Re-issue before the max TTL: a new working login; the old lease revoked, its role gone.
    old_user = first["username"].decode()
    second = eventually(lambda: (d := kube.data("app")) and d != first and d, timeout=45,
                        what="the credential to be issued anew")  # fmt: skip
    (current,) = _recorded(kube, "app")
    assert current["id"] != issued["id"]
    # When the operator issued it (recorded with the lease), not when this loop saw it: under
    # load the poll can trail the issue by seconds.
    reissued_after = current["renewed_at"] - issued["renewed_at"]
    assert reissued_after < 54, "re-issued after the max TTL"
    assert _logs_in(postgres_db, second)
    eventually(lambda: postgres.roles(postgres_db, old_user) == [], timeout=10,
               what="the superseded login to be revoked")  # fmt: skip
    assert not _logs_in(postgres_db, first)
    print(f"renewed {renewed_after:.1f}s and re-issued {reissued_after:.1f}s after issue")

    # Deletion revokes the current lease, then the finalizer goes and so does the object.
    annotations = kube.secret("app").metadata.annotations[LEASES_ANNOTATION]  # type: ignore[union-attr]
    shown = f"{annotations}\n{kube.es('app').get('status')}"
    new_user = second["username"].decode()
    kube.custom.delete_namespaced_custom_object(ES_GROUP, "v1", kube.namespace,
                                                "externalsecrets", "app")  # fmt: skip
    eventually(lambda: _gone(kube, "app"), timeout=20, what="the ExternalSecret to go")
    assert postgres.roles(postgres_db, new_user) == []
    assert postgres.roles(postgres_db, like) == []
    eventually(lambda: any(e.reason == "LeasesRevoked" for e in kube.events("app")),
               what="the LeasesRevoked Event")  # fmt: skip
    _never_shown(kube, operators, "app", [first, second], shown)


def test_deletion_without_the_generator_lets_go_and_says_so(
    leases_kube: Cluster,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = leases_kube
    path, _ = _role(bao_dev, bao_database, "1m", "5m")
    _generator(kube, bao_dev, "gone", path)
    _es(kube, "orphan", "gone")
    start_operator()
    condition(kube, "orphan", "True", "SecretSynced", timeout=30)
    assert FINALIZER in _finalizers(kube, "orphan")
    kube.custom.delete_namespaced_custom_object(GEN_GROUP, GEN_VERSION, kube.namespace,
                                                "vaultdynamicsecrets", "gone")  # fmt: skip
    kube.custom.delete_namespaced_custom_object(ES_GROUP, "v1", kube.namespace,
                                                "externalsecrets", "orphan")  # fmt: skip
    eventually(lambda: _gone(kube, "orphan"), timeout=20, what="the ExternalSecret to go")
    (said,) = eventually(
        lambda: [e for e in kube.events("orphan") if e.reason == "LeasesNotRevoked"],
        what="the LeasesNotRevoked Event",
    )
    assert said.type == "Warning" and "end with their TTL" in str(said.message)


def test_without_revoke_on_delete_no_finalizer_and_the_login_outlives_it(
    leases_kube: Cluster,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = leases_kube
    path, _ = _role(bao_dev, bao_database, "1m", "5m")
    _generator(kube, bao_dev, "keep", path, revokeOnDelete=False)
    _es(kube, "kept", "keep")
    start_operator()
    condition(kube, "kept", "True", "SecretSynced", timeout=30)
    values = kube.data("kept")
    assert values is not None
    assert _finalizers(kube, "kept") == []
    assert _recorded(kube, "kept")[0]["revoke_on_delete"] is False
    kube.custom.delete_namespaced_custom_object(ES_GROUP, "v1", kube.namespace,
                                                "externalsecrets", "kept")  # fmt: skip
    eventually(lambda: _gone(kube, "kept"), timeout=20, what="the ExternalSecret to go")
    assert _logs_in(postgres_db, values)


def test_a_credential_that_cannot_be_written_is_revoked(
    leases_kube: Cluster,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = leases_kube
    path, like = _role(bao_dev, bao_database, "1m", "5m")
    _generator(kube, bao_dev, "refused", path)
    # The target exists and is immutable with other data: every write is refused.
    kube.core.create_namespaced_secret(kube.namespace, {
        "metadata": {"name": "frozen"}, "immutable": True, "data": {"x": "eA=="},
    })  # fmt: skip
    _es(kube, "frozen", "refused", creationPolicy="Merge")
    operator = start_operator()
    condition(kube, "frozen", "False", "SecretSyncedError", timeout=30)
    # The sync issued a login, could not write it, and revoked it: none is left.
    eventually(lambda: "unwritten leases revoked" in operator.logs(), timeout=15,
               what="the unwritten credential to be revoked")  # fmt: skip
    assert postgres.roles(postgres_db, like) == []
    assert kube.data("frozen") == {"x": b"x"}


def _as_if_killed_before_the_write(kube: Cluster, server: bao.Bao, path: str, name: str) -> str:
    """What a process killed between issuing a credential and writing it leaves: the new lease
    recorded as pending on the Secret (written before the data, lease_keeper.pending), its
    login in PostgreSQL, and the Secret's data unchanged. The new login's name."""
    issued = bao.request(server, "GET", path)
    ttl, renewable = int(issued["lease_duration"]), bool(issued["renewable"])
    lease = leases.issued(issued["lease_id"], "VaultDynamicSecret/db", ttl, renewable, time.time())
    assert lease is not None
    secret = kube.secret(name)
    assert secret is not None and secret.metadata is not None
    held = leases.decode(secret.metadata.annotations)
    marked = [*held, dataclasses.replace(lease, pending=True)]
    secret.metadata.annotations = {
        **(secret.metadata.annotations or {}),
        LEASES_ANNOTATION: leases.encode(marked),
    }
    kube.core.replace_namespaced_secret(name, kube.namespace, secret)
    return str(issued["data"]["username"])


def test_killed_between_issuing_and_writing_the_pending_lease_is_revoked(
    leases_kube: Cluster,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    kube = leases_kube
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    _generator(kube, bao_dev, "db", path)
    _es(kube, "app", "db")
    operator = start_operator()
    condition(kube, "app", "True", "SecretSynced", timeout=30)
    first = kube.data("app")
    assert first is not None
    # The process issues for a change and dies before the write (SIGKILL at that step).
    operator.stop(signal.SIGKILL)
    pending = _as_if_killed_before_the_write(kube, bao_dev, path, "app")
    assert postgres.roles(postgres_db, pending) == [pending]

    # Restarted with nothing due: the pending lease is found between refreshes and revoked.
    operator = start_operator()
    eventually(lambda: postgres.roles(postgres_db, pending) == [], timeout=30,
               what="the pending login revoked")  # fmt: skip
    eventually(lambda: [x.get("pending") for x in _recorded(kube, "app")] == [False],
               what="the pending lease dropped from the annotation")  # fmt: skip
    assert kube.data("app") == first, "nothing to write, nothing written"
    assert postgres.roles(postgres_db, like) == [first["username"].decode()], "nothing leaked"
    assert _logs_in(postgres_db, first)

    # Killed at the same step of a forced sync: the restarted process syncs the change (the
    # status does not show it), revokes the pending lease and writes one of its own.
    operator.stop(signal.SIGKILL)
    kube.patch_es("app", {"metadata": {"annotations": {"force-sync": "1"}}})
    pending = _as_if_killed_before_the_write(kube, bao_dev, path, "app")
    start_operator()
    second = eventually(lambda: (d := kube.data("app")) != first and d, timeout=30,
                        what="the forced sync written")  # fmt: skip
    eventually(lambda: postgres.roles(postgres_db, like) == [second["username"].decode()],
               timeout=30, what="only the written login left")  # fmt: skip
    assert pending != second["username"].decode()
    assert not any(x.get("pending") for x in _recorded(kube, "app"))
    assert _logs_in(postgres_db, second)


def test_a_lease_for_a_configmap_or_custom_resource_is_refused_and_revoked(
    leases_kube: Cluster,
    start_operator: Start,
    bao_dev: bao.Bao,
    postgres_db: postgres.Postgres,
    bao_database: baodb.DatabaseEngine,
) -> None:
    """A VaultDynamicSecret written by spec.target.manifest: its lease could be recorded,
    renewed and revoked only beside a Secret, so the ExternalSecret is Unsupported (naming the
    field) and the credential the run issued is revoked at once, instead of one login per
    refresh left until its TTL (what ESO does)."""
    kube = leases_kube
    path, like = _role(bao_dev, bao_database, "2m", "10m")
    role = path.rsplit("/", 1)[-1]
    postgres.sql(postgres_db, f"CREATE TABLE {proof._table(role)} (login name)")
    bao.request(bao_dev, "POST", f"{bao_database.mount}/roles/{role}",
                {"creation_statements": proof._counted(role, baodb.CREATE)})  # fmt: skip
    _generator(kube, bao_dev, "db", path)
    _es(kube, "cm", "db", manifest={"apiVersion": "v1", "kind": "ConfigMap"})
    operator = start_operator("--unsafe-allow-generic-targets")
    ready = condition(kube, "cm", "False", "Unsupported", timeout=30)
    assert "spec.target.manifest" in ready["message"]
    assert proof._issued(postgres_db, role) == 1, "the generator ran once"
    eventually(lambda: postgres.roles(postgres_db, like) == [], timeout=15,
               what="the issued login revoked")  # fmt: skip
    assert "unwritten leases revoked" in operator.logs()
    try:
        kube.core.read_namespaced_config_map("cm", kube.namespace)
    except client.exceptions.ApiException as exc:
        assert exc.status == 404
    else:
        raise AssertionError("a ConfigMap was written")
    assert not _finalizers(kube, "cm"), "nothing to revoke on deletion"
