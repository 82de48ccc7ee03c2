"""Overlap rotation of issued credentials (`spec.rollout.overlap`): the pure state machine.

A write that supersedes leases does not revoke them: they stay in the Secret's lease
annotation, marked retiring, and stay valid while the consumers restart on the new credential.
What happens to them next follows from two durable records only, so any operator process (after
a restart, a kill -9 or a leader change) takes the same decision from the same state:

- the lease annotation on the target Secret (written with the data it belongs to): which leases
  are current, which are retiring, and until when ("pending revocation until T");
- `status.rollout` on the ExternalSecret (the rollout engine's): the phase of the consumers'
  rollout, the data it rolls out or restored, when it ended.

The steps, for a retiring lease:

    written ──rollout Succeeded on the current data──▶ revoke at end + grace ──▶ revoked
       │                                                  (pending revocation until T)
       ├─rollout Failed, rolled back to the data it belonged to──▶ current again; the new
       │      leases retire, revoked at the rollback's end + grace
       ├─rollout Failed and held (onFailure: Hold)──▶ kept until a later rollout succeeds
       └─its own expiry──▶ dropped (nothing left to revoke)

Nothing is revoked before the consumers are healthy on data that does not use it and the grace
has passed; when the records do not say so (a rollout not recorded yet, a restored data hash no
lease carries), the lease is kept until it expires: late, never early.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from secretsync.generators.leases import Lease

POLL_SECONDS = 1.0
"""How often an ExternalSecret whose rotation waits for its consumers is looked at again (the
rollout engine records their health in status.rollout; a status change does not wake a sync)."""

_ROLLED_BACK = {"RollingBack", "RolledBack", "RollbackFailed"}


class Stage(enum.StrEnum):
    """Where a rotation stands, as its Events and `status.leaseRotation` say."""

    IDLE = "Idle"
    ROLLING = "Rolling"
    """The previous leases are kept while the consumers restart on the new credential."""

    ROLLING_BACK = "RollingBack"
    GRACE = "Grace"
    """The consumers are healthy; the previous leases are revoked at their `revoke_at`."""

    HELD = "Held"
    """The rollout failed and is held: the previous leases are kept until a later rollout
    succeeds or they expire."""


@dataclasses.dataclass(frozen=True)
class RolloutView:
    """What decide needs of `status.rollout`."""

    phase: str
    data_hash: str
    held_hash: str | None = None
    finished_at: float | None = None


@dataclasses.dataclass(frozen=True)
class Plan:
    leases: tuple[Lease, ...]
    """The leases to record after this step (revoked and expired ones already left out)."""

    revoke: tuple[Lease, ...]
    """Retiring leases whose time has come: revoke them now."""

    expired: tuple[Lease, ...]
    """Retiring leases past their own expiry: dropped, nothing to revoke."""

    scheduled: tuple[Lease, ...]
    """Leases that got their revocation time in this step (an Event says when)."""

    restored: tuple[Lease, ...]
    """Leases a rollback made current again (an Event says so)."""

    stage: Stage
    wake_at: float | None
    """When this ExternalSecret must be looked at again for its rotation (None: not needed)."""

    changed: bool
    """The annotation must be rewritten."""

    unrecorded: bool = False
    """Leases wait for a rollout of the current data that status.rollout does not show: just
    started (the cache lags), or lost with a process killed right after the write."""


def view(status: Mapping[str, Any] | None) -> RolloutView | None:
    """The rollout as `status.rollout` records it; None when there is none."""
    raw = (status or {}).get("rollout")
    if not isinstance(raw, Mapping) or not raw.get("phase"):
        return None
    finished = raw.get("finishedAt")
    return RolloutView(
        phase=str(raw["phase"]),
        data_hash=str(raw.get("dataHash") or ""),
        held_hash=raw.get("heldHash") or None,
        finished_at=_unix(finished) if finished else None,
    )


def written(
    previous: Sequence[Lease],
    issued: Sequence[Lease],
    data_hash: str,
    overlap: bool,
    secret_hash: str = "",
) -> tuple[list[Lease], list[Lease]]:
    """A write of new data with the `issued` leases: the leases to record with it (in the same
    request) and those to revoke once it is written. Without overlap every superseded lease is
    revoked at once, as before. With it they retire: kept, waiting for the consumers; a lease
    already retiring keeps its state (and its time, if it has one). `data_hash` is the hash of
    the ExternalSecret's data, `secret_hash` of the whole Secret written (empty: the same)."""
    current = [
        dataclasses.replace(
            lease, data_hash=data_hash, secret_hash=secret_hash or data_hash, pending=False
        )
        for lease in issued
    ]
    kept_ids = {lease.id for lease in issued}
    gone = [lease for lease in previous if lease.id not in kept_ids]
    if not overlap:
        return current, gone
    retiring = [
        lease if lease.retiring else dataclasses.replace(lease, retiring=True, revoke_at=None)
        for lease in gone
    ]
    return current + retiring, []


def settle_now(leases: Sequence[Lease], now: float, grace: float) -> list[Lease]:
    """No rollout was started for the new data (nothing to restart): the consumers, if any, are
    not waited for, and the waiting leases are revoked after the grace."""
    return [
        dataclasses.replace(lease, revoke_at=now + max(0.0, grace))
        if lease.retiring and lease.revoke_at is None
        else lease
        for lease in leases
    ]


def decide(leases: Sequence[Lease], rollout: RolloutView | None, now: float, grace: float) -> Plan:
    """The next step of the retiring leases, from the recorded state alone."""
    grace = max(0.0, grace)
    current = [lease for lease in leases if not lease.retiring]
    retiring = [lease for lease in leases if lease.retiring]
    if not retiring:
        return Plan(tuple(leases), (), (), (), (), Stage.IDLE, None, False)
    changed = False
    restored: list[Lease] = []
    if _rolled_back_from(current, rollout):
        assert rollout is not None
        # The rollback put older data back: its leases are current again and the failed ones
        # retire (their Secret data is gone).
        restored = [
            dataclasses.replace(lease, retiring=False, revoke_at=None)
            for lease in retiring
            if carries(lease, rollout.data_hash)
        ]
        back = {lease.id for lease in restored}
        failed = [dataclasses.replace(lease, retiring=True, revoke_at=None) for lease in current]
        current = restored
        retiring = failed + [lease for lease in retiring if lease.id not in back]
        changed = True
    data = _data_of(current, rollout)
    stage, settle_at, which = _settle(current, rollout, data, now, grace)
    unrecorded = rollout is None or rollout.data_hash != data
    scheduled: list[Lease] = []
    updated: list[Lease] = []
    for lease in retiring:
        if lease.revoke_at is None and settle_at is not None and which(lease):
            timed = dataclasses.replace(lease, revoke_at=settle_at)
            scheduled.append(timed)
            updated.append(timed)
            changed = True
        else:
            updated.append(lease)
    expired = [lease for lease in updated if lease.expires_at <= now]
    revoke = [
        lease
        for lease in updated
        if lease.revoke_at is not None and lease.revoke_at <= now and lease not in expired
    ]
    gone = {lease.id for lease in expired + revoke}
    left = [lease for lease in updated if lease.id not in gone]
    changed = changed or bool(gone)
    waiting = any(lease.revoke_at is None for lease in left)
    if not left:
        stage = Stage.IDLE
    elif stage is Stage.ROLLING and not waiting:
        stage = Stage.GRACE  # every one has its time already (nothing to restart, say)
    elif stage is Stage.GRACE and waiting:
        stage = Stage.HELD  # some wait for their expiry, as the rollback left them
    return Plan(
        leases=tuple(current + left),
        revoke=tuple(revoke),
        expired=tuple(expired),
        scheduled=tuple(scheduled),
        restored=tuple(restored),
        stage=stage,
        wake_at=_wake(left, stage, now),
        changed=changed,
        unrecorded=unrecorded and stage is Stage.ROLLING and waiting,
    )


def carries(lease: Lease, data: str | None) -> bool:
    """Whether `data` (a hash the rollout engine recorded) is the data written with the lease:
    the ExternalSecret's data, or the whole Secret's (what a rollback restores)."""
    return bool(data) and data in (lease.data_hash, lease.secret_hash)


def _data_of(current: Sequence[Lease], rollout: RolloutView | None) -> str:
    """The hash of the data the current leases were written with, as the rollout engine
    records it (a rollback records the whole Secret's; a rollout, the ExternalSecret's)."""
    if not current:
        return rollout.data_hash if rollout else ""
    if rollout is not None and carries(current[0], rollout.data_hash):
        return rollout.data_hash
    return current[0].data_hash


def _rolled_back_from(current: Sequence[Lease], rollout: RolloutView | None) -> bool:
    """The rollout engine rolled the current leases' data back (the held hash is theirs)."""
    if rollout is None or rollout.phase not in _ROLLED_BACK or not rollout.held_hash:
        return False
    return bool(current) and all(carries(lease, rollout.held_hash) for lease in current)


def _settle(
    current: Sequence[Lease],
    rollout: RolloutView | None,
    data: str,
    now: float,
    grace: float,
) -> tuple[Stage, float | None, Callable[[Lease], bool]]:
    """The stage, and when the waiting leases are revoked (None: they keep waiting) with a
    predicate choosing which of them."""

    def everyone(lease: Lease) -> bool:
        return True

    if rollout is None or rollout.data_hash != data or not data:
        # The rollout of the current data is not recorded yet (or the state is one no record
        # explains): wait; never guess.
        return Stage.ROLLING, None, everyone
    end = (rollout.finished_at or now) + grace
    waiting = {"Progressing": Stage.ROLLING, "RollingBack": Stage.ROLLING_BACK}
    if rollout.phase in waiting:
        return waiting[rollout.phase], None, everyone
    if rollout.phase == "Succeeded" or (rollout.phase == "RolledBack" and current):
        return Stage.GRACE, end, everyone
    if rollout.phase in ("RolledBack", "RollbackFailed"):
        # Only the leases of the data that failed are known to be unused; the others may be
        # what the restored data holds (a hash no lease carries): they wait for their expiry.
        failed = rollout.held_hash or ""

        def of_failed(lease: Lease) -> bool:
            return carries(lease, failed)

        return Stage.GRACE, end, of_failed
    return Stage.HELD, None, everyone  # Failed (onFailure: Hold)


def _wake(left: Sequence[Lease], stage: Stage, now: float) -> float | None:
    times = [lease.revoke_at for lease in left if lease.revoke_at is not None]
    times += [lease.expires_at for lease in left]
    if stage in (Stage.ROLLING, Stage.ROLLING_BACK):
        times.append(now + POLL_SECONDS)
    return min(times, default=None)


STATUS_KEY = "leaseRotation"
"""status.leaseRotation on the ExternalSecret: where its overlap rotation stands."""


def status(plan: Plan) -> dict[str, Any]:
    """What status.leaseRotation shows for this plan (counts and times, never lease IDs)."""
    retiring = [lease for lease in plan.leases if lease.retiring]
    shown: dict[str, Any] = {"stage": plan.stage.value, "retiringLeases": len(retiring)}
    until = [lease.revoke_at for lease in retiring if lease.revoke_at is not None]
    shown["pendingRevocationUntil"] = _stamp(min(until)) if until else None
    return shown


def status_due(plan: Plan, shown: Mapping[str, Any] | None) -> bool:
    """Whether status.leaseRotation must be written: it says something else, or nothing while a
    rotation is under way (an ExternalSecret that never rotated with overlap gets none)."""
    if not shown:
        return plan.stage is not Stage.IDLE
    return dict(shown) != status(plan)


def pending_message(leases: Sequence[Lease]) -> str:
    """'pending revocation until T' for the leases that have a time (no IDs, no values)."""
    times = sorted({lease.revoke_at for lease in leases if lease.revoke_at is not None})
    return ", ".join(_stamp(at) for at in times)


def _unix(text: Any) -> float | None:
    try:
        when = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def _stamp(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
