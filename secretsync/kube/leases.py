"""Leader election over a coordination.k8s.io Lease, so a standby replica takes over when the
leader stops renewing. The decision is a pure function; the shell does one GET and one write."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client

from secretsync.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    NotFound,
    SecretSyncError,
    Unavailable,
)
from secretsync.kube.client import mapped

DENIAL_RECHECKS = (1.0, 2.0, 3.0)
"""Seconds between asking again when RBAC refuses the Lease, before giving up on it."""
WEBHOOK_ANNOTATION = "secretsync.io/webhook"
"""Where the holder takes Git push webhooks that a standby forwards (a URL, no secret)."""


def may_take(spec: Mapping[str, Any], identity: str, now: datetime.datetime) -> bool:
    """We may hold the lease if it is ours, unheld, or its holder stopped renewing in time."""
    holder = spec.get("holderIdentity")
    if not holder or holder == identity:
        return True
    renewed = spec.get("renewTime")
    if renewed is None:
        return True
    renewed_at = (
        renewed
        if isinstance(renewed, datetime.datetime)
        else datetime.datetime.fromisoformat(str(renewed).replace("Z", "+00:00"))
    )
    duration = datetime.timedelta(seconds=int(spec.get("leaseDurationSeconds") or 15))
    return renewed_at + duration < now


class LeaseUnusable(ConfigError):
    """The Lease can never be taken as configured (its namespace is missing, or RBAC refuses
    it): retrying would wait forever, so the operator says so once and exits."""

    def __init__(self, namespace: str, name: str, problem: str) -> None:
        self.namespace, self.name = namespace, name
        super().__init__(
            f"{problem}, so this replica can never take the leader Lease {namespace}/{name}. "
            f"Pass --lease-namespace (SECRETSYNC_LEASE_NAMESPACE) naming a namespace where the "
            f"operator may get, create and update Leases (deploy/rbac/role.yaml grants that in "
            f"secretsync-system), or run a single replica without leader election: "
            f"--no-leader-elect (SECRETSYNC_LEADER_ELECT=false)"
        )


class LeaderElector:
    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        duration_seconds: int = 15,
        advertise: str = "",
    ) -> None:
        self._api = client.CoordinationV1Api(api)
        self.namespace, self.name, self.identity = namespace, name, identity
        self.duration = duration_seconds
        self._advertise = advertise
        self.holder: str | None = None
        """Who held the Lease when we last failed to take it."""

    def try_acquire(self) -> bool:
        """Acquire or renew; False when another live replica holds the lease.

        Raises LeaseUnusable when it can never succeed as configured: the namespace does not
        exist (the create answers 404) or RBAC refuses the Lease (403). Other failures are
        worth retrying and raise as mapped (Unavailable, Throttled, ...).
        """
        for wait in (*DENIAL_RECHECKS, None):
            try:
                return self._try_acquire()
            except AccessDenied as exc:
                # A restarted apiserver refuses every request for a few seconds, until its RBAC
                # cache is filled (measured: 4-6 s, and still for a moment after /readyz says
                # ok): that refusal passes, so it is retried before it is called permanent.
                if not self._apiserver_ready():
                    raise Unavailable(f"{exc}; the API server is not ready yet") from exc
                if wait is None:
                    raise LeaseUnusable(
                        self.namespace,
                        self.name,
                        f"the API server refused the Lease in namespace {self.namespace!r} ({exc})",
                    ) from exc
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _apiserver_ready(self) -> bool:
        api = self._api.api_client
        try:
            with mapped("asking whether the API server is ready"):
                request = api.param_serialize("GET", "/readyz", auth_settings=["BearerToken"])
                response = api.call_api(*request)
                response.read()
        except SecretSyncError:
            return False
        return int(response.status) == 200

    def _try_acquire(self) -> bool:
        now = datetime.datetime.now(datetime.UTC)
        try:
            with mapped(f"reading lease {self.namespace}/{self.name}"):
                lease = self._api.read_namespaced_lease(self.name, self.namespace)
        except NotFound:
            return self._create(now)
        spec = lease.spec or client.V1LeaseSpec()
        if not may_take(_view(lease), self.identity, now):
            self.holder = spec.holder_identity
            return False
        if spec.holder_identity != self.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = self.identity
        spec.renew_time = now
        spec.lease_duration_seconds = self.duration
        lease.spec = spec
        lease.metadata = lease.metadata or client.V1ObjectMeta(name=self.name)
        lease.metadata.annotations = self._annotations(lease.metadata.annotations)
        try:
            with mapped(f"renewing lease {self.namespace}/{self.name}"):
                self._api.replace_namespaced_lease(self.name, self.namespace, lease)
        except (Conflict, NotFound):
            return False  # another replica wrote or deleted it first; read it again
        return True

    def _create(self, now: datetime.datetime) -> bool:
        lease = client.V1Lease(
            metadata=client.V1ObjectMeta(
                name=self.name, namespace=self.namespace, annotations=self._annotations(None)
            ),
            spec=client.V1LeaseSpec(
                holder_identity=self.identity,
                acquire_time=now,
                renew_time=now,
                lease_duration_seconds=self.duration,
                lease_transitions=0,
            ),
        )
        try:
            with mapped(f"creating lease {self.namespace}/{self.name}"):
                self._api.create_namespaced_lease(self.namespace, cast(Any, lease))
        except Conflict:
            return False
        except NotFound as exc:  # the Lease was missing; a 404 now means its namespace is
            raise LeaseUnusable(
                self.namespace, self.name, f"namespace {self.namespace!r} does not exist"
            ) from exc
        return True

    def _annotations(self, existing: Mapping[str, str] | None) -> dict[str, str]:
        annotations = dict(existing or {})
        annotations.pop(WEBHOOK_ANNOTATION, None)
        if self._advertise:
            annotations[WEBHOOK_ANNOTATION] = self._advertise
        return annotations

    def leader_webhook(self) -> str | None:
        """Where another live leader takes forwarded webhooks; None when there is none."""
        lease = self._held_by_another()
        if lease is None:
            return None
        return ((lease.metadata and lease.metadata.annotations) or {}).get(WEBHOOK_ANNOTATION)

    def other_holder(self) -> str | None:
        """Another replica that holds the Lease and still renews it, if any."""
        lease = self._held_by_another()
        return None if lease is None else (lease.spec and lease.spec.holder_identity) or None

    def _held_by_another(self) -> client.V1Lease | None:
        """The Lease, when another replica holds it and still renews it; None when it is
        missing, unheld, expired, or ours."""
        try:
            with mapped(f"reading lease {self.namespace}/{self.name}"):
                lease = self._api.read_namespaced_lease(self.name, self.namespace)
        except NotFound:
            return None
        if may_take(_view(lease), self.identity, datetime.datetime.now(datetime.UTC)):
            return None
        return lease

    def release(self) -> None:
        """Give the lease up on a clean exit, so a standby need not wait for it to expire."""
        try:
            with mapped(f"releasing lease {self.namespace}/{self.name}"):
                lease = self._api.read_namespaced_lease(self.name, self.namespace)
                if lease.spec and lease.spec.holder_identity == self.identity:
                    lease.spec.holder_identity = None
                    self._api.replace_namespaced_lease(self.name, self.namespace, lease)
        except (NotFound, Conflict):
            return


def _view(lease: client.V1Lease) -> dict[str, Any]:
    spec = lease.spec or client.V1LeaseSpec()
    return {
        "holderIdentity": spec.holder_identity,
        "renewTime": spec.renew_time,
        "leaseDurationSeconds": spec.lease_duration_seconds,
    }
