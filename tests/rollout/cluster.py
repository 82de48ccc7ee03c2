"""Building blocks for rollout tests on the real test bed: an ExternalSecret, its target
Secret, workloads that read it, and a RolloutController on the admin client."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client

from secretsync.api.objects import ExternalSecret, parse_external_secret
from secretsync.kube.events import EventRecorder
from secretsync.kube.secrets import SecretClient
from secretsync.kube.workloads import WorkloadClient
from secretsync.rollout.controller import RolloutController
from secretsync.rollout.ports import RegistryMetrics
from tests.testbed import paths, stack

GROUP, VERSION = "external-secrets.io", "v1"
FAIL_IF = "testbed.secretsync.io/fail-if"


def install_crds(testbed: stack.Testbed) -> None:
    install_crds_into(testbed.KUBECTL_BIN, testbed.KUBECONFIG)


def install_crds_into(kubectl: str, kubeconfig: str) -> None:
    subprocess.run(
        [
            kubectl,
            "apply",
            "--server-side",
            "--force-conflicts",
            "-k",
            str(paths.REPO_ROOT / "crds"),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "KUBECONFIG": kubeconfig},
    )


def controller(api: client.ApiClient, **options: Any) -> tuple[RolloutController, RegistryMetrics]:
    metrics = RegistryMetrics()
    options = {"debounce_seconds": 0.2, "poll_seconds": 0.5, **options}
    made = RolloutController(
        WorkloadClient(api), SecretClient(api), EventRecorder(api), metrics, **options
    )
    return made, metrics


def create_es(
    api: client.ApiClient, namespace: str, name: str, rollout: Mapping[str, Any] | None
) -> tuple[ExternalSecret, dict[str, Any]]:
    spec: dict[str, Any] = {
        "secretStoreRef": {"name": "unused", "kind": "SecretStore"},
        "target": {"name": name},
        "data": [{"secretKey": "password", "remoteRef": {"key": "unused"}}],
    }
    if rollout is not None:
        spec["rollout"] = dict(rollout)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": spec,
    }
    raw = client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "externalsecrets", body
    )
    return parse_external_secret(raw), raw


def read_es(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return dict(
        client.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, namespace, "externalsecrets", name
        )
    )


def phase(api: client.ApiClient, namespace: str, name: str) -> str | None:
    return ((read_es(api, namespace, name).get("status") or {}).get("rollout") or {}).get("phase")


def create_secret(
    api: client.ApiClient,
    namespace: str,
    name: str,
    data: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
) -> None:
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name=name, annotations=dict(annotations or {})),
            string_data=dict(data),
        ),
    )


def change_secret(
    api: client.ApiClient, namespace: str, name: str, data: Mapping[str, str]
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Write new data the way the sync loop would; returns (previous, current)."""
    core = client.CoreV1Api(api)
    previous = secret_data(api, namespace, name)
    current = {k: v.encode() for k, v in data.items()}
    core.patch_namespaced_secret(
        name, namespace, {"data": {k: base64.b64encode(v).decode() for k, v in current.items()}}
    )
    return previous, current


def secret_data(api: client.ApiClient, namespace: str, name: str) -> dict[str, bytes]:
    secret = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}


def pod_template(
    name: str,
    *,
    secret: str | None = None,
    annotations: Mapping[str, str] | None = None,
    pull_secret: str | None = None,
) -> client.V1PodTemplateSpec:
    env = (
        [
            client.V1EnvVar(
                name="PASSWORD",
                value_from=client.V1EnvVarSource(
                    secret_key_ref=client.V1SecretKeySelector(name=secret, key="password")
                ),
            )
        ]
        if secret
        else []
    )
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": name}, annotations=dict(annotations or {})),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="app", image="app:1", env=env)],
            image_pull_secrets=[client.V1LocalObjectReference(name=pull_secret)]
            if pull_secret
            else None,
        ),
    )


def deployment(
    name: str,
    template: client.V1PodTemplateSpec,
    *,
    replicas: int = 2,
    annotations: Mapping[str, str] | None = None,
) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, annotations=dict(annotations or {})),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=template,
        ),
    )


def statefulset(name: str, template: client.V1PodTemplateSpec) -> client.V1StatefulSet:
    return client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1StatefulSetSpec(
            replicas=2,
            service_name=name,
            template=template,
            selector=client.V1LabelSelector(match_labels={"app": name}),
        ),
    )


def daemonset(name: str, template: client.V1PodTemplateSpec) -> client.V1DaemonSet:
    return client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DaemonSetSpec(
            template=template,
            selector=client.V1LabelSelector(match_labels={"app": name}),
        ),
    )


ARGO = ("argoproj.io", "v1alpha1", "rollouts")


def argo_rollout(
    name: str,
    template: client.V1PodTemplateSpec | None,
    *,
    replicas: int = 2,
    workload_ref: str | None = None,
    progress_deadline: int = 600,
) -> dict[str, Any]:
    """An Argo Rollout (basic canary) with its own template, or borrowing a Deployment's."""
    spec: dict[str, Any] = {
        "replicas": replicas,
        "strategy": {"canary": {}},
        "progressDeadlineSeconds": progress_deadline,
    }
    if workload_ref is not None:
        spec["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload_ref}
    else:
        spec["selector"] = {"matchLabels": {"app": name}}
        spec["template"] = client.ApiClient().sanitize_for_serialization(template)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": spec,
    }


def create_workload(api: client.ApiClient, namespace: str, kind: str, body: object) -> None:
    if kind == "Rollout":
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            *ARGO[:2], namespace, ARGO[2], body
        )
        return
    apps = client.AppsV1Api(api)
    create = {
        "Deployment": apps.create_namespaced_deployment,
        "StatefulSet": apps.create_namespaced_stateful_set,
        "DaemonSet": apps.create_namespaced_daemon_set,
    }[kind]
    create(namespace, body)


def make_workload(kind: str, name: str, template: client.V1PodTemplateSpec) -> object:
    makers: dict[str, Callable[[str, client.V1PodTemplateSpec], object]] = {
        "Deployment": deployment,
        "StatefulSet": statefulset,
        "DaemonSet": daemonset,
        "Rollout": argo_rollout,
    }
    return makers[kind](name, template)


def generation(api: client.ApiClient, namespace: str, kind: str, name: str) -> int:
    raw = WorkloadClient(api).get(namespace, kind, name)
    assert raw is not None
    return int(raw["metadata"]["generation"])


def template_token(api: client.ApiClient, namespace: str, kind: str, name: str) -> str | None:
    raw = WorkloadClient(api).get(namespace, kind, name) or {}
    meta = ((raw.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return (meta.get("annotations") or {}).get("secretsync.io/change-token")


def wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def events(api: client.ApiClient, namespace: str, reason: str) -> list[str]:
    listed = client.CoreV1Api(api).list_namespaced_event(namespace).items
    return [e.message for e in listed if e.reason == reason]
