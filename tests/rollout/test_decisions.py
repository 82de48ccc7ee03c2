"""The rollout engine's pure decisions, table by table."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secretsync.api.rollout import OnFailure, Rollout, RolloutTarget, WorkloadKind
from secretsync.errors import AccessDenied, NotFound
from secretsync.rollout import argo, consumers, flight, health, record, restart
from secretsync.rollout.flight import EsRef, Flight
from secretsync.rollout.workload import Workload

D, S, DS = WorkloadKind.DEPLOYMENT, WorkloadKind.STATEFUL_SET, WorkloadKind.DAEMON_SET


def _workload(
    name: str, pod_spec: dict[str, Any], annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"template": {"spec": pod_spec}},
    }


REFS = [
    ({"containers": [{"env": [{"valueFrom": {"secretKeyRef": {"name": "db"}}}]}]}, {"db"}),
    ({"containers": [{"envFrom": [{"secretRef": {"name": "db"}}]}]}, {"db"}),
    ({"initContainers": [{"envFrom": [{"secretRef": {"name": "db"}}]}]}, {"db"}),
    ({"volumes": [{"secret": {"secretName": "db"}}]}, {"db"}),
    (
        {"volumes": [{"projected": {"sources": [{"secret": {"name": "db"}}, {"configMap": {}}]}}]},
        {"db"},
    ),
    ({"containers": [{"env": [{"valueFrom": {"configMapKeyRef": {"name": "db"}}}]}]}, set()),
    ({"imagePullSecrets": [{"name": "db"}], "containers": [{}]}, set()),
]


@pytest.mark.parametrize(("pod_spec", "names"), REFS)
def test_references_in_pod_templates(pod_spec: dict[str, Any], names: set[str]) -> None:
    assert consumers.referenced_secrets(_workload("w", pod_spec)) == names


USES = {"containers": [{"envFrom": [{"secretRef": {"name": "db"}}]}]}
RELOADER = [
    ({"reloader.stakater.com/auto": "true"}, USES, {}, "reloader-auto"),
    ({"secret.reloader.stakater.com/auto": "true"}, USES, {}, "reloader-auto"),
    ({"reloader.stakater.com/auto": "true"}, {}, {}, None),
    ({"secret.reloader.stakater.com/reload": "x, db"}, {}, {}, "reloader-reload"),
    ({"secret.reloader.stakater.com/reload": "dbx"}, USES, {}, None),
    (
        {"reloader.stakater.com/search": "true"},
        USES,
        {"reloader.stakater.com/match": "true"},
        "reloader-search",
    ),
    ({"reloader.stakater.com/search": "true"}, USES, {}, None),
    ({"reloader.stakater.com/search": "true"}, {}, {"reloader.stakater.com/match": "true"}, None),
    ({"reloader.stakater.com/auto": "true"}, USES, {"reloader.stakater.com/ignore": "true"}, None),
    ({}, USES, {}, None),
]


@pytest.mark.parametrize(("marks", "pod_spec", "secret_marks", "why"), RELOADER)
def test_reloader_rules(
    marks: dict[str, str], pod_spec: dict[str, Any], secret_marks: dict[str, str], why: str | None
) -> None:
    assert consumers.reloader_reason(_workload("w", pod_spec, marks), "db", secret_marks) == why


def test_selection_combines_targets_discovery_and_annotations_once_each() -> None:
    rollout = Rollout(targets=(RolloutTarget(kind=D, name="api"),), discover=True)
    listed = [
        _workload("api", USES),
        _workload("other", USES),
        _workload("none", {}),
        _workload("pull", {"imagePullSecrets": [{"name": "db"}]}),
    ]
    chosen = consumers.select(rollout, "ns", "db", {}, listed)
    assert [(s.workload.name, s.why) for s in chosen] == [("api", "target"), ("other", "discover")]
    assert consumers.select(None, "ns", "db", {}, listed) == []


def _status(**fields: Any) -> dict[str, Any]:
    spec = fields.pop("spec", {"replicas": 2})
    status = {"observedGeneration": 2, **fields}
    return {"metadata": {"generation": 2}, "spec": spec, "status": status}


DEPLOYMENTS = [
    (_status(observedGeneration=1), health.State.WAIT),
    (_status(updatedReplicas=1, replicas=2, availableReplicas=2), health.State.WAIT),
    (_status(updatedReplicas=2, replicas=3, availableReplicas=2), health.State.WAIT),
    (_status(updatedReplicas=2, replicas=2, availableReplicas=1), health.State.WAIT),
    (_status(updatedReplicas=2, replicas=2, availableReplicas=2), health.State.DONE),
    (
        _status(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]),
        health.State.FAILED,
    ),
]


@pytest.mark.parametrize(("raw", "state"), DEPLOYMENTS)
def test_deployment_verdicts_follow_kubectl(raw: dict[str, Any], state: health.State) -> None:
    assert health.deployment(raw).state is state


STATEFULSETS = [
    (_status(observedGeneration=0), health.State.WAIT),
    (_status(readyReplicas=1, updatedReplicas=2), health.State.WAIT),
    (_status(readyReplicas=2, updatedReplicas=1), health.State.WAIT),
    (_status(readyReplicas=2, updatedReplicas=2), health.State.DONE),
    (
        _status(
            spec={"replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": 2}}},
            readyReplicas=3,
            updatedReplicas=1,
        ),
        health.State.DONE,
    ),
    (
        _status(
            spec={"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
            readyReplicas=2,
            updateRevision="b",
            currentRevision="a",
        ),
        health.State.WAIT,
    ),
    (_status(spec={"updateStrategy": {"type": "OnDelete"}}), health.State.DONE),
]


@pytest.mark.parametrize(("raw", "state"), STATEFULSETS)
def test_statefulset_verdicts_follow_kubectl(raw: dict[str, Any], state: health.State) -> None:
    assert health.statefulset(raw).state is state


DAEMONSETS = [
    (_status(observedGeneration=1), health.State.WAIT),
    (
        _status(desiredNumberScheduled=2, updatedNumberScheduled=1, numberAvailable=2),
        health.State.WAIT,
    ),
    (
        _status(desiredNumberScheduled=2, updatedNumberScheduled=2, numberAvailable=1),
        health.State.WAIT,
    ),
    (
        _status(desiredNumberScheduled=2, updatedNumberScheduled=2, numberAvailable=2),
        health.State.DONE,
    ),
]


@pytest.mark.parametrize(("raw", "state"), DAEMONSETS)
def test_daemonset_verdicts_follow_kubectl(raw: dict[str, Any], state: health.State) -> None:
    assert health.daemonset(raw).state is state


def _argo(
    generation: int = 3, annotations: dict[str, str] | None = None, **status: Any
) -> dict[str, Any]:
    meta = {"generation": generation, "annotations": annotations or {}}
    return {"kind": "Rollout", "metadata": meta, "status": status}


# Statuses as Argo Rollouts v1.10 writes them (observed on the test bed's controller).
ARGO_ROLLOUTS = [
    (_argo(observedGeneration="3", phase="Healthy"), health.State.DONE, "RolledOut"),
    (_argo(observedGeneration="2", phase="Healthy"), health.State.WAIT, "Progressing"),
    (
        _argo(
            observedGeneration="3",
            phase="Degraded",
            message='ProgressDeadlineExceeded: ReplicaSet "web-78" has timed out progressing.',
        ),
        health.State.FAILED,
        "ProgressDeadlineExceeded",
    ),
    (
        _argo(observedGeneration="3", phase="Degraded", message="RolloutAborted: aborted"),
        health.State.FAILED,
        "RolloutAborted",
    ),
    (_argo(observedGeneration="3", phase="Degraded"), health.State.FAILED, "Degraded"),
    (
        _argo(
            observedGeneration="3", phase="Progressing", message="more replicas need to be updated"
        ),
        health.State.WAIT,
        "Progressing",
    ),
    (
        _argo(observedGeneration="3", phase="Paused", message="CanaryPauseStep"),
        health.State.WAIT,
        "Progressing",
    ),
    (
        _argo(observedGeneration="3", phase="Healthy", controllerPause=True),
        health.State.WAIT,
        "Progressing",
    ),
    (
        _argo(
            annotations={health.ARGO_WORKLOAD_GENERATION: "4"},
            observedGeneration="3",
            workloadObservedGeneration="3",
            phase="Healthy",
        ),
        health.State.WAIT,
        "Progressing",
    ),
    (_argo(observedGeneration="3"), health.State.WAIT, "Progressing"),
    (_argo(observedGeneration="5d7b9c", phase="Healthy"), health.State.DONE, "RolledOut"),
]


@pytest.mark.parametrize(("raw", "state", "reason"), ARGO_ROLLOUTS)
def test_argo_rollout_verdicts_follow_kubectl_argo_rollouts_status(
    raw: dict[str, Any], state: health.State, reason: str
) -> None:
    verdict = health.judge(WorkloadKind.ROLLOUT, raw, [], "t1")
    assert (verdict.state, verdict.reason) == (state, reason)


def test_paused_says_why_it_waits() -> None:
    raw = _argo(observedGeneration="3", phase="Paused", message="CanaryPauseStep")
    assert health.argo_rollout(raw).message == "paused: CanaryPauseStep"


def _borrowing(name: str, deployment: str) -> dict[str, Any]:
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}
    return {"kind": "Rollout", "metadata": {"name": name}, "spec": {"workloadRef": ref}}


def test_a_rollout_borrowing_a_template_is_resolved_and_discovered_in_place_of_the_deployment() -> (
    None
):
    deployment = _workload("app", USES)
    deployment["spec"]["selector"] = {"matchLabels": {"app": "app"}}
    listed = argo.resolve_listed(
        [deployment, _borrowing("web", "app"), _borrowing("other", "gone")]
    )

    assert listed[1]["spec"]["template"] == deployment["spec"]["template"]
    assert listed[1]["spec"]["selector"] == {"matchLabels": {"app": "app"}}
    assert "template" not in listed[2]["spec"], "a missing Deployment resolves to nothing"
    assert argo.borrowed(listed) == {"app", "gone"}
    chosen = consumers.select(Rollout(discover=True), "ns", "db", {}, listed)
    assert [(str(s.workload), s.why) for s in chosen] == [("Rollout/web", "discover")]


def test_a_borrowing_rollout_waits_until_argo_has_seen_the_deployments_new_generation() -> None:
    # Right after a restart: Argo's informer has not yet moved the annotation off generation 1.
    rollout = _argo(
        generation=1,
        annotations={health.ARGO_WORKLOAD_GENERATION: "1"},
        observedGeneration="1",
        workloadObservedGeneration="1",
        phase="Healthy",
    )
    rollout["spec"] = {"workloadRef": {"kind": "Deployment", "name": "app"}}
    deployment = {"kind": "Deployment", "metadata": {"name": "app", "generation": 2}, "spec": {}}

    before = health.argo_rollout(argo.resolve(rollout, deployment))
    seen = {**rollout["status"], "workloadObservedGeneration": "2"}
    after = health.argo_rollout(argo.resolve({**rollout, "status": seen}, deployment))

    assert before.state is health.State.WAIT
    assert "referenced workload" in before.message
    assert after.state is health.State.DONE
    assert rollout["metadata"]["annotations"][health.ARGO_WORKLOAD_GENERATION] == "1", "a copy"


def test_an_explicit_target_on_the_borrowed_deployment_is_still_honoured() -> None:
    listed = argo.resolve_listed([_workload("app", USES), _borrowing("web", "app")])
    rollout = Rollout(targets=(RolloutTarget(kind=D, name="app"),))
    chosen = consumers.select(rollout, "ns", "db", {}, listed)
    assert [str(s.workload) for s in chosen] == ["Deployment/app"]


def test_a_missing_target_says_why() -> None:
    workload = Workload(WorkloadKind.ROLLOUT, "ns", "web")
    assert "Argo Rollouts is not installed" in consumers.missing_message(workload, NotFound)
    assert "may not list rollouts.argoproj.io" in consumers.missing_message(workload, AccessDenied)
    assert "does not exist" in consumers.missing_message(workload, None)


def _pod(
    reason: str | None,
    token: str = "t1",  # noqa: S107
    field: str = "containerStatuses",
) -> dict[str, Any]:
    state = {"waiting": {"reason": reason}} if reason else {"running": {}}
    return {
        "metadata": {"name": "p", "annotations": {restart.CHANGE_TOKEN: token}},
        "status": {field: [{"state": state}]},
    }


@pytest.mark.parametrize(
    ("pod", "state"),
    [
        (_pod("CrashLoopBackOff"), health.State.FAILED),
        (_pod("ImagePullBackOff"), health.State.FAILED),
        (_pod("ErrImagePull", field="initContainerStatuses"), health.State.FAILED),
        (_pod("CreateContainerConfigError"), health.State.FAILED),
        (_pod("ContainerCreating"), health.State.WAIT),
        (_pod(None), health.State.WAIT),
        (_pod("CrashLoopBackOff", token="older"), health.State.WAIT),
    ],
)
def test_pods_of_the_new_revision_fail_a_statefulset_early(
    pod: dict[str, Any], state: health.State
) -> None:
    waiting = _status(readyReplicas=1, updatedReplicas=1)
    assert health.judge(S, waiting, [pod], "t1").state is state


def test_restart_tokens_are_unique_and_the_patch_carries_them() -> None:
    assert restart.new_token("abc" * 20) != restart.new_token("abc" * 20)
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    patch = restart.restart_patch(["b", "a"], when)
    annotations = patch["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        restart.RESTARTED_AT: "2026-01-02T03:04:05Z",
        restart.CHANGE_TOKEN: "a,b",
    }
    assert restart.carries_token({"metadata": {"annotations": annotations}}, "b")


def _flight(name: str, workloads: list[str], **fields: Any) -> Flight:
    base: dict[str, Any] = {
        "es": EsRef("ns", name, "external-secrets.io/v1", None),
        "target": name,
        "token": f"t-{name}",
        "phase": record.Phase.PROGRESSING,
        "data_hash": "h",
        "workloads": tuple(Workload(D, "ns", w) for w in workloads),
        "on_failure": OnFailure.ROLLBACK,
        "timeout": 60.0,
        "started": 0.0,
        "started_at": "",
        "changed": 0.0,
        "not_before": 0.0,
    }
    return Flight(**{**base, **fields})


def test_restarts_wait_for_debounce_share_a_workload_and_respect_the_cap() -> None:
    a = _flight("a", ["w1", "w2"])
    b = _flight("b", ["w2", "w3"])
    late = _flight("late", ["w4"], not_before=5.0)
    chosen = flight.restartable([a, b, late], now=1.0, max_concurrent=2)
    assert {w.name: [f.token for f in fs] for w, fs in chosen.items()} == {
        "w1": ["t-a"],
        "w2": ["t-a", "t-b"],
    }
    a.patched = {Workload(D, "ns", "w2")}  # w2 unsettled for a: b must not restart it now
    b2 = _flight("b2", ["w2"])
    assert flight.restartable([a, b2], now=1.0, max_concurrent=10).keys() == {
        Workload(D, "ns", "w1")
    }


def test_outcome_first_failure_then_all_healthy_then_deadline() -> None:
    f = _flight("a", ["w1", "w2"], timeout=10.0)
    w1, w2 = f.workloads
    failed = health.Verdict(health.State.FAILED, "CrashLoopBackOff", "pod p")
    assert flight.outcome(f, {w2: failed}, 1.0).reason == "CrashLoopBackOff"
    assert flight.outcome(f, {}, 1.0).state is health.State.WAIT
    assert flight.outcome(f, {}, 11.0).reason == flight.HEALTH_TIMEOUT
    f.healthy = {w1, w2}
    assert flight.outcome(f, {}, 11.0).state is health.State.DONE


def test_the_condition_keeps_other_conditions_and_its_transition_time() -> None:
    ready = {"type": "Ready", "status": "True"}
    first = record.conditions([ready], True, "RolledBack", "m", "T1")
    assert first[0] == ready and first[1]["lastTransitionTime"] == "T1"
    again = record.conditions(first, True, "RolledBack", "m2", "T2")
    assert again[1]["lastTransitionTime"] == "T1"
    assert record.conditions(again, False, "RolloutSucceeded", "ok", "T3")[1]["status"] == "False"


def test_status_record_round_trips_without_data() -> None:
    f = _flight("a", ["w1"], held_hash="bad")
    status = {"rollout": f.record("why").to_status()}
    parsed = record.parse_record("ns", status)
    assert parsed == f.record("why")
    assert record.parse_record("ns", {}) is None


def test_the_window_grows_with_each_healthy_wave_and_not_before() -> None:
    names = [f"w{i:02}" for i in range(50)]
    f = _flight("shared", names)
    first = flight.restartable([f], now=1.0, max_concurrent=10)
    assert len(first) == 10
    f.patched = set(first)
    # Nothing healthy yet, or the first wave failing: no more workloads are restarted.
    assert flight.restartable([f], now=2.0, max_concurrent=10) == {}
    f.healthy = set(first)  # the first wave came up healthy: twice as many may go now
    second = flight.restartable([f], now=3.0, max_concurrent=10)
    assert len(second) == 20
    f.patched |= set(second)
    f.healthy |= set(second)
    third = flight.restartable([f], now=4.0, max_concurrent=10)
    assert len(third) == 20  # the rest: 50 in three waves
    # A finished rollout's healthy workloads earn no window for the next one.
    done = _flight("done", names[:30], phase=record.Phase.SUCCEEDED)
    done.patched = done.healthy = {Workload(D, "ns", n) for n in names[:30]}
    assert len(flight.restartable([done, _flight("next", names)], 5.0, 10)) == 10


def test_the_window_has_a_ceiling() -> None:
    names = [f"w{i:03}" for i in range(300)]
    f = _flight("many", names)
    f.patched = f.healthy = {Workload(D, "ns", n) for n in names[:200]}
    assert flight.window([f], 10) == 10 * flight.SLOW_START_CEILING
    assert len(flight.restartable([f], 1.0, 10)) == 10 * flight.SLOW_START_CEILING
