"""Argo Rollouts is real in the test bed: its controller rolls Rollouts through KWOK, reports
Healthy, and calls a revision whose pods never get ready Degraded at its progress deadline, which
our health rules read as `kubectl argo rollouts status` does."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from secretsync.api.rollout import WorkloadKind
from secretsync.rollout import health
from tests.testbed.cluster import wait_until

ARGO = ("argoproj.io", "v1alpha1", "rollouts")
NEVER_READY = "testbed.secretsync.io/never-ready"


def _rollout(name: str, annotations: dict[str, str], deadline: int) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "progressDeadlineSeconds": deadline,
            "strategy": {"canary": {}},
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": annotations},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]},
            },
        },
    }


def _verdict(custom: client.CustomObjectsApi, namespace: str, name: str) -> health.Verdict:
    raw = custom.get_namespaced_custom_object(*ARGO[:2], namespace, ARGO[2], name)
    return health.judge(WorkloadKind.ROLLOUT, raw, [], "-")


def test_a_rollout_becomes_healthy_and_a_broken_revision_degraded(
    kube_api: client.ApiClient, namespace: str
) -> None:
    custom = client.CustomObjectsApi(kube_api)
    custom.create_namespaced_custom_object(
        *ARGO[:2], namespace, ARGO[2], _rollout("web", {}, deadline=5)
    )
    wait_until(
        lambda: _verdict(custom, namespace, "web").state is health.State.DONE,
        60,
        "the Rollout to become Healthy",
    )
    pods = client.CoreV1Api(kube_api).list_namespaced_pod(namespace, label_selector="app=web")
    assert len([p for p in pods.items if p.status.phase == "Running"]) == 2

    breaking = {"spec": {"template": {"metadata": {"annotations": {NEVER_READY: "true"}}}}}
    custom.patch_namespaced_custom_object(*ARGO[:2], namespace, ARGO[2], "web", breaking)
    wait_until(
        lambda: _verdict(custom, namespace, "web").state is health.State.FAILED,
        60,
        "the broken revision to be Degraded",
    )
    verdict = _verdict(custom, namespace, "web")
    assert verdict.reason == "ProgressDeadlineExceeded"
    assert "timed out progressing" in verdict.message
