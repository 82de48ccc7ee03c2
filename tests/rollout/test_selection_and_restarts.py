"""Which workloads roll (Reloader annotations, discovery, not imagePullSecrets), two quick
changes roll twice, and an operator restart resumes a rollout in flight without restarting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from secretsync.rollout.controller import RolloutController
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


def _deploy(api: client.ApiClient, namespace: str, name: str, **options: object) -> None:
    annotations = options.pop("annotations", None)
    template = c.pod_template(name, **options)  # type: ignore[arg-type]
    body = c.deployment(name, template, replicas=1, annotations=annotations)  # type: ignore[arg-type]
    client.AppsV1Api(api).create_namespaced_deployment(namespace, body)


def test_reloader_annotations_and_discovery_pick_the_right_workloads(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController
) -> None:
    c.create_secret(
        kube_api,
        namespace,
        "db",
        {"password": "one"},
        annotations={"reloader.stakater.com/match": "true"},
    )
    es, raw = c.create_es(kube_api, namespace, "db", {"discover": True})
    _deploy(kube_api, namespace, "uses-env", secret="db")
    _deploy(kube_api, namespace, "pull-only", pull_secret="db")
    _deploy(
        kube_api, namespace, "auto", secret="db", annotations={"reloader.stakater.com/auto": "true"}
    )
    _deploy(
        kube_api,
        namespace,
        "named",
        annotations={"secret.reloader.stakater.com/reload": "other, db"},
    )
    _deploy(kube_api, namespace, "unrelated", annotations={"reloader.stakater.com/auto": "true"})

    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
    token = rollouts.on_data_changed(es, raw, previous, current)

    c.wait(lambda: c.phase(kube_api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    rolled = c.read_es(kube_api, namespace, "db")["status"]["rollout"]["workloads"]
    assert rolled == ["Deployment/auto", "Deployment/named", "Deployment/uses-env"]
    for name in ("pull-only", "unrelated"):
        assert c.generation(kube_api, namespace, "Deployment", name) == 1
        assert c.template_token(kube_api, namespace, "Deployment", name) is None
    assert c.template_token(kube_api, namespace, "Deployment", "named") == token


def test_reloader_search_needs_the_match_annotation_and_nothing_rolls_without_opt_in(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController
) -> None:
    c.create_secret(kube_api, namespace, "db", {"password": "one"})
    es, raw = c.create_es(kube_api, namespace, "db", None)
    _deploy(
        kube_api,
        namespace,
        "search",
        secret="db",
        annotations={"reloader.stakater.com/search": "true"},
    )
    _deploy(kube_api, namespace, "plain", secret="db")
    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
    assert rollouts.on_data_changed(es, raw, previous, current) is None
    assert c.generation(kube_api, namespace, "Deployment", "search") == 1


def test_two_changes_in_quick_succession_roll_twice(
    kube_api: client.ApiClient, namespace: str, rollouts: RolloutController
) -> None:
    c.create_secret(kube_api, namespace, "db", {"password": "one"})
    es, raw = c.create_es(
        kube_api, namespace, "db", {"targets": [{"kind": "Deployment", "name": "app"}]}
    )
    _deploy(kube_api, namespace, "app", secret="db")

    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
    first = rollouts.on_data_changed(es, raw, previous, current)
    c.wait(
        lambda: c.template_token(kube_api, namespace, "Deployment", "app") == first,
        TIMEOUT,
        "the first restart",
    )
    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "three"})
    second = rollouts.on_data_changed(es, raw, previous, current)

    assert first and second and first != second
    c.wait(lambda: c.phase(kube_api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    assert c.read_es(kube_api, namespace, "db")["status"]["rollout"]["token"] == second
    assert c.template_token(kube_api, namespace, "Deployment", "app") == second
    assert c.generation(kube_api, namespace, "Deployment", "app") == 3, "two restarts"


def test_a_new_operator_process_resumes_without_restarting_again(
    kube_api: client.ApiClient, namespace: str, crds: None
) -> None:
    c.create_secret(kube_api, namespace, "db", {"password": "one"})
    es, raw = c.create_es(
        kube_api, namespace, "db", {"targets": [{"kind": "Deployment", "name": "app"}]}
    )
    _deploy(kube_api, namespace, "app", secret="db")
    # Paused, the Deployment cannot finish the rollout before the first process is gone, however
    # slow the machine: the verdict must come from the second.
    apps = client.AppsV1Api(kube_api)
    apps.patch_namespaced_deployment("app", namespace, {"spec": {"paused": True}})
    # The first process restarts at once, then would not look again for a minute: it dies
    # with the rollout in flight.
    first, _ = c.controller(kube_api, debounce_seconds=0, poll_seconds=60)
    previous, current = c.change_secret(kube_api, namespace, "db", {"password": "two"})
    token = first.on_data_changed(es, raw, previous, current)
    c.wait(
        lambda: c.template_token(kube_api, namespace, "Deployment", "app") == token,
        TIMEOUT,
        "the restart",
    )
    first.close()
    assert c.phase(kube_api, namespace, "db") == "Progressing"
    apps.patch_namespaced_deployment("app", namespace, {"spec": {"paused": False}})
    restarted = c.generation(kube_api, namespace, "Deployment", "app")

    second, metrics = c.controller(kube_api)
    try:
        second.resume([namespace])
        c.wait(lambda: c.phase(kube_api, namespace, "db") == "Succeeded", TIMEOUT, "Succeeded")
    finally:
        second.close()
    assert c.generation(kube_api, namespace, "Deployment", "app") == restarted, "no restart"
    assert c.read_es(kube_api, namespace, "db")["status"]["rollout"]["token"] == token
    assert metrics.rollouts.values.get(("succeeded",)) == 1
    # Finished: a third process finds nothing to resume.
    third, metrics = c.controller(kube_api)
    third.resume([namespace])
    third.close()
    assert c.generation(kube_api, namespace, "Deployment", "app") == restarted
