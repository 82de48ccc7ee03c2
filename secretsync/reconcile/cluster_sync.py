"""One pass over a ClusterExternalSecret: select namespaces, converge its children, report."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from secretsync.api.objects import parse_cluster_external_secret
from secretsync.errors import ConfigError, SecretSyncError, Unsupported
from secretsync.reconcile import cluster, status
from secretsync.reconcile.ports import StatusWriter

log = logging.getLogger(__name__)


def write_child(
    write: Callable[[Mapping[str, Any]], Any], body: Mapping[str, Any], failed: dict[str, str]
) -> None:
    """One child written; a failure is recorded against its namespace, so the others go on."""
    try:
        write(body)
    except SecretSyncError as exc:
        failed[str(body["metadata"]["namespace"])] = str(exc)


class Children(Protocol):
    def namespaces(self) -> dict[str, dict[str, str]]: ...
    def children(self, label: str, owner: str) -> dict[str, dict[str, Any]]: ...
    def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def create(self, body: Mapping[str, Any]) -> None: ...
    def replace(self, body: Mapping[str, Any]) -> None: ...
    def delete(self, namespace: str, name: str) -> None: ...


@dataclasses.dataclass
class ClusterSyncer:
    children: Children
    statuses: StatusWriter
    on_ready: Callable[[str, bool], None] = lambda name, ready: None
    """Told each pass whether the ClusterExternalSecret is Ready (its status_condition gauge)."""

    def sync(self, raw: Mapping[str, Any]) -> float | None:
        """Converge; returns seconds until namespaces are evaluated again."""
        name = str((raw.get("metadata") or {}).get("name"))
        try:
            ces = parse_cluster_external_secret(raw)
        except ConfigError as exc:
            # Unsupported (a field of its ExternalSecret template we do not implement) is said as
            # such; either way no ExternalSecret is made or changed from a spec we cannot use.
            unsupported = isinstance(exc, Unsupported)
            self._status(raw, name, [], {}, str(exc), unsupported=unsupported)
            return None
        wanted = cluster.selected_namespaces(ces, self.children.namespaces())
        existing = self.children.children(cluster.OWNER_LABEL, ces.metadata.name)
        child_name = ces.spec.external_secret_name or ces.metadata.name
        for namespace in set(wanted) - set(existing):
            found = self.children.get(namespace, child_name)
            if found is not None:
                existing[namespace] = found
        work = cluster.plan(raw, ces, wanted, existing)
        failed = dict(work.failed)
        for body in work.create:
            write_child(self.children.create, body, failed)
        for body in work.update:
            write_child(self.children.replace, body, failed)
        for namespace, child in work.delete:
            self.children.delete(namespace, child)
        provisioned = [ns for ns in wanted if ns not in failed]
        self._status(raw, child_name, provisioned, failed, None)
        return ces.spec.refresh_time.total_seconds() or None

    def _status(
        self,
        raw: Mapping[str, Any],
        child: str,
        provisioned: list[str],
        failed: Mapping[str, str],
        error: str | None,
        *,
        unsupported: bool = False,
    ) -> None:
        ready = error is None and not failed
        self.on_ready(str((raw.get("metadata") or {}).get("name")), ready)
        message = error or (
            "all namespaces provisioned" if ready else f"{len(failed)} namespace(s) failed"
        )
        reason = status.Reason.SYNCED if ready else status.Reason.ERROR
        if unsupported:
            reason = status.Reason.UNSUPPORTED
        outcome = status.Outcome(ready, reason, message, synced=ready)
        current = raw.get("status") or {}
        now = datetime.datetime.now(datetime.UTC)
        new = {
            "externalSecretName": child,
            "provisionedNamespaces": provisioned,
            "failedNamespaces": [
                {"namespace": ns, "reason": why} for ns, why in sorted(failed.items())
            ],
            "conditions": [status.ready_condition(outcome, current.get("conditions") or [], now)],
        }
        if new != current:
            self.statuses.patch_status(
                "clusterexternalsecrets", None, str((raw.get("metadata") or {}).get("name")), new
            )
