"""Argo Rollouts as the engine sees them: pure rules, and a thin view over the Workloads port.

A Rollout carries its own pod template, or borrows one from a Deployment (`spec.workloadRef`);
Argo then rolls whenever that Deployment's template changes, and the Deployment itself is kept
scaled down. The view hands the engine Rollouts with the borrowed template and selector filled
in, and sends a restart to the Deployment, so discovery, pod signals and the change token work
the same either way. Rollouts exist only where the CRD is installed; listing them elsewhere
raises NotFound, which the engine reads as "not installed".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from secretsync.api.rollout import WorkloadKind
from secretsync.rollout.health import ARGO_WORKLOAD_GENERATION
from secretsync.rollout.ports import Workloads

KIND = WorkloadKind.ROLLOUT.value
DEPLOYMENT = WorkloadKind.DEPLOYMENT.value


def workload_ref(raw: Mapping[str, Any]) -> str | None:
    """The Deployment a Rollout borrows its template from, or None."""
    if raw.get("kind") != KIND:
        return None
    ref = (raw.get("spec") or {}).get("workloadRef") or {}
    if ref.get("kind") == DEPLOYMENT and ref.get("name"):
        return str(ref["name"])
    return None


def resolve(rollout: Mapping[str, Any], deployment: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Rollout with the Deployment's template and selector, as Argo itself resolves them.

    The Deployment's generation goes into the Rollout's workload-generation annotation, which
    Argo sets only once its informer sees the Deployment change. Right after our restart the
    Rollout still carries the old generation, observed and Healthy, and reading that as
    "rolled out" would call the rollout healthy before Argo had started it.
    """
    spec = dict(rollout.get("spec") or {})
    if deployment is None:
        return {**rollout, "spec": spec}
    borrowed = deployment.get("spec") or {}
    for field in ("template", "selector"):
        if field in borrowed:
            spec[field] = borrowed[field]
    meta = dict(rollout.get("metadata") or {})
    generation = (deployment.get("metadata") or {}).get("generation")
    if generation is not None:
        annotations = dict(meta.get("annotations") or {})
        annotations[ARGO_WORKLOAD_GENERATION] = str(generation)
        meta["annotations"] = annotations
    return {**rollout, "metadata": meta, "spec": spec}


def resolve_listed(listed: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    items = [dict(raw) for raw in listed]
    deployments = {
        (raw.get("metadata") or {}).get("name"): raw
        for raw in items
        if raw.get("kind") == DEPLOYMENT
    }
    return [
        resolve(raw, deployments.get(ref)) if (ref := workload_ref(raw)) else raw for raw in items
    ]


def borrowed(listed: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Deployments whose template a Rollout borrows: restarting the Rollout covers them."""
    return frozenset(ref for raw in listed if (ref := workload_ref(raw)))


class ResolvingWorkloads:
    """The Workloads port with Rollouts' borrowed templates resolved (see the module doc)."""

    def __init__(self, inner: Workloads) -> None:
        self._inner = inner

    def list_kind(self, namespace: str, kind: str) -> list[dict[str, Any]]:
        return self._inner.list_kind(namespace, kind)  # resolved together: resolve_listed

    def get(self, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
        raw = self._inner.get(namespace, kind, name)
        ref = workload_ref(raw) if raw else None
        if raw is None or ref is None:
            return raw
        return resolve(raw, self._inner.get(namespace, DEPLOYMENT, ref))

    def patch(self, namespace: str, kind: str, name: str, patch: Mapping[str, Any]) -> None:
        if kind == KIND:
            raw = self._inner.get(namespace, kind, name)
            ref = workload_ref(raw) if raw else None
            if ref is not None:
                self._inner.patch(namespace, DEPLOYMENT, ref, patch)
                return
        self._inner.patch(namespace, kind, name, patch)

    def pods(self, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
        return self._inner.pods(namespace, selector)

    def get_external_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._inner.get_external_secret(namespace, name)

    def list_external_secrets(self) -> list[dict[str, Any]]:
        return self._inner.list_external_secrets()

    def patch_external_secret_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        self._inner.patch_external_secret_status(namespace, name, status)
