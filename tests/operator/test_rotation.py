"""Rotation through the running operator: a change at the source rolls the workloads that use
the Secret, once each; a change that breaks them is rolled back and held."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import hvac
from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import rotating_es, sops_store
from tests.providers.sops_git_fixtures import WorkTree, age_key, encrypt
from tests.rollout import cluster as c
from tests.testbed import stack
from tests.testbed.git import GitServer


def _workloads(api: client.ApiClient, namespace: str, **annotations: str) -> None:
    apps = client.AppsV1Api(api)
    template = c.pod_template("app", secret="db", annotations=annotations)
    apps.create_namespaced_deployment(namespace, c.deployment("app", template))
    template = c.pod_template("sts", secret="db", annotations=annotations)
    apps.create_namespaced_stateful_set(namespace, c.statefulset("sts", template))
    template = c.pod_template("ds", secret="db", annotations=annotations)
    apps.create_namespaced_daemon_set(namespace, c.daemonset("ds", template))
    template = c.pod_template("ro", secret="db", annotations=annotations)
    c.create_workload(api, namespace, "Rollout", c.argo_rollout("ro", template))


WORKLOADS = (("Deployment", "app"), ("StatefulSet", "sts"), ("DaemonSet", "ds"), ("Rollout", "ro"))


def _generations(api: client.ApiClient, namespace: str) -> dict[str, int]:
    return {kind: c.generation(api, namespace, kind, name) for kind, name in WORKLOADS}


def _argo_phase(api: client.ApiClient, namespace: str, name: str) -> str | None:
    raw = client.CustomObjectsApi(api).get_namespaced_custom_object(
        *c.ARGO[:2], namespace, c.ARGO[2], name
    )
    return (raw.get("status") or {}).get("phase")


def test_a_rotation_in_openbao_rolls_each_workload_once_including_an_argo_rollout(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"rot/{kube.namespace}"
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "first"})
    rotating_es(
        kube,
        testbed,
        key,
        {"targets": [{"kind": kind, "name": name} for kind, name in WORKLOADS]},
    )
    operator = start_operator()
    eventually(lambda: kube.data("db") == {"password": b"first"}, what="first sync")
    _workloads(kube_api, kube.namespace)
    eventually(
        lambda: _argo_phase(kube_api, kube.namespace, "ro") == "Healthy",
        what="the Argo Rollout healthy",
    )
    before = _generations(kube_api, kube.namespace)

    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "second"})
    eventually(lambda: kube.data("db") == {"password": b"second"}, what="the rotation synced")
    eventually(
        lambda: (kube.es("db").get("status") or {}).get("rollout", {}).get("phase") == "Succeeded",
        timeout=60,
        what="the rollout to succeed",
    )
    assert _generations(kube_api, kube.namespace) == {
        kind: generation + 1 for kind, generation in before.items()
    }, "each restarted exactly once"
    assert _argo_phase(kube_api, kube.namespace, "ro") == "Healthy"
    assert 'secretsync_rollouts_total{outcome="succeeded"}' in operator.metrics()


def test_a_rotation_that_breaks_the_pods_is_rolled_back_and_held(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"rot/{kube.namespace}"
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "good"})
    rotating_es(
        kube,
        testbed,
        key,
        {"targets": [{"kind": "Deployment", "name": "app"}], "healthTimeout": "20s"},
    )
    start_operator()
    eventually(lambda: kube.data("db") == {"password": b"good"}, what="first sync")
    apps = client.AppsV1Api(kube_api)
    template = c.pod_template(
        "app", secret="db", annotations={"testbed.secretsync.io/fail-if": "db/password=bad"}
    )
    apps.create_namespaced_deployment(kube.namespace, c.deployment("app", template))
    eventually(
        lambda: (
            (
                apps.read_namespaced_deployment_status("app", kube.namespace).status.ready_replicas
                or 0
            )
            == 2
        ),
        what="the app to be healthy",
    )

    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "bad"})
    failed = eventually(
        lambda: next(
            (
                x
                for x in (kube.es("db").get("status") or {}).get("conditions") or []
                if x.get("type") == "RolloutFailed" and x.get("status") == "True"
            ),
            None,
        ),
        timeout=90,
        what="RolloutFailed",
    )
    assert "Deployment/app" in failed["message"]
    eventually(lambda: kube.data("db") == {"password": b"good"}, what="the old data restored")
    eventually(
        lambda: (
            (
                apps.read_namespaced_deployment_status("app", kube.namespace).status.ready_replicas
                or 0
            )
            == 2
        ),
        timeout=60,
        what="the app healthy on the old data",
    )
    # Held: with a 1s refresh the operator sees "bad" again and again, and must not re-apply it.
    for _ in range(3):
        eventually(lambda: kube.data("db") == {"password": b"good"}, timeout=2)
    eventually(
        lambda: any(
            "Deployment/app" in str(e.message)
            for e in kube.events("db")
            if e.reason == "RolloutFailed"
        ),
        what="the RolloutFailed event",
    )

    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "fixed"})
    eventually(lambda: kube.data("db") == {"password": b"fixed"}, what="a new source version")


def test_a_git_commit_rolls_the_consumers_it_discovers(
    kube: Cluster,
    kube_api: client.ApiClient,
    git_server: GitServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    tmp_path: Path,
    start_operator: Callable[..., Operator],
) -> None:
    key = age_key(age_keygen_bin, tmp_path, "age")
    url = git_server.create_repo(f"rot-{uuid.uuid4().hex[:8]}")
    tree = WorkTree(tmp_path / "repo", url)
    tree.write("app.yaml", encrypt(sops_bin, key, "app.yaml", b"password: one\n", tmp_path))
    tree.commit("one")
    kube.put_secret("age", {"key.agekey": key.identity})
    sops_store(kube, url, interval="1s")
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "db"},
            "spec": {
                "refreshInterval": "1s",
                "secretStoreRef": {"name": "git"},
                "target": {"name": "db"},
                "rollout": {"discover": True},
                "data": [
                    {
                        "secretKey": "password",
                        "remoteRef": {"key": "app.yaml", "property": "password"},
                    }
                ],
            },
        },
    )
    start_operator()
    eventually(lambda: kube.data("db") == {"password": b"one"}, what="first sync")
    apps = client.AppsV1Api(kube_api)
    apps.create_namespaced_deployment(
        kube.namespace, c.deployment("app", c.pod_template("app", secret="db"))
    )
    apps.create_namespaced_deployment(
        kube.namespace, c.deployment("other", c.pod_template("other"))
    )
    tree.write("app.yaml", encrypt(sops_bin, key, "app.yaml", b"password: two\n", tmp_path))
    tree.commit("two")
    eventually(lambda: kube.data("db") == {"password": b"two"}, what="the commit synced")
    eventually(
        lambda: c.generation(kube_api, kube.namespace, "Deployment", "app") == 2,
        timeout=30,
        what="the consumer to roll",
    )
    assert c.generation(kube_api, kube.namespace, "Deployment", "other") == 1, (
        "a workload that does not use the Secret is left alone"
    )
