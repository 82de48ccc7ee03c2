"""Where Argo Rollouts is not there for us: not installed (a control plane of its own, without
the Argo CRDs the shared test bed always has), or not allowed by RBAC. Either way a Rollout
target is reported, and the other targets still roll."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from secretsync.api.rollout import WorkloadKind
from secretsync.kube.workloads import WorkloadClient
from secretsync.rollout.health import State, judge
from tests.rollout import cluster as c
from tests.testbed import binaries, cluster, kube, procs, stack
from tests.testbed.pki import CA

TIMEOUT = 90


@pytest.fixture(scope="module")
def bare_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[client.ApiClient]:
    state = tmp_path_factory.mktemp("no-argo")
    try:
        control_plane = kube.start(state, CA(state / "pki"))
        cluster.add_kwok_node(control_plane, state)
        cluster.wait_for_default_service_account(control_plane, state)
        kubeconfig = str(control_plane.kubeconfig)
        c.install_crds_into(str(binaries.require(binaries.KUBECTL)), kubeconfig)
        yield cluster.api(Path(kubeconfig))
    finally:
        procs.stop_all(state)


def _deployment_healthy(api: client.ApiClient, namespace: str) -> bool:
    raw = WorkloadClient(api).get(namespace, "Deployment", "app")
    return raw is not None and judge(WorkloadKind.DEPLOYMENT, raw, [], "-").state is State.DONE


def test_a_rollout_target_is_reported_as_not_installed_and_the_rest_still_roll(
    bare_api: client.ApiClient,
) -> None:
    api, namespace = bare_api, "apps"
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace))
    )
    c.create_secret(api, namespace, "db", {"password": "one"})
    targets = [{"kind": "Rollout", "name": "web"}, {"kind": "Deployment", "name": "app"}]
    es, raw = c.create_es(api, namespace, "db", {"targets": targets, "discover": True})
    template = c.pod_template("app", secret="db")
    client.AppsV1Api(api).create_namespaced_deployment(namespace, c.deployment("app", template))
    c.wait(lambda: _deployment_healthy(api, namespace), TIMEOUT, "the Deployment up")
    rollouts, _ = c.controller(api)
    try:
        previous, current = c.change_secret(api, namespace, "db", {"password": "two"})
        token = rollouts.on_data_changed(es, raw, previous, current)

        assert token
        c.wait(lambda: c.phase(api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    finally:
        rollouts.close()
    status = c.read_es(api, namespace, "db")["status"]
    assert status["rollout"]["workloads"] == ["Deployment/app"]
    c.wait(lambda: c.events(api, namespace, "RolloutTargetMissing"), TIMEOUT, "the warning Event")
    [message] = c.events(api, namespace, "RolloutTargetMissing")
    assert "Rollout/web" in message and "Argo Rollouts is not installed" in message


def _engine_role(api: client.ApiClient, namespace: str, name: str) -> None:
    """What the rollout engine needs in one namespace, and nothing for rollouts.argoproj.io:
    RBAC trimmed the way a cluster without Argo might trim it."""
    rbac = client.RbacAuthorizationV1Api(api)
    rules = [
        client.V1PolicyRule(
            api_groups=["apps"],
            resources=["deployments", "statefulsets", "daemonsets"],
            verbs=["get", "list", "patch"],
        ),
        client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"]),
        client.V1PolicyRule(
            api_groups=[""], resources=["secrets"], verbs=["get", "create", "update"]
        ),
        client.V1PolicyRule(
            api_groups=["", "events.k8s.io"], resources=["events"], verbs=["create"]
        ),
        client.V1PolicyRule(
            api_groups=["external-secrets.io"],
            resources=["externalsecrets", "externalsecrets/status"],
            verbs=["get", "patch"],
        ),
    ]
    client.CoreV1Api(api).create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )
    rbac.create_namespaced_role(
        namespace, client.V1Role(metadata=client.V1ObjectMeta(name=name), rules=rules)
    )
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name=name),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="Role", name=name
            ),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=namespace)],
        ),
    )


def test_rbac_without_rollouts_reports_the_target_and_still_rolls_the_rest(
    kube_api: client.ApiClient,
    namespace: str,
    sa_kubeconfig: Callable[[str, str], Path],
    testbed: stack.Testbed,
) -> None:
    c.install_crds(testbed)
    _engine_role(kube_api, namespace, "engine")
    engine_api = cluster.api(sa_kubeconfig(namespace, "engine"))
    c.create_secret(kube_api, namespace, "db", {"password": "one"})
    targets = [{"kind": "Rollout", "name": "web"}, {"kind": "Deployment", "name": "app"}]
    es, raw = c.create_es(kube_api, namespace, "db", {"targets": targets})
    template = c.pod_template("app", secret="db")
    client.AppsV1Api(kube_api).create_namespaced_deployment(
        namespace, c.deployment("app", template)
    )
    c.wait(lambda: _deployment_healthy(kube_api, namespace), TIMEOUT, "the Deployment up")
    rollouts, _ = c.controller(engine_api)
    try:
        previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
        assert rollouts.on_data_changed(es, raw, previous, current)
        c.wait(lambda: c.phase(kube_api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    finally:
        rollouts.close()
    assert c.read_es(kube_api, namespace, "db")["status"]["rollout"]["workloads"] == [
        "Deployment/app"
    ]
    c.wait(
        lambda: c.events(kube_api, namespace, "RolloutTargetMissing"), TIMEOUT, "the warning Event"
    )
    [message] = c.events(kube_api, namespace, "RolloutTargetMissing")
    assert "may not list rollouts.argoproj.io" in message
