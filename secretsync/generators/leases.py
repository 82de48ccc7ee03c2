"""The lease of an issued credential (VaultDynamicSecret): what we keep about it and the pure
decisions of its lifecycle. The I/O (renew, revoke) is vault_dynamic.py's.

A lease is renewed once `renew_at` of the time from its last renewal to its expiry has passed
(two thirds by default). A renewal that comes back shorter than the lease's own TTL was capped
by the max TTL (or the login token's): it cannot be extended again, so at the next such point
the credential is issued anew instead, well before the lease's hard end. A lease that is not
renewable is re-issued at the same point.

Only the lease ID and times are kept (docs/rotation.md: in an annotation on the target Secret,
written together with the credential it belongs to). Never a credential value.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

LEASES_ANNOTATION = "secretsync.io/leases"
CAP_TOLERANCE_SECONDS = 2
"""A renewal granted this much less than the TTL is still a full one (clock and rounding)."""


@dataclasses.dataclass(frozen=True)
class Lease:
    id: str
    generator: str
    """`Kind/name` of the generator that issued it (a ClusterGenerator's own kind and name)."""

    ttl: int
    """The TTL it was issued with, in seconds: the increment asked for on each renewal."""

    renewed_at: float
    """Unix time its current expiry was set (issue or last renewal)."""

    expires_at: float
    renewable: bool
    capped: bool = False
    """The last renewal was cut short by a max TTL: it cannot be extended again."""

    renew_at: float = 2 / 3
    """The generator's `lease.renewAtPercent` as a share, kept with the lease so the schedule
    needs no read of the generator."""

    revoke_on_delete: bool = True
    """The generator's `lease.revokeOnDelete` when it issued the lease."""

    data_hash: str = ""
    """The hash of the data written with it (the rollout engine's `dataHash`), so that a
    rollback, which restores older data, tells which leases the Secret holds again."""

    retiring: bool = False
    """Superseded, kept valid for an overlap rotation (reconcile/overlap.py): the Secret no
    longer holds it, consumers may still use it."""

    revoke_at: float | None = None
    """Unix time a retiring lease is revoked ("pending revocation until"); None while it waits
    for the consumers to be healthy on the new credential."""

    secret_hash: str = ""
    """The hash of the whole Secret data written with it. It differs from `data_hash` when the
    Secret holds keys the ExternalSecret does not write (creationPolicy Merge); a rollback
    restores the whole data, so this is the hash it reports."""

    pending: bool = False
    """Issued and recorded before the write of its credential (which may never have happened):
    the Secret's data does not hold it. A pending lease found later is one a process died
    without writing, or failed to write: revoked (reconcile/lease_keeper.py)."""


class Action(enum.Enum):
    RENEW = "Renew"
    REISSUE = "Reissue"
    RETIRE = "Retire"
    """A retiring lease's revocation or its end (reconcile/overlap.py decides which)."""


@dataclasses.dataclass(frozen=True)
class Step:
    action: Action
    at: float
    """Unix time it is due; due now when at <= now."""


def issued(lease_id: str, generator: str, ttl: int, renewable: bool, now: float) -> Lease | None:
    """The lease a response carried; None when it has none to keep (no ID, or no TTL)."""
    if not lease_id or ttl <= 0:
        return None
    return Lease(lease_id, generator, ttl, now, now + ttl, renewable)


def next_step(lease: Lease, renew_at: float) -> Step:
    """What to do next with the lease, and when. `renew_at` is the share of the time between its
    last renewal and its expiry after which it is acted on (0 < renew_at < 1)."""
    span = max(0.0, lease.expires_at - lease.renewed_at)
    at = lease.renewed_at + span * renew_at
    extendable = lease.renewable and not lease.capped
    return Step(Action.RENEW if extendable else Action.REISSUE, at)


def renewed(lease: Lease, granted: int, now: float) -> Lease:
    """The lease after a renewal that granted `granted` seconds at `now`."""
    capped = granted + CAP_TOLERANCE_SECONDS < lease.ttl
    return dataclasses.replace(
        lease, renewed_at=now, expires_at=now + max(0, granted), capped=capped
    )


def earliest(leases: Sequence[Lease], renew_at: Mapping[str, float] | None = None) -> Step | None:
    """The first step due among the leases; `renew_at` per generator overrides the share each
    lease was issued with."""
    shares = renew_at or {}
    steps = [next_step(lease, shares.get(lease.generator, lease.renew_at)) for lease in leases]
    return min(steps, key=lambda step: step.at, default=None)


def encode(leases: Sequence[Lease]) -> str:
    return json.dumps([dataclasses.asdict(lease) for lease in leases], sort_keys=True)


def decode(annotations: Mapping[str, str] | None) -> list[Lease]:
    """The leases recorded on a Secret; [] when none or unreadable (an edited annotation is not
    trusted with revocations: those leases expire with their TTL)."""
    text = (annotations or {}).get(LEASES_ANNOTATION)
    if not text:
        return []
    try:
        raw = json.loads(text)
        return [_lease(item) for item in raw]
    except (ValueError, TypeError, KeyError):
        return []


def _lease(item: Mapping[str, Any]) -> Lease:
    return Lease(
        id=str(item["id"]),
        generator=str(item["generator"]),
        ttl=int(item["ttl"]),
        renewed_at=float(item["renewed_at"]),
        expires_at=float(item["expires_at"]),
        renewable=bool(item["renewable"]),
        capped=bool(item.get("capped", False)),
        renew_at=float(item.get("renew_at", 2 / 3)),
        revoke_on_delete=bool(item.get("revoke_on_delete", True)),
        data_hash=str(item.get("data_hash") or ""),
        retiring=bool(item.get("retiring", False)),
        revoke_at=None if item.get("revoke_at") is None else float(item["revoke_at"]),
        secret_hash=str(item.get("secret_hash") or ""),
        pending=bool(item.get("pending", False)),
    )


def superseded(previous: Sequence[Lease], current: Sequence[Lease]) -> list[Lease]:
    """Leases recorded before a write that the written Secret no longer holds: to revoke."""
    kept = {lease.id for lease in current}
    return [lease for lease in previous if lease.id not in kept]
