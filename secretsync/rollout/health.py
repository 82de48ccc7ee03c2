"""Is a restarted workload healthy yet? `kubectl rollout status`, exactly, plus pod signals (pure).

The workload-level rules are kubectl's (pkg/polymorphichelpers/rollout_status.go; reference
B1). Only a Deployment reports failure itself (ProgressDeadlineExceeded); StatefulSets and
DaemonSets just wait forever, so pods of the new revision are judged too (reference B2): a
container waiting in CrashLoopBackOff, an image pull error or another `Err…`/`…BackOff` reason
fails the rollout at once, instead of when our own healthTimeout runs out.

An Argo Rollout is judged as `kubectl argo rollouts status` judges it (GetRolloutPhase in
argo-rollouts' utils/rollout): Healthy is done, Degraded (ProgressDeadlineExceeded, an abort, an
invalid spec) has failed, and Progressing or Paused waits, so a canary paused for a manual
promotion runs into our healthTimeout rather than being called healthy.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.api.rollout import WorkloadKind
from secretsync.rollout.restart import carries_token


class State(enum.StrEnum):
    WAIT = "Wait"
    DONE = "Done"
    FAILED = "Failed"


@dataclasses.dataclass(frozen=True)
class Verdict:
    state: State
    reason: str
    message: str


def _wait(message: str) -> Verdict:
    return Verdict(State.WAIT, "Progressing", message)


DONE = Verdict(State.DONE, "RolledOut", "successfully rolled out")
DEADLINE = "ProgressDeadlineExceeded"


def _int(value: Any) -> int:
    return int(value or 0)


def _observed(raw: Mapping[str, Any]) -> bool:
    generation = _int((raw.get("metadata") or {}).get("generation"))
    return generation <= _int((raw.get("status") or {}).get("observedGeneration"))


def deployment(raw: Mapping[str, Any]) -> Verdict:
    spec, status = raw.get("spec") or {}, raw.get("status") or {}
    if not _observed(raw):
        return _wait("waiting for the deployment spec update to be observed")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and (
            condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return Verdict(State.FAILED, DEADLINE, "exceeded its progress deadline")
    replicas, updated = spec.get("replicas"), _int(status.get("updatedReplicas"))
    if replicas is not None and updated < _int(replicas):
        return _wait(f"{updated} out of {replicas} new replicas have been updated")
    if _int(status.get("replicas")) > updated:
        pending = _int(status.get("replicas")) - updated
        return _wait(f"{pending} old replicas are pending termination")
    if _int(status.get("availableReplicas")) < updated:
        available = _int(status.get("availableReplicas"))
        return _wait(f"{available} of {updated} updated replicas are available")
    return DONE


def statefulset(raw: Mapping[str, Any]) -> Verdict:
    spec, status = raw.get("spec") or {}, raw.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return Verdict(State.DONE, "OnDelete", "OnDelete strategy: pods are replaced by hand")
    if _int(status.get("observedGeneration")) == 0 or not _observed(raw):
        return _wait("waiting for the statefulset spec update to be observed")
    replicas = _int(spec.get("replicas", 1))
    if _int(status.get("readyReplicas")) < replicas:
        return _wait(f"{_int(status.get('readyReplicas'))} of {replicas} pods are ready")
    return _statefulset_revision(strategy, status, replicas)


def _statefulset_revision(
    strategy: Mapping[str, Any], status: Mapping[str, Any], replicas: int
) -> Verdict:
    rolling = strategy.get("rollingUpdate")
    if rolling is not None or "type" not in strategy:
        # apps/v1 defaults an absent strategy to rollingUpdate{partition: 0}.
        partition = _int((rolling or {}).get("partition"))
        updated = _int(status.get("updatedReplicas"))
        if updated < replicas - partition:
            return _wait(f"{updated} of {replicas - partition} new pods have been updated")
        return DONE
    if status.get("updateRevision") != status.get("currentRevision"):
        return _wait("waiting for the statefulset update revision to become current")
    return DONE


def daemonset(raw: Mapping[str, Any]) -> Verdict:
    spec, status = raw.get("spec") or {}, raw.get("status") or {}
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        return Verdict(State.DONE, "OnDelete", "OnDelete strategy: pods are replaced by hand")
    if not _observed(raw):
        return _wait("waiting for the daemonset spec update to be observed")
    desired = _int(status.get("desiredNumberScheduled"))
    if _int(status.get("updatedNumberScheduled")) < desired:
        updated = _int(status.get("updatedNumberScheduled"))
        return _wait(f"{updated} out of {desired} new pods have been updated")
    if _int(status.get("numberAvailable")) < desired:
        return _wait(f"{_int(status.get('numberAvailable'))} of {desired} pods are available")
    return DONE


ARGO_WORKLOAD_GENERATION = "rollout.argoproj.io/workload-generation"


def argo_rollout(raw: Mapping[str, Any]) -> Verdict:
    pending = _argo_pending(raw)
    if pending is not None:
        return _wait(pending)
    status = raw.get("status") or {}
    phase, message = status.get("phase"), str(status.get("message") or "")
    if phase == "Healthy":
        return DONE
    if phase == "Degraded":
        reason = message.partition(":")[0] if ":" in message else "Degraded"
        return Verdict(State.FAILED, reason, message or "the rollout is degraded")
    if phase == "Paused":
        return _wait(f"paused: {message or 'waiting for promotion'}")
    return _wait(message or "waiting for the Argo Rollouts controller to report progress")


def _argo_pending(raw: Mapping[str, Any]) -> str | None:
    """Why Argo's phase is not yet about the latest spec, or None when it is."""
    meta, status = raw.get("metadata") or {}, raw.get("status") or {}
    # A string here; Argo reads one that is not a number (pre-1.0 hashes) as observed.
    observed = str(status.get("observedGeneration") or "")
    if observed.isdigit() and int(observed) < _int(meta.get("generation")):
        return "waiting for the rollout spec update to be observed"
    if status.get("controllerPause") and not status.get("pauseConditions"):
        return "waiting for the rollout to unpause"
    borrowed = (meta.get("annotations") or {}).get(ARGO_WORKLOAD_GENERATION)
    seen = str(status.get("workloadObservedGeneration") or "")
    if borrowed and seen.isdigit() and borrowed != seen:
        return "waiting for the referenced workload's update to be observed"
    return None


def _failing_reason(status: Mapping[str, Any]) -> str | None:
    reason = str(((status.get("state") or {}).get("waiting") or {}).get("reason") or "")
    # Argo CD's rule: Err… (ErrImagePull), …Error (CreateContainerConfigError), …BackOff.
    if reason.startswith("Err") or reason.endswith(("Error", "BackOff")):
        return reason
    return None


def pod_failure(pod: Mapping[str, Any]) -> str | None:
    """The reason one of the pod's containers is failing, or None."""
    status = pod.get("status") or {}
    for field in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(field) or []:
            reason = _failing_reason(container)
            if reason:
                return reason
    return None


_WORKLOAD = {
    WorkloadKind.DEPLOYMENT: deployment,
    WorkloadKind.STATEFUL_SET: statefulset,
    WorkloadKind.DAEMON_SET: daemonset,
    WorkloadKind.ROLLOUT: argo_rollout,
}


def judge(
    kind: WorkloadKind, raw: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], token: str
) -> Verdict:
    """The workload's verdict for the rollout carrying `token`: a failing pod of that rollout
    decides first, then the workload's own status."""
    for pod in pods:
        if (pod.get("metadata") or {}).get("deletionTimestamp") or not carries_token(pod, token):
            continue
        reason = pod_failure(pod)
        if reason:
            name = (pod.get("metadata") or {}).get("name")
            return Verdict(State.FAILED, reason, f"pod {name} is in {reason}")
    return _WORKLOAD[kind](raw)
