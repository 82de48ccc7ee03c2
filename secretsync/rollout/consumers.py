"""Which workloads a change of one Secret restarts (pure).

Three ways in, in the order they are reported: explicit `spec.rollout.targets`; discovery
(`spec.rollout.discover`) of every pod template that references the Secret; and Reloader's
annotations on the workload, so teams can move from Reloader without editing workloads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from secretsync.api.rollout import Rollout, WorkloadKind
from secretsync.errors import AccessDenied, NotFound, SecretSyncError
from secretsync.rollout import argo
from secretsync.rollout.workload import Workload, metadata_annotations, pod_template

RELOADER_AUTO = "reloader.stakater.com/auto"
RELOADER_SECRET_AUTO = "secret.reloader.stakater.com/auto"  # noqa: S105 (a key name)
RELOADER_RELOAD = "secret.reloader.stakater.com/reload"
RELOADER_SEARCH = "reloader.stakater.com/search"
RELOADER_MATCH = "reloader.stakater.com/match"
RELOADER_IGNORE = "reloader.stakater.com/ignore"


@dataclasses.dataclass(frozen=True)
class Selected:
    workload: Workload
    why: str
    """target, discover, reloader-auto, reloader-reload or reloader-search: logged, never secret."""


def _volume_refs(volume: Mapping[str, Any]) -> Iterator[str]:
    secret = volume.get("secret") or {}
    if secret.get("secretName"):
        yield str(secret["secretName"])
    for source in (volume.get("projected") or {}).get("sources") or []:
        name = (source.get("secret") or {}).get("name")
        if name:
            yield str(name)


def _container_refs(container: Mapping[str, Any]) -> Iterator[str]:
    for env in container.get("env") or []:
        name = ((env.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
        if name:
            yield str(name)
    for source in container.get("envFrom") or []:
        name = (source.get("secretRef") or {}).get("name")
        if name:
            yield str(name)


def referenced_secrets(workload: Mapping[str, Any]) -> frozenset[str]:
    """Secrets the pod template reads: env, envFrom, secret and projected volumes, in containers
    and init containers. imagePullSecrets are left out on purpose: they are used only when an
    image is pulled, so restarting running pods for them changes nothing (reference A5)."""
    spec = pod_template(workload).get("spec") or {}
    names: set[str] = set()
    for volume in spec.get("volumes") or []:
        names.update(_volume_refs(volume))
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            names.update(_container_refs(container))
    return frozenset(names)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def reloader_reason(
    workload: Mapping[str, Any], secret_name: str, secret_annotations: Mapping[str, str]
) -> str | None:
    """Reloader's rules (stakater/Reloader, reference A1): `reload` names Secrets whether or not
    they are referenced; `auto` restarts on any referenced Secret; `search` on a referenced
    Secret tagged `match`; `auto` wins over `search`; `ignore` on the Secret opts it out."""
    if _true(secret_annotations.get(RELOADER_IGNORE)):
        return None
    marks = metadata_annotations(workload)
    named = {n.strip() for n in (marks.get(RELOADER_RELOAD) or "").split(",")}
    if secret_name in named:
        return "reloader-reload"
    referenced = secret_name in referenced_secrets(workload)
    if _true(marks.get(RELOADER_AUTO)) or _true(marks.get(RELOADER_SECRET_AUTO)):
        return "reloader-auto" if referenced else None
    if _true(marks.get(RELOADER_SEARCH)) and _true(secret_annotations.get(RELOADER_MATCH)):
        return "reloader-search" if referenced else None
    return None


def select(
    rollout: Rollout | None,
    namespace: str,
    secret_name: str,
    secret_annotations: Mapping[str, str],
    listed: Iterable[Mapping[str, Any]],
) -> list[Selected]:
    """Every workload to restart, once each; `listed` are the namespace's workloads (raw, with
    `kind` set). With neither rollout config nor a Reloader annotation, the list is empty."""
    chosen: dict[Workload, str] = {}
    for target in rollout.targets if rollout else ():
        chosen.setdefault(Workload(target.kind, namespace, target.name), "target")
    listed = list(listed)
    borrowed = argo.borrowed(listed)
    for raw in listed:
        workload = _workload(raw, namespace)
        if workload is None or workload in chosen:
            continue
        if workload.kind is WorkloadKind.DEPLOYMENT and workload.name in borrowed:
            continue  # its Rollout is the consumer: Argo rolls when this template changes
        if rollout and rollout.discover and secret_name in referenced_secrets(raw):
            chosen[workload] = "discover"
            continue
        why = reloader_reason(raw, secret_name, secret_annotations)
        if why:
            chosen[workload] = why
    return [Selected(w, why) for w, why in sorted(chosen.items())]


def missing_message(workload: Workload, unlisted: type[SecretSyncError] | None) -> str:
    """Why a target is not there: its kind is not served (NotFound), the operator may not list
    it (AccessDenied), or the workload itself does not exist (None)."""
    if unlisted is NotFound:
        return (
            f"rollout target {workload} cannot be restarted: Argo Rollouts is not installed "
            "(no argoproj.io/v1alpha1 rollouts in this cluster); install it or remove the target"
        )
    if unlisted is AccessDenied:
        return (
            f"rollout target {workload} cannot be restarted: the operator may not list "
            "rollouts.argoproj.io; grant get, list and patch on them (deploy/rbac) or remove "
            "the target"
        )
    return f"rollout target {workload} does not exist; create it or fix spec.rollout.targets"


def _workload(raw: Mapping[str, Any], namespace: str) -> Workload | None:
    name = (raw.get("metadata") or {}).get("name")
    return Workload.parse(namespace, f"{raw.get('kind')}/{name}") if name else None
