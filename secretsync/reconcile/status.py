"""The ExternalSecret's status: a Ready condition with ESO's reasons, refreshTime,
syncedResourceVersion and observedGeneration (pure)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any


class Reason(enum.StrEnum):
    SYNCED = "SecretSynced"
    ERROR = "SecretSyncedError"
    DELETED = "SecretDeleted"
    MISSING = "SecretMissing"
    UNSUPPORTED = "Unsupported"
    """The spec (or its store) uses what ESO defines and secretsync does not implement."""
    # The same outcomes for a target.manifest (a ConfigMap or custom resource), as ESO names them.
    RESOURCE_SYNCED = "ResourceSynced"
    RESOURCE_ERROR = "ResourceSyncedError"
    RESOURCE_DELETED = "ResourceDeleted"
    RESOURCE_MISSING = "ResourceMissing"


@dataclasses.dataclass(frozen=True)
class Outcome:
    ready: bool
    reason: Reason
    message: str
    synced: bool
    """A successful sync: refreshTime and syncedResourceVersion move forward."""


def timestamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


def ready_condition(
    outcome: Outcome, previous: Sequence[Mapping[str, Any]], now: datetime.datetime
) -> dict[str, Any]:
    status = "True" if outcome.ready else "False"
    old = next((c for c in previous if c.get("type") == "Ready"), None)
    # lastTransitionTime moves only when the status flips, as Kubernetes conventions require.
    since = old.get("lastTransitionTime") if old and old.get("status") == status else None
    return {
        "type": "Ready",
        "status": status,
        "reason": outcome.reason.value,
        "message": outcome.message,
        "lastTransitionTime": since or timestamp(now),
    }


FOREIGN = frozenset({"rollout"})
"""Status fields another writer owns (the rollout engine's status.rollout). The sync loop works
from a cached copy of the ExternalSecret, so it must never write them back: a merge patch leaves
a field it does not name alone."""


def sync_loop_view(current: Mapping[str, Any]) -> dict[str, Any]:
    """The status as far as the sync loop writes it: without the fields another writer owns."""
    return {k: v for k, v in current.items() if k not in FOREIGN}


def new_status(
    current: Mapping[str, Any],
    outcome: Outcome,
    *,
    generation: int,
    synced_version: str,
    target_name: str,
    now: datetime.datetime,
    fresher: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The status the sync loop patches in: `current` (cached, maybe stale) without the foreign
    fields, with Ready set. `fresher`: conditions another writer set, newer than the cached copy;
    they replace the cached conditions of their types, since a merge patch replaces the whole
    list and would otherwise put a stale one back."""
    status = sync_loop_view(current)
    replaced = {c.get("type") for c in fresher}
    cached = [c for c in status.get("conditions") or [] if isinstance(c, Mapping)]
    previous = [*(c for c in cached if c.get("type") not in replaced), *fresher]
    others = [c for c in previous if c.get("type") != "Ready"]
    status["conditions"] = [*others, ready_condition(outcome, previous, now)]
    status["observedGeneration"] = generation
    status["binding"] = {"name": target_name}
    if outcome.synced:
        status["refreshTime"] = timestamp(now)
        status["syncedResourceVersion"] = synced_version
    return status


def lagging(
    new: Mapping[str, Any],
    current: Mapping[str, Any],
    now: datetime.datetime,
    resolution: datetime.timedelta,
) -> dict[str, Any]:
    """`new`, keeping the refreshTime `current` has when that is younger than `resolution` and
    is all a patch would change (--refresh-time-resolution): a refresh that found nothing to
    change then writes nothing. ESO writes refreshTime on every refresh; at a one-minute
    interval that is a write per object per minute, which etcd keeps for nothing."""
    written = parse_timestamp(current.get("refreshTime"))
    if resolution <= datetime.timedelta(0) or written is None or written > now:
        return dict(new)
    if now - written >= resolution:
        return dict(new)
    kept = {**new, "refreshTime": current.get("refreshTime")}
    return kept if kept == sync_loop_view(current) else dict(new)
