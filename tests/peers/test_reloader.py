"""The real stakater Reloader on the test bed: a Deployment annotated
`reloader.stakater.com/auto: "true"` is rolled when a Secret its pods read changes, and one
without the annotation is left alone. Reloader's default strategy puts the Secret's hash in an
environment variable of the pod template, so the Deployment controller starts a new ReplicaSet.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.testbed import cluster, procs, reloader, stack

pytestmark = [pytest.mark.testbed, pytest.mark.xdist_group("reloader")]  # one :9090 per machine

SECRET = "app-config"
HASH_ENV = "STAKATER_APP_CONFIG_SECRET"
"""Reloader's name for it: STAKATER_ + the Secret's name in env-var form + _SECRET."""


def _deployment(name: str, *, auto: bool) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(
            name=name, annotations={"reloader.stakater.com/auto": "true"} if auto else {}
        ),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="app",
                            image="example.invalid/app:1",
                            env_from=[
                                client.V1EnvFromSource(
                                    secret_ref=client.V1SecretEnvSource(name=SECRET)
                                )
                            ],
                        )
                    ]
                ),
            ),
        ),
    )


def _set_secret(core: client.CoreV1Api, namespace: str, value: str, *, create: bool) -> None:
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name=SECRET),
        data={"password": base64.b64encode(value.encode()).decode()},
    )
    if create:
        core.create_namespaced_secret(namespace, body)
    else:
        core.replace_namespaced_secret(SECRET, namespace, body)


def _hash_env(apps: client.AppsV1Api, namespace: str, name: str) -> str | None:
    pod = apps.read_namespaced_deployment(name, namespace).spec.template.spec
    assert pod is not None
    for env in pod.containers[0].env or []:
        if env.name == HASH_ENV:
            return str(env.value)
    return None


def _replica_sets(apps: client.AppsV1Api, namespace: str, name: str) -> list[Any]:
    found = apps.list_namespaced_replica_set(namespace, label_selector=f"app={name}").items
    return list(found)


def _secrets_listed(running: reloader.Reloader) -> bool:
    """Reloader counts every object its informer lists as an "add" event; once the test's
    Secret was counted, its cache has synced and a later change arrives as an update."""
    pattern = r'reloader_events_received_total\{event_type="add",resource_type="secrets"\} (\S+)'
    found = re.search(pattern, running.metrics())
    return found is not None and float(found.group(1)) >= 1


def test_reloader_rolls_an_annotated_deployment_when_its_secret_changes(
    kube_api: client.ApiClient,
    namespace: str,
    start_reloader: Callable[[], reloader.Reloader],
) -> None:
    core, apps = client.CoreV1Api(kube_api), client.AppsV1Api(kube_api)
    _set_secret(core, namespace, "first", create=True)
    apps.create_namespaced_deployment(namespace, _deployment("annotated", auto=True))
    apps.create_namespaced_deployment(namespace, _deployment("plain", auto=False))
    cluster.wait_until(
        lambda: len(_replica_sets(apps, namespace, "annotated")) == 1, 60, "the first ReplicaSet"
    )
    running = start_reloader()
    cluster.wait_until(lambda: _secrets_listed(running), 60, "Reloader to list the Secret")
    assert _hash_env(apps, namespace, "annotated") is None  # nothing changed yet

    _set_secret(core, namespace, "second", create=False)
    cluster.wait_until(
        lambda: _hash_env(apps, namespace, "annotated") is not None, 60, "Reloader's reload"
    )
    first_hash = _hash_env(apps, namespace, "annotated")
    cluster.wait_until(
        lambda: len(_replica_sets(apps, namespace, "annotated")) == 2,
        60,
        "a new ReplicaSet for the changed pod template",
    )

    _set_secret(core, namespace, "third", create=False)
    cluster.wait_until(
        lambda: _hash_env(apps, namespace, "annotated") not in (None, first_hash),
        60,
        "a second reload with the new hash",
    )
    assert "third" not in str(_hash_env(apps, namespace, "annotated"))  # a hash, not the value
    assert _hash_env(apps, namespace, "plain") is None
    plain = apps.read_namespaced_deployment("plain", namespace).metadata
    assert plain is not None
    assert plain.generation == 1, "Reloader changed a Deployment without its annotation"


def test_a_second_reloader_on_the_machine_is_refused_with_the_reason(
    testbed: stack.Testbed,
    tmp_path: Path,
    start_reloader: Callable[[], reloader.Reloader],
) -> None:
    running = start_reloader()
    with pytest.raises(procs.TestbedError, match="only one runs at a time") as refused:
        reloader.start(Path(testbed.KUBECONFIG), tmp_path / "second", lock_wait=0)
    assert str(running.pid) in str(refused.value)  # names the one holding :9090
    assert "reloader_" in running.metrics()  # the first one still serves
