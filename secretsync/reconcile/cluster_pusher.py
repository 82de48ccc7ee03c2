"""One pass over a ClusterPushSecret (the thin shell around cluster_push.py): select namespaces,
create, update and delete its PushSecrets, then the status and, on a change, one Event."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from secretsync.api.parsing import parse
from secretsync.api.push import ClusterPushSecretSpec
from secretsync.errors import ConfigError, NotFound, SecretSyncError, Unsupported
from secretsync.reconcile import cluster_push as rules
from secretsync.reconcile.cluster_sync import write_child
from secretsync.reconcile.lease_keeper import deleting
from secretsync.reconcile.ports import Events, StatusWriter

log = logging.getLogger(__name__)
PLURAL, VERSION = "clusterpushsecrets", "v1alpha1"
RETRY_SECONDS = 30.0


class PushChildren(Protocol):
    def namespaces(self) -> dict[str, dict[str, str]]: ...
    def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def create(self, body: Mapping[str, Any]) -> None: ...
    def replace(self, body: Mapping[str, Any]) -> None: ...
    def delete(self, namespace: str, name: str) -> None: ...


@dataclasses.dataclass
class ClusterPusher:
    children: PushChildren
    statuses: StatusWriter
    events: Events
    clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)

    def run(self, raw: Mapping[str, Any]) -> float | None:
        """Converge; returns seconds until namespaces are evaluated again."""
        name = str((raw.get("metadata") or {}).get("name"))
        if deleting(raw):
            return None  # its PushSecrets go with it (ownerReferences), as in ESO
        try:
            spec = parse(ClusterPushSecretSpec, raw.get("spec") or {}, "spec")
        except ConfigError as exc:
            reason = "Unsupported" if isinstance(exc, Unsupported) else "Errored"
            self._report(raw, name, [], {}, str(exc), reason=reason)
            return None
        child = rules.child_name(spec, name)
        try:
            wanted = rules.selected(spec, self.children.namespaces())
        except SecretSyncError as exc:
            self._report(raw, child, [], {}, f"failed to get target Namespaces: {exc}")
            return RETRY_SECONDS
        failed: dict[str, str] = {}
        existing = self._existing(raw, child, wanted, failed)
        work = rules.plan(raw, spec, [ns for ns in wanted if ns not in failed], existing)
        failed.update(work.failed)
        for body in work.create:
            write_child(self.children.create, body, failed)
        for body in work.update:
            write_child(self.children.replace, body, failed)
        for namespace, old in work.delete:
            try:
                self.children.delete(namespace, old)
            except SecretSyncError as exc:
                failed[namespace] = str(exc)
        provisioned = [ns for ns in wanted if ns not in failed]
        self._report(raw, child, provisioned, failed, None)
        # Every refreshTime, failed or not (as ESO): a namespace that fails keeps failing until
        # someone acts, and the others must still follow their labels.
        interval = spec.refresh_time.total_seconds()
        return interval or (RETRY_SECONDS if failed else None)

    def _existing(
        self, raw: Mapping[str, Any], child: str, wanted: list[str], failed: dict[str, str]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The PushSecrets now in the wanted namespaces and in those provisioned before, under
        the current name and the previous one (a renamed child is deleted)."""
        before, provisioned = rules.previous(raw)
        names = {child} | ({before} if before else set())
        places = {(ns, child) for ns in wanted} | {(ns, n) for ns in provisioned for n in names}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for namespace, name in sorted(places):
            try:
                current = self.children.get(namespace, name)
            except NotFound:
                continue  # the namespace is gone, and its PushSecrets with it
            except SecretSyncError as exc:
                failed[namespace] = str(exc)
                continue
            if current is not None:
                found[(namespace, name)] = current
        return found

    def _report(
        self,
        raw: Mapping[str, Any],
        child: str,
        provisioned: list[str],
        failed: Mapping[str, str],
        error: str | None,
        *,
        reason: str | None = None,
    ) -> None:
        name = str((raw.get("metadata") or {}).get("name"))
        new = rules.new_status(
            raw, child, provisioned, failed, error, now=self.clock(), reason=reason
        )
        current = dict(raw.get("status") or {})
        if new == {k: current.get(k) for k in new}:
            return
        try:
            self.statuses.patch_status(PLURAL, None, name, new, version=VERSION)
        except NotFound:
            return  # deleted meanwhile
        old: Mapping[str, Any] = next(
            (c for c in current.get("conditions") or [] if c.get("type") == "Ready"), {}
        )
        condition = new["conditions"][0]
        if (old.get("reason"), old.get("message")) != (condition["reason"], condition["message"]):
            ready = condition["status"] == "True"
            message = condition["message"]
            if failed:
                message += ": " + "; ".join(f"{ns}: {why}" for ns, why in sorted(failed.items()))
            self.events.record(raw, rules.KIND, condition["reason"], message, warning=not ready)
        log.info(
            "cluster push secret converged" if not failed and not error else "cluster push failed",
            extra={"object": name, "reason": condition["reason"]},
        )
