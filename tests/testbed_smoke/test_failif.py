"""The application stand-in: a pod breaks when, at its start, a Secret key holds a bad value."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.testbed.cluster import wait_until
from tests.testbed.failif import CHECKED, FAIL_IF, NEVER_READY, Rule, parse_rule, verdict


def _deployment(name: str, fail_if: str) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels, annotations={FAIL_IF: fail_if}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="app:1")]),
            ),
        ),
    )


def _pod(core: client.CoreV1Api, namespace: str, app: str) -> client.V1Pod | None:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return pods[0] if pods else None


def _ready(pod: client.V1Pod | None) -> bool:
    conditions = (pod.status.conditions or []) if pod else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _crash_looping(pod: client.V1Pod | None) -> bool:
    statuses = (pod.status.container_statuses or []) if pod else []
    waiting = statuses[0].state.waiting if statuses else None
    return waiting is not None and waiting.reason == "CrashLoopBackOff"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("db/password=bad", Rule("db", "password", "bad")),
        ("db/url=a=b/c", Rule("db", "url", "a=b/c")),
        ("db/password=", Rule("db", "password", "")),
        ("no-key=bad", None),
        ("db/password", None),
    ],
)
def test_fail_if_rules_parse(text: str, rule: Rule | None) -> None:
    assert parse_rule(text) == rule


def test_only_a_matching_value_marks_the_pod() -> None:
    rule = Rule("db", "password", "bad")
    assert verdict(rule, {"password": "YmFk"}) == {CHECKED: "true", NEVER_READY: "true"}
    assert verdict(rule, {"password": "Z29vZA=="}) == {CHECKED: "true"}
    assert verdict(rule, None) == {CHECKED: "true"}
    assert verdict(None, {"password": "YmFk"}) == {CHECKED: "true"}


def test_a_pod_fails_only_while_its_secret_holds_the_bad_value(
    kube_api: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="db"), string_data={"password": "bad"}),
    )
    apps.create_namespaced_deployment(namespace, _deployment("broken", "db/password=bad"))
    apps.create_namespaced_deployment(namespace, _deployment("fine", "db/password=other"))
    apps.create_namespaced_deployment(namespace, _deployment("absent", "nosuch/password=bad"))

    wait_until(lambda: _crash_looping(_pod(core, namespace, "broken")), 60, "broken to crash")
    wait_until(lambda: _ready(_pod(core, namespace, "fine")), 60, "fine to go Ready")
    wait_until(lambda: _ready(_pod(core, namespace, "absent")), 60, "absent to go Ready")
    assert not _ready(_pod(core, namespace, "broken"))

    # A pod started after the Secret changed reads the new value and starts.
    core.patch_namespaced_secret("db", namespace, {"stringData": {"password": "good"}})
    broken = _pod(core, namespace, "broken")
    assert broken is not None
    core.delete_namespaced_pod(broken.metadata.name, namespace)
    wait_until(lambda: _ready(_pod(core, namespace, "broken")), 60, "the new pod to go Ready")
