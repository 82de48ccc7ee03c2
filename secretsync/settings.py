"""Process-wide settings, read once from flags and environment in the CLI and passed down."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from pathlib import Path

DEFAULT_LEASE_NAMESPACE = "secretsync-system"
"""Where deploy/ puts the operator, so where the Lease goes outside a pod."""

SERVICE_ACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
"""The kubelet mounts it into every pod that has a ServiceAccount token: proof we run in one."""


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclasses.dataclass(frozen=True)
class OperatorSettings:
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means cluster-wide."""

    label_selector: str = ""
    """Only ExternalSecrets matching this selector (equality terms), for sharding replicas."""

    controller_class: str = "default"
    """ESO's controller class: only stores whose spec.controller is this or empty are ours."""

    concurrency: int = 32
    """Syncs running at once. Provider calls and API writes are I/O bound, so threads suffice."""

    store_concurrency: int = 0
    """Workers one store's ExternalSecrets may hold at once; 0 means half of `concurrency`
    (secretsync.limits), so a slow store leaves the rest to the others."""

    store_qps: float = 100.0
    """Provider calls per second per store (a token bucket; secretsync.limits.STORE_QPS); a
    store's `secretsync.io/qps` annotation overrides it. 0 turns the limit off."""

    store_burst: int = 200
    """The token bucket's size: calls a store may make at once above its rate."""

    default_refresh_interval: str = "1h"
    """For ExternalSecrets whose spec carries no refreshInterval at all."""
    refresh_time_resolution: str = "0"
    """How old status.refreshTime may grow before a refresh that changed nothing writes it;
    "0" writes it on every refresh, as ESO does."""

    metrics_address: str = "0.0.0.0:8080"
    """host:port for /metrics, /healthz and /readyz; empty disables the endpoint."""

    extended_metric_labels: bool = False
    """ESO's --enable-extended-metric-labels: objects' app.kubernetes.io/* labels on their
    metrics (more series; off by default, as in ESO)."""

    log_format: LogFormat = LogFormat.JSON
    """JSON by default, so log pipelines can index the stable keys."""

    log_level: str = "INFO"
    kubeconfig: str | None = None
    """None means the default kubeconfig, else the in-cluster config."""

    leader_election: bool = False
    """Off unless asked for or running in a pod (see leader_election_defaults)."""

    lease_namespace: str = DEFAULT_LEASE_NAMESPACE
    lease_name: str = "secretsync-operator"
    identity: str = ""
    """This replica's name in the Lease; defaults to the host name."""

    webhook_address: str = ""
    """host:port for Git push webhooks (POST /hooks/git); empty turns them off."""

    webhook_token_file: str = ""
    """File holding the webhook's shared secret (HMAC key for GitHub/Gitea, token for GitLab)."""

    webhook_advertise: str = ""
    """The URL standbys forward pushes to while this replica leads; defaults to
    http://$POD_IP:<webhook port>."""

    allow_generic_targets: bool = False
    """ESO's --unsafe-allow-generic-targets: ExternalSecrets may write ConfigMaps and custom
    resources (spec.target.manifest), which are not encrypted at rest. Off by default."""


def pod_namespace(environ: Mapping[str, str], namespace_file: Path) -> str | None:
    """The namespace of the pod we run in (POD_NAMESPACE from the downward API, else the
    ServiceAccount's namespace file); None outside a cluster."""
    if environ.get("POD_NAMESPACE"):
        return environ["POD_NAMESPACE"]
    try:
        return namespace_file.read_text().strip() or None
    except OSError:
        return None


def leader_election_defaults(
    leader_elect: bool | None, lease_namespace: str | None, in_pod_namespace: str | None
) -> tuple[bool, str]:
    """Whether to elect a leader, and in which namespace the Lease lives.

    Explicit flags win. Otherwise leader election is on in a pod, where replicas may run side by
    side, with the Lease in the pod's own namespace (which exists, and where deploy/rbac grants
    the Lease); and off outside a cluster, where a single process run by hand has no one to
    elect and no namespace it may assume exists. That is ESO's default too (its
    --enable-leader-election is off unless set).
    """
    namespace = lease_namespace or in_pod_namespace or DEFAULT_LEASE_NAMESPACE
    return (in_pod_namespace is not None if leader_elect is None else leader_elect), namespace
