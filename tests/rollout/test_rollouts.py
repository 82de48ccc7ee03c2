"""The rollout engine on the test bed's real controllers and KWOK: restart, verify, roll back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from secretsync.api.rollout import WorkloadKind
from secretsync.kube.workloads import WorkloadClient
from secretsync.resolve.secret import data_hash
from secretsync.rollout.controller import RolloutController
from secretsync.rollout.health import judge
from secretsync.rollout.workload import LISTED_KINDS
from tests.rollout import cluster as c
from tests.testbed import stack

TIMEOUT = 90


@pytest.fixture(scope="session")
def crds(testbed: stack.Testbed) -> None:
    c.install_crds(testbed)


@pytest.fixture
def rollouts(kube_api: client.ApiClient, crds: None) -> Iterator[RolloutController]:
    made, _ = c.controller(kube_api)
    yield made
    made.close()


def _healthy(api: client.ApiClient, namespace: str, kind: str, name: str) -> bool:
    raw = WorkloadClient(api).get(namespace, kind, name)
    return raw is not None and judge(WorkloadKind(kind), raw, [], "-").state.value == "Done"


@pytest.mark.parametrize("kind", [k.value for k in LISTED_KINDS])
def test_each_kind_rolls_exactly_once_to_healthy(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController, kind: str
) -> None:
    c.create_secret(kube_api, namespace, "db", {"password": "one"})
    es, raw = c.create_es(kube_api, namespace, "db", {"targets": [{"kind": kind, "name": "app"}]})
    template = c.pod_template("app", secret="db")
    c.create_workload(kube_api, namespace, kind, c.make_workload(kind, "app", template))
    c.wait(lambda: _healthy(kube_api, namespace, kind, "app"), TIMEOUT, f"{kind} up")
    before = c.generation(kube_api, namespace, kind, "app")

    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
    token = rollouts.on_data_changed(es, raw, previous, current)

    assert token
    c.wait(lambda: c.phase(kube_api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    assert c.generation(kube_api, namespace, kind, "app") == before + 1, "restarted exactly once"
    assert c.template_token(kube_api, namespace, kind, "app") == token
    status = c.read_es(kube_api, namespace, "db")["status"]
    assert status["rollout"]["token"] == token
    assert status["rollout"]["workloads"] == [f"{kind}/app"]
    assert _healthy(kube_api, namespace, kind, "app")


def _bad_rotation(
    api: client.ApiClient,
    namespace: str,
    rollouts: RolloutController,
    on_failure: str,
    kind: str = "Deployment",
) -> tuple[dict[str, object], str]:
    c.create_secret(api, namespace, "db", {"password": "right-pw"})
    es, raw = c.create_es(
        api,
        namespace,
        "db",
        {
            "targets": [{"kind": kind, "name": "app"}],
            "healthTimeout": "60s",
            "onFailure": on_failure,
        },
    )
    template = c.pod_template("app", secret="db", annotations={c.FAIL_IF: "db/password=wrong-pw"})
    c.create_workload(api, namespace, kind, c.make_workload(kind, "app", template))
    c.wait(lambda: _healthy(api, namespace, kind, "app"), TIMEOUT, "app up")
    previous, current = c.change_secret(api, namespace, "db", {"password": "wrong-pw"})
    token = rollouts.on_data_changed(es, raw, previous, current)
    assert token
    return raw, data_hash(current)


@pytest.mark.parametrize("kind", ["Deployment", "Rollout"])
def test_a_change_whose_pods_never_get_ready_is_rolled_back(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController, kind: str
) -> None:
    raw, bad_hash = _bad_rotation(kube_api, namespace, rollouts, "Rollback", kind)

    c.wait(lambda: c.phase(kube_api, namespace, "db") == "RolledBack", TIMEOUT, "RolledBack")
    assert c.secret_data(kube_api, namespace, "db") == {"password": b"right-pw"}
    assert _healthy(kube_api, namespace, kind, "app")
    status = c.read_es(kube_api, namespace, "db")["status"]
    failed = [x for x in status["conditions"] if x["type"] == "RolloutFailed"]
    assert failed and failed[0]["status"] == "True"
    assert status["rollout"]["heldHash"] == bad_hash
    messages = c.events(kube_api, namespace, "RolloutFailed")
    assert any(f"{kind}/app" in m and "CrashLoopBackOff" in m for m in messages)
    assert not [m for m in messages if "pw" in m], "no secret value in an Event"
    assert rollouts.held_hash(raw) == bad_hash
    fresh, _ = c.controller(kube_api)  # another operator process reads it from status
    assert fresh.held_hash({**raw, "status": status}) == bad_hash
    fresh.close()


def test_hold_keeps_the_new_data_and_reports(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController
) -> None:
    raw, _ = _bad_rotation(kube_api, namespace, rollouts, "Hold")

    c.wait(lambda: c.phase(kube_api, namespace, "db") == "Failed", TIMEOUT, "Failed")
    assert c.secret_data(kube_api, namespace, "db") == {"password": b"wrong-pw"}
    status = c.read_es(kube_api, namespace, "db")["status"]
    assert [x["status"] for x in status["conditions"] if x["type"] == "RolloutFailed"] == ["True"]
    assert rollouts.held_hash(raw) is None
    assert c.generation(kube_api, namespace, "Deployment", "app") == 2, "no second restart"


def test_a_rollout_borrowing_a_deployments_template_rolls_through_that_deployment(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController
) -> None:
    """Argo rolls a workloadRef Rollout when the Deployment's template changes; discovery names
    the Rollout, not the scaled-down Deployment, and judges health on the Rollout."""
    c.create_secret(kube_api, namespace, "db", {"password": "one"})
    es, raw = c.create_es(kube_api, namespace, "db", {"discover": True})
    template = c.pod_template("app", secret="db")
    apps = client.AppsV1Api(kube_api)
    apps.create_namespaced_deployment(namespace, c.deployment("app", template, replicas=0))
    c.create_workload(
        kube_api, namespace, "Rollout", c.argo_rollout("web", None, workload_ref="app")
    )
    c.wait(lambda: _healthy(kube_api, namespace, "Rollout", "web"), TIMEOUT, "Rollout up")

    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
    token = rollouts.on_data_changed(es, raw, previous, current)

    assert token
    c.wait(lambda: c.phase(kube_api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    status = c.read_es(kube_api, namespace, "db")["status"]
    assert status["rollout"]["workloads"] == ["Rollout/web"]
    assert c.template_token(kube_api, namespace, "Deployment", "app") == token
    seen = WorkloadClient(kube_api).get(namespace, "Rollout", "web")["status"]
    changed = c.generation(kube_api, namespace, "Deployment", "app")
    assert seen["workloadObservedGeneration"] == str(changed), "judged on Argo's view of it"

    def replaced() -> bool:
        # Healthy can be reported a moment before the old ReplicaSet's pods are deleted.
        pods = client.CoreV1Api(kube_api).list_namespaced_pod(namespace, label_selector="app=app")
        live = [p for p in pods.items if not p.metadata.deletion_timestamp]
        return bool(live) and all(
            (p.metadata.annotations or {}).get("secretsync.io/change-token") == token for p in live
        )

    c.wait(replaced, TIMEOUT, "Argo to replace every pod with one of the new revision")
    assert _healthy(kube_api, namespace, "Rollout", "web")
