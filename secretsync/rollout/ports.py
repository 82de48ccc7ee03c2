"""What the rollout engine needs from the cluster and from the metrics registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from secretsync.metrics import Counter, Histogram

BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Workloads(Protocol):
    """secretsync.kube.workloads.WorkloadClient."""

    def list_kind(self, namespace: str, kind: str) -> list[dict[str, Any]]: ...
    def get(self, namespace: str, kind: str, name: str) -> dict[str, Any] | None: ...
    def patch(self, namespace: str, kind: str, name: str, patch: Mapping[str, Any]) -> None: ...
    def pods(self, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]: ...
    def get_external_secret(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def list_external_secrets(self) -> list[dict[str, Any]]: ...
    def patch_external_secret_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None: ...


class Secrets(Protocol):
    """secretsync.kube.secrets.SecretClient."""

    def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def create(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def replace(self, namespace: str, body: Mapping[str, Any]) -> None: ...


class Events(Protocol):
    """secretsync.kube.events.EventRecorder."""

    def record(
        self,
        involved: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None: ...


class RolloutMetrics(Protocol):
    def started(self) -> None: ...
    def succeeded(self, seconds: float) -> None:
        """`seconds`: from the data change to every consumer healthy."""

    def failed(self, reason: str) -> None: ...
    def rolled_back(self) -> None: ...


class RegistryMetrics:
    """RolloutMetrics on secretsync.metrics; `families` go to the operator's /metrics."""

    def __init__(self) -> None:
        self.rollouts = Counter(
            "secretsync_rollouts_total", "Workload rollouts by outcome.", ("outcome",)
        )
        self.failures = Counter(
            "secretsync_rollout_failures_total", "Failed rollouts by reason.", ("reason",)
        )
        self.healthy = Histogram(
            "secretsync_rollout_healthy_seconds",
            "From a Secret data change to every consumer healthy.",
            buckets=BUCKETS,
        )
        self.families = (self.rollouts, self.failures, self.healthy)

    def started(self) -> None:
        self.rollouts.inc("started")

    def succeeded(self, seconds: float) -> None:
        self.rollouts.inc("succeeded")
        self.healthy.observe(seconds)

    def failed(self, reason: str) -> None:
        self.rollouts.inc("failed")
        self.failures.inc(reason)

    def rolled_back(self) -> None:
        self.rollouts.inc("rolled_back")
