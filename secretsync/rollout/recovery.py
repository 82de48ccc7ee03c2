"""The rollout state kept in the cluster: the companion Secret with the last good data, putting
it back into the target Secret, and rebuilding a rollout in flight after an operator restart."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.objects import ExternalSecret
from secretsync.api.rollout import OnFailure
from secretsync.errors import SecretSyncError
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, data_hash
from secretsync.rollout import record, restart
from secretsync.rollout.flight import EsRef, Flight
from secretsync.rollout.ports import Events, Secrets, Workloads

log = logging.getLogger(__name__)


class Recovery:
    def __init__(
        self,
        workloads: Workloads,
        secrets: Secrets,
        events: Events,
        say: Callable[[str, EsRef, str], None],
    ) -> None:
        self._workloads, self._secrets, self._events, self._say = workloads, secrets, events, say

    def keep_previous(self, raw_es: Mapping[str, Any], previous: Mapping[str, bytes]) -> None:
        body = record.companion(raw_es, previous, data_hash(previous))
        meta = body["metadata"]
        existing = self._secrets.get(meta["namespace"], meta["name"])
        if existing is None:
            self._secrets.create(meta["namespace"], body)
            return
        version = (existing.get("metadata") or {}).get("resourceVersion")
        self._secrets.replace(
            meta["namespace"], {**body, "metadata": {**meta, "resourceVersion": version}}
        )

    def restore(self, es: EsRef, target: str) -> str | None:
        """Put the companion's data back into the target Secret; its hash, or None when there is
        nothing to restore (then the caller holds instead)."""
        kept = self._secrets.get(es.namespace, record.companion_name(es.name))
        current = self._secrets.get(es.namespace, target)
        if kept is None or current is None:
            self._say("no previous data kept: cannot roll back", es, "-")
            return None
        data = record.decode(kept)
        previous_hash = data_hash(data)
        if data_hash(record.decode(current)) != previous_hash:
            meta = dict(current.get("metadata") or {})
            # The data-hash annotation must describe the data, or the sync loop would see drift.
            meta["annotations"] = {
                **(meta.get("annotations") or {}),
                DATA_HASH_ANNOTATION: previous_hash,
            }
            body = {**current, "metadata": meta, "data": record.companion({}, data, "")["data"]}
            try:
                self._secrets.replace(es.namespace, body)
            except SecretSyncError as exc:
                log.warning("restore failed", extra={"object": str(es), "reason": str(exc)})
                return None
        return previous_hash

    def resume(
        self,
        es: ExternalSecret,
        raw: Mapping[str, Any],
        stored: record.Record,
        now: float,
        wall: datetime.datetime,
    ) -> Flight:
        """A Flight for a rollout another process started. Workloads whose template already
        carries its token are not restarted again; the deadline counts from the stored start."""
        meta = raw.get("metadata") or {}
        ref = EsRef(
            es.metadata.namespace or "default",
            es.metadata.name,
            str(raw.get("apiVersion")),
            meta.get("uid"),
        )
        started = _parse(stored.started_at) or wall
        elapsed = max(0.0, (wall - started).total_seconds())
        resumed = Flight(
            es=ref,
            target=es.target_name,
            token=stored.token,
            phase=stored.phase,
            workloads=stored.workloads,
            data_hash=stored.data_hash,
            on_failure=OnFailure.ROLLBACK,
            timeout=0.0,
            started=now - elapsed,
            started_at=stored.started_at,
            changed=now - elapsed,
            not_before=now,
            held_hash=stored.held_hash,
        )
        if stored.phase is record.Phase.ROLLING_BACK:
            self.restore(ref, es.target_name)  # idempotent: a no-op when already restored
        for workload in stored.workloads:
            raw_workload = self._workloads.get(
                workload.namespace, workload.kind.value, workload.name
            )
            if raw_workload is not None and restart.template_carries(raw_workload, stored.token):
                resumed.patched.add(workload)
        return resumed


def _parse(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return None
