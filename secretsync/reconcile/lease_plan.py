"""The lease lifecycle of an ExternalSecret's issued credentials, as the sync sees it (pure).

generators/leases.py decides what one lease needs next and when; this module decides what the
sync does about it: when to wake the ExternalSecret (the earlier of its refresh and its next
lease step), whether a lease step due now is a renewal (annotation only) or a re-issue (a sync),
which superseded leases are revoked now, whether the ExternalSecret needs our finalizer, and
when a revocation on deletion is given up. lease_keeper.py does the I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.generators import leases as lease_rules
from secretsync.generators.leases import LEASES_ANNOTATION, Action, Lease, Step, earliest, encode
from secretsync.reconcile import finalizing

FINALIZER = "secretsync.io/revoke-leases"
"""On an ExternalSecret whose leases are revoked when it is deleted."""

# When a revocation on deletion is given up (the leases then end with their TTL) is the same
# decision as for a PushSecret's cleanup: finalizing.py owns it.
GIVE_UP_AFTER_SECONDS = finalizing.GIVE_UP_AFTER_SECONDS
give_up = finalizing.give_up


def wake_in(refresh_in: float | None, step: Step | None, now: float) -> float | None:
    """Seconds until the ExternalSecret must be looked at again: its next refresh (None: none
    will come) or its next lease step, whichever is first. A step already due is due now."""
    if step is None:
        return refresh_in
    lease_in = max(0.0, step.at - now)
    return lease_in if refresh_in is None else min(refresh_in, lease_in)


def due(step: Step | None, now: float) -> Action | None:
    """The lease action to take now, if one is due."""
    if step is None or step.at > now:
        return None
    return step.action


def next_step(leases: Sequence[Lease], retire_at: float | None = None) -> Step | None:
    """The first lease step: the current leases' renewals and re-issues, and the renewals of
    retiring ones (kept valid for an overlap rotation, never issued anew); `retire_at` is when
    the rotation (reconcile/overlap.py) must be looked at again."""
    current = [lease for lease in leases if not lease.retiring]
    steps = [earliest(current)]
    steps += [
        lease_rules.next_step(lease, lease.renew_at)
        for lease in leases
        if lease.retiring and lease.renewable and not lease.capped
    ]
    if retire_at is not None:
        steps.append(Step(Action.RETIRE, retire_at))
    return min((s for s in steps if s is not None), key=lambda s: s.at, default=None)


def wants_finalizer(leases: Sequence[Lease]) -> bool:
    """Whether deleting the ExternalSecret must wait for a revocation."""
    return any(lease.revoke_on_delete for lease in leases)


def revoked_on_delete(leases: Sequence[Lease]) -> list[Lease]:
    return [lease for lease in leases if lease.revoke_on_delete]


def with_leases(body: Mapping[str, Any], leases: Sequence[Lease]) -> dict[str, Any]:
    """The Secret body carrying exactly these leases in its annotation (none: no annotation),
    so the credential and its lease are written in one request."""
    out = copy.deepcopy(dict(body))
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    if leases:
        annotations[LEASES_ANNOTATION] = encode(leases)
    else:
        annotations.pop(LEASES_ANNOTATION, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out


def annotations_of(secret: Mapping[str, Any] | None) -> Mapping[str, str]:
    return ((secret or {}).get("metadata") or {}).get("annotations") or {}
