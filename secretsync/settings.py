"""Process-wide settings, read once from flags and environment in the CLI and passed down."""

from __future__ import annotations

import dataclasses
import enum


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclasses.dataclass(frozen=True)
class OperatorSettings:
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means cluster-wide."""

    label_selector: str = ""
    """Only ExternalSecrets matching this selector (equality terms), for sharding replicas."""

    concurrency: int = 32
    """Syncs running at once. Provider calls and API writes are I/O bound, so threads suffice."""

    default_refresh_interval: str = "1h"
    """For ExternalSecrets whose spec carries no refreshInterval at all."""

    metrics_address: str = "0.0.0.0:8080"
    """host:port for /metrics, /healthz and /readyz; empty disables the endpoint."""

    log_format: LogFormat = LogFormat.JSON
    """JSON by default, so log pipelines can index the stable keys."""

    log_level: str = "INFO"
    kubeconfig: str | None = None
    """None means the default kubeconfig, else the in-cluster config."""

    leader_election: bool = True
    lease_namespace: str = "secretsync-system"
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
