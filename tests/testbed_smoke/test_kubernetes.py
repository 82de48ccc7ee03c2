"""The control plane is real: storage, RBAC, controllers, scheduler and KWOK all act."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.testbed.cluster import wait_until

NEVER_READY = "testbed.secretsync.io/never-ready"


def _deployment(
    name: str, *, replicas: int = 2, annotations: dict[str, str] | None = None
) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            progress_deadline_seconds=600,
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels, annotations=annotations),
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="app:1")]),
            ),
        ),
    )


def test_a_secret_is_stored_and_read_back_through_the_apiserver(
    kube_api: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="smoke"),
            string_data={"password": "hunter22"},
        ),
    )
    secret = core.read_namespaced_secret("smoke", namespace)
    assert secret.data == {"password": "aHVudGVyMjI="}
    assert secret.metadata.resource_version


def test_rbac_denies_a_service_account_without_rights(
    kube_api: client.ApiClient, namespace: str, sa_kubeconfig: Callable[[str, str], Path]
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="nobody"))
    )
    as_nobody = client.CoreV1Api(
        config.new_client_from_config(config_file=str(sa_kubeconfig(namespace, "nobody")))
    )
    with pytest.raises(ApiException) as denied:
        as_nobody.list_namespaced_secret(namespace)
    assert denied.value.status == 403
    assert f"system:serviceaccount:{namespace}:nobody" in str(denied.value.body)


def test_rbac_allows_what_a_role_grants(
    kube_api: client.ApiClient, namespace: str, sa_kubeconfig: Callable[[str, str], Path]
) -> None:
    core, rbac = client.CoreV1Api(kube_api), client.RbacAuthorizationV1Api(kube_api)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="reader"))
    )
    rbac.create_namespaced_role(
        namespace,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="read-secrets"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["list"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="read-secrets"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="Role", name="read-secrets"
            ),
            subjects=[
                client.RbacV1Subject(kind="ServiceAccount", name="reader", namespace=namespace)
            ],
        ),
    )
    as_reader = client.CoreV1Api(
        config.new_client_from_config(config_file=str(sa_kubeconfig(namespace, "reader")))
    )
    wait_until(
        lambda: as_reader.list_namespaced_secret(namespace) is not None,
        10,
        "the RoleBinding to take effect",
    )
    with pytest.raises(ApiException) as denied:
        as_reader.list_namespaced_config_map(namespace)
    assert denied.value.status == 403


def test_a_deployment_becomes_available_with_ready_pods(
    kube_api: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    apps.create_namespaced_deployment(namespace, _deployment("web", replicas=3))

    def available() -> bool:
        status = apps.read_namespaced_deployment_status("web", namespace).status
        return status.available_replicas == 3 and status.ready_replicas == 3

    wait_until(available, 60, "deployment web to become Available")
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 3
    assert all(p.spec.node_name == "kwok-node-0" for p in pods), "the scheduler placed them"
    assert all(p.status.phase == "Running" for p in pods)


def test_a_pod_marked_to_fail_never_becomes_ready(
    kube_api: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    apps.create_namespaced_deployment(
        namespace, _deployment("broken", replicas=1, annotations={NEVER_READY: "true"})
    )

    def crash_looping() -> bool:
        pods = core.list_namespaced_pod(namespace, label_selector="app=broken").items
        waiting = pods[0].status.container_statuses[0].state.waiting
        return waiting is not None and waiting.reason == "CrashLoopBackOff"

    wait_until(crash_looping, 60, "the marked pod to crash-loop")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        pod = core.list_namespaced_pod(namespace, label_selector="app=broken").items[0]
        ready = [c for c in pod.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "False"
        time.sleep(0.5)
    status = apps.read_namespaced_deployment_status("broken", namespace).status
    assert not status.ready_replicas
