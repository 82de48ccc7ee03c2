"""When an ExternalSecret is due for a sync: ESO's shouldRefresh, plus Secret validity."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json

from secretsync.api.externalsecret import ExternalSecretSpec, RefreshPolicy
from secretsync.api.objects import ObjectMeta
from secretsync.api.target import CreationPolicy
from secretsync.reconcile import spread, windows


@dataclasses.dataclass(frozen=True)
class SyncState:
    """What the ExternalSecret's status says about its last successful sync."""

    refresh_time: datetime.datetime | None = None
    synced_resource_version: str | None = None


@dataclasses.dataclass(frozen=True)
class TargetState:
    """What the target Secret looks like now, reduced to what validity needs (no data)."""

    exists: bool
    managed: bool = False
    hash_annotation: str | None = None
    data_hash: str | None = None
    """The hash of the Secret's actual data, computed where the data was read."""


def synced_version(meta: ObjectMeta) -> str:
    """ESO's syncedResourceVersion: generation plus a hash of labels and annotations, so that a
    label or annotation change (the force-sync annotation, say) counts as a spec change."""
    payload = json.dumps(
        [dict(sorted(meta.labels.items())), dict(sorted(meta.annotations.items()))]
    )
    return f"{meta.generation}-{hashlib.sha3_224(payload.encode()).hexdigest()}"


def should_refresh(
    spec: ExternalSecretSpec,
    meta: ObjectMeta,
    state: SyncState,
    now: datetime.datetime,
    *,
    source_moved: bool = False,
) -> bool:
    """`source_moved`: the source said it changed (a Git push), which brings a periodic refresh
    forward; the other policies do not refresh on a source change, so it leaves them alone."""
    never_synced = state.synced_resource_version is None or state.refresh_time is None
    changed = state.synced_resource_version != synced_version(meta)
    policy = spec.refresh_policy or RefreshPolicy.PERIODIC
    if policy is RefreshPolicy.CREATED_ONCE:
        return never_synced
    if policy is RefreshPolicy.ON_CHANGE:
        return never_synced or changed
    interval = spec.refresh_interval
    if interval.total_seconds() <= 0:
        # Synced once: with a zero interval ESO never refreshes again, spec changes included.
        return never_synced
    if never_synced or changed:
        return True
    assert state.refresh_time is not None
    if state.refresh_time > now:
        return True
    # A due periodic refresh waits for the sync windows (ESO checks them last, and only here);
    # so does one a push brings forward. Periodic ones fall due on the object's own grid.
    due = source_moved or spread.next_due(meta.uid, state.refresh_time, interval) <= now
    return due and windows.allowed(spec.sync_windows, now)


def restarted(
    state: SyncState,
    interval: datetime.timedelta,
    started: datetime.datetime,
    resolution: datetime.timedelta,
) -> SyncState:
    """The last refresh of an object this process has not synced yet, read from a status whose
    refreshTime may lag (--refresh-time-resolution, status.lagging). A refresh that changed
    nothing wrote no refreshTime younger than `resolution`, so one less than `resolution` plus an
    interval before this process started is no sign of a missed refresh: the object counts as
    refreshed when the process started, and its next refresh comes at its next grid time
    (spread.py) instead of at once with every other such object."""
    last = state.refresh_time
    if resolution <= datetime.timedelta(0) or last is None or interval <= datetime.timedelta(0):
        return state
    if not started - resolution - interval < last <= started:
        return state
    return dataclasses.replace(state, refresh_time=started)


def seconds_until_due(
    spec: ExternalSecretSpec, state: SyncState, now: datetime.datetime, *, uid: str | None
) -> float | None:
    """When the next periodic refresh is due; None when none will ever be. `uid`: the
    object's, which places its refreshes on a grid of its own (spread.py)."""
    policy = spec.refresh_policy or RefreshPolicy.PERIODIC
    if policy is not RefreshPolicy.PERIODIC or spec.refresh_interval.total_seconds() <= 0:
        return None
    if state.refresh_time is None:
        return 0.0
    due = spread.next_due(uid, state.refresh_time, spec.refresh_interval)
    if due > now:
        return (due - now).total_seconds()
    # Overdue: at once, unless the sync windows hold it back; then when they next allow it.
    # (ESO polls with its backoff meanwhile; waking at the edge is the same, minus the polls.)
    opens = windows.next_allowed(spec.sync_windows, now)
    if opens is None:
        return None
    return max(0.0, (opens - now).total_seconds())


def secret_valid(target: TargetState, policy: CreationPolicy) -> bool:
    """ESO's isSecretValid: a missing, unlabelled or hand-edited Secret needs a sync even when
    no refresh is due. Orphaned Secrets are the user's to edit."""
    if policy is CreationPolicy.ORPHAN:
        return True
    if policy in (CreationPolicy.NONE, CreationPolicy.MERGE) and not target.exists:
        return True
    return (
        target.exists
        and target.managed
        and target.hash_annotation is not None
        and target.hash_annotation == target.data_hash
    )
