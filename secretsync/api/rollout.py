"""spec.rollout, a secretsync extension of ExternalSecret: the workloads restarted when the
Secret's data changes, and what happens when they do not become healthy."""

from __future__ import annotations

import dataclasses
import enum

from secretsync.api.fields import Duration, field


class WorkloadKind(enum.StrEnum):
    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"
    DAEMON_SET = "DaemonSet"
    ROLLOUT = "Rollout"


class OnFailure(enum.StrEnum):
    ROLLBACK = "Rollback"
    HOLD = "Hold"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RolloutTarget:
    kind: WorkloadKind = field(
        "Workload kind; Rollout is an Argo Rollout (argoproj.io), where Argo Rollouts is installed."
    )
    name: str = field("Workload name, in the ExternalSecret's namespace.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Overlap:
    grace: Duration = field(
        "How long the previous credential stays valid after every consumer is healthy on the "
        "new one, before its lease is revoked.",
        default=Duration(seconds=30),
        schema_default="30s",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rollout:
    targets: tuple[RolloutTarget, ...] = field("Workloads to restart.", default=())
    discover: bool = field("Also restart every pod template using the Secret.", default=False)
    health_timeout: Duration = field(
        "Health deadline on top of the workload's own.",
        default=Duration(minutes=5),
        schema_default="5m",
    )
    on_failure: OnFailure = field(
        "Rollback restores the last good data.", default=OnFailure.ROLLBACK
    )
    overlap: Overlap | None = field(
        "Overlap rotation of issued credentials (VaultDynamicSecret): the previous lease stays "
        "valid until every consumer is healthy on the new credential and the grace has passed; "
        "a rollout that fails rolls back to it and revokes the new one.",
        default=None,
    )
