"""What a rollout acts on: a workload, named by kind, namespace and name (pure)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from secretsync.api.rollout import WorkloadKind

# Every kind is listed, for discovery and Reloader annotations as well as explicit targets;
# Argo Rollouts only where their CRD is installed.
LISTED_KINDS = tuple(WorkloadKind)


@dataclasses.dataclass(frozen=True, order=True)
class Workload:
    kind: WorkloadKind
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}/{self.name}"

    @classmethod
    def parse(cls, namespace: str, text: str) -> Workload | None:
        """The inverse of str(), as stored in status.rollout.workloads."""
        kind, _, name = text.partition("/")
        try:
            return cls(WorkloadKind(kind), namespace, name) if name else None
        except ValueError:
            return None


def pod_template(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((raw.get("spec") or {}).get("template")) or {}


def template_annotations(raw: Mapping[str, Any]) -> Mapping[str, str]:
    return (pod_template(raw).get("metadata") or {}).get("annotations") or {}


def metadata_annotations(raw: Mapping[str, Any]) -> Mapping[str, str]:
    return (raw.get("metadata") or {}).get("annotations") or {}
