"""The I/O of the lease lifecycle around a sync (lease_plan.py decides): renew leases between
refreshes (the Secret's lease annotation only: no data change, so no rollout), record issued
leases in the Secret write itself, revoke superseded leases after a write and what was issued
when the write does not happen, keep our finalizer on ExternalSecrets whose leases are revoked
on deletion, and revoke them when such an ExternalSecret is deleted.

No credential passes through here: only lease IDs and times (never logged or put in an Event).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from secretsync.errors import SecretSyncError
from secretsync.generators import leases as lease_rules
from secretsync.generators.leases import Action, Lease, Step
from secretsync.reconcile import lease_plan, overlap, writes
from secretsync.reconcile.ports import Events, Result, Secrets, StatusWriter
from secretsync.resolve.resolver import Resolver, StoreLookup
from secretsync.resolve.secret import data_hash as data_hash_of

log = logging.getLogger(__name__)


class Finalizers(Protocol):
    def add(self, namespace: str, name: str, finalizer: str) -> None: ...
    def remove(self, namespace: str, name: str, finalizer: str) -> None: ...


def deleting(raw: Mapping[str, Any]) -> bool:
    return bool((raw.get("metadata") or {}).get("deletionTimestamp"))


def _finalizers(raw: Mapping[str, Any]) -> list[str]:
    return list((raw.get("metadata") or {}).get("finalizers") or [])


def _where(raw: Mapping[str, Any]) -> tuple[str, str, str]:
    """Namespace, name and target Secret name, from the raw object (a deleted ExternalSecret
    whose spec no longer parses must still let go of its finalizer)."""
    meta = raw.get("metadata") or {}
    name = str(meta.get("name"))
    target = ((raw.get("spec") or {}).get("target") or {}).get("name") or name
    return str(meta.get("namespace") or "default"), name, str(target)


def _since(raw: Mapping[str, Any]) -> float | None:
    stamp = (raw.get("metadata") or {}).get("deletionTimestamp")
    try:
        return datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _recorded(secret: Mapping[str, Any] | None) -> list[Lease]:
    """Every lease the Secret's annotation records, pending ones included."""
    return lease_rules.decode(lease_plan.annotations_of(secret))


def _generators(leases: Sequence[Lease]) -> str:
    return ", ".join(sorted({lease.generator for lease in leases}))


@dataclasses.dataclass
class Issued:
    """The leases one sync issued, and whether the Secret holding them was written (until it
    is, they are the sync's to revoke if it stops)."""

    leases: list[Lease] = dataclasses.field(default_factory=list)
    written: bool = False
    recorded: list[Lease] = dataclasses.field(default_factory=list)
    """What the written Secret's annotation holds (the issued leases and the retiring ones)."""

    def add(self, lease: Lease) -> None:
        self.leases.append(lease)


@dataclasses.dataclass
class LeaseKeeper:
    secrets: Secrets
    events: Events
    resolver: Resolver
    lookup: StoreLookup
    finalizers: Finalizers | None = None
    """None (the CLI, unit tests): nothing waits for a revocation on deletion."""

    clock: Callable[[], float] = time.time
    statuses: StatusWriter | None = None
    """Where status.leaseRotation is written (None: the CLI, unit tests)."""

    @staticmethod
    def held(secret: Mapping[str, Any] | None) -> list[Lease]:
        """The leases the Secret's data holds, or held (retiring ones): not the pending ones."""
        return [lease for lease in _recorded(secret) if not lease.pending]

    @staticmethod
    def orphans(secret: Mapping[str, Any] | None) -> list[Lease]:
        """Pending leases: issued by a sync that did not write their credential (killed, or
        the write failed and so did their revocation). Nobody holds them: revoke them."""
        return [lease for lease in _recorded(secret) if lease.pending]

    # --- between refreshes -------------------------------------------------------------------

    def tend(
        self, raw: Mapping[str, Any], existing: Mapping[str, Any] | None, grace: float = 0.0
    ) -> tuple[Step | None, bool]:
        """Take the retiring leases' next step (overlap.py decides from the annotation and
        status.rollout) and renew the leases that are due for it; the next step of the leases
        (a re-issue due now asks the caller for a sync) and whether the Secret was written."""
        held = self.held(existing)
        orphans = self.orphans(existing)
        now = self.clock()
        plan = overlap.decide(held, overlap.view(raw.get("status")), now, grace)
        if existing is None:
            return lease_plan.next_step(held, plan.wake_at), False
        if not plan.changed:
            self._show(raw, plan)
        namespace, name, _ = _where(raw)
        updated = list(plan.leases)
        step = lease_plan.next_step(updated, plan.wake_at)
        renew = lease_plan.due(step, now) is Action.RENEW
        if not plan.changed and not renew and not orphans:
            return step, False
        if orphans:
            # Revoked before the annotation lets go of them, like the retired ones below.
            self._revoke(raw, orphans, "unwritten")
        if plan.revoke:
            # Revoked before the annotation lets go of them: a crash in between revokes again
            # (harmless), never forgets one.
            self._revoke(raw, plan.revoke, "previous")
        if renew:
            updated = [self._renewed(raw, lease, now) for lease in updated]
        try:
            self.secrets.replace(namespace, lease_plan.with_leases(existing, updated))
        except SecretSyncError as exc:
            # The Secret changed meanwhile (a rollback restored it, say): the next look decides
            # again from what is recorded then (harmless).
            log.warning(
                "lease annotation not recorded",
                extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
            )
            return lease_plan.next_step(held, now + overlap.POLL_SECONDS), False
        self._said(raw, plan)
        self._show(raw, plan)
        if renew:
            log.info("leases renewed", extra={"object": f"{namespace}/{name}"})
        after = overlap.decide(updated, overlap.view(raw.get("status")), now, grace)
        return lease_plan.next_step(updated, after.wake_at), True

    def _show(self, raw: Mapping[str, Any], plan: overlap.Plan) -> None:
        """status.leaseRotation, when it would say something else than it does."""
        shown = (raw.get("status") or {}).get(overlap.STATUS_KEY)
        if self.statuses is None or not overlap.status_due(plan, shown):
            return
        namespace, name, _ = _where(raw)
        try:
            self.statuses.patch_status(
                "externalsecrets", namespace, name, {overlap.STATUS_KEY: overlap.status(plan)}
            )
        except SecretSyncError as exc:
            log.warning(
                "lease rotation status not written",
                extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
            )

    def _said(self, raw: Mapping[str, Any], plan: overlap.Plan) -> None:
        """Events for the steps of an overlap rotation (generators and times, never IDs)."""
        namespace, name, _ = _where(raw)
        where = {"object": f"{namespace}/{name}", "stage": plan.stage.value}
        if plan.restored:
            message = (
                f"rolled back: the previous credential of {_generators(plan.restored)} is "
                "current again; the new lease(s) are revoked when the rollback is healthy"
            )
            self.events.record(raw, "ExternalSecret", "LeaseRestored", message)
            log.info("previous leases current again", extra=where)
        if plan.scheduled:
            until = overlap.pending_message(plan.scheduled)
            message = (
                f"{len(plan.scheduled)} previous lease(s) of {_generators(plan.scheduled)} "
                f"pending revocation until {until}"
            )
            self.events.record(raw, "ExternalSecret", "LeaseRevocationScheduled", message)
            log.info("previous leases pending revocation", extra=where)
        if plan.revoke:
            message = (
                f"revoked {len(plan.revoke)} previous lease(s) of {_generators(plan.revoke)}: "
                "the consumers are healthy without them and the grace has passed"
            )
            self.events.record(raw, "ExternalSecret", "LeasesRetired", message)
        if plan.expired:
            log.info("retiring leases expired", extra=where)

    def _renewed(self, raw: Mapping[str, Any], lease: Lease, now: float) -> Lease:
        step = lease_rules.next_step(lease, lease.renew_at)
        if step.action is not Action.RENEW or step.at > now:
            return lease
        namespace, name, _ = _where(raw)
        try:
            return self.resolver.lease_ops(namespace, self.lookup).renew(lease)
        except SecretSyncError as exc:
            # A lease that cannot be renewed (expired, server lost it) is replaced: the
            # credential is issued anew at once.
            message = f"renewing the lease of {lease.generator} failed; issuing anew: {exc}"
            self.events.record(raw, "ExternalSecret", "LeaseRenewalFailed", message, warning=True)
            log.warning(
                "lease renewal failed",
                extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
            )
            return dataclasses.replace(lease, renewable=False)

    # --- around a write ----------------------------------------------------------------------

    def before_write(self, raw: Mapping[str, Any], issued: Sequence[Lease]) -> None:
        """Our finalizer, before a credential it protects is written (raises: the caller
        revokes what it issued and retries)."""
        if self.finalizers is None or not lease_plan.wants_finalizer(issued):
            return
        if lease_plan.FINALIZER in _finalizers(raw):
            return
        namespace, name, _ = _where(raw)
        self.finalizers.add(namespace, name, lease_plan.FINALIZER)

    def pending(
        self, raw: Mapping[str, Any], existing: Mapping[str, Any] | None, issued: Sequence[Lease]
    ) -> str | None:
        """Before the data write replaces an existing Secret: record the issued leases in its
        annotation as pending (no data changes, so nothing rolls), so that a process killed
        before the write leaves them where the next one finds and revokes them, instead of
        leaking them until their TTL. Earlier pending leases are revoked first. Returns the
        Secret's resourceVersion for the data write (None: nothing was written here).

        Raises when the Secret changed meanwhile: the caller revokes what it issued and retries.
        """
        orphans = self.orphans(existing)
        if orphans:
            self._revoke(raw, orphans, "unwritten")
        if existing is None or not issued:
            return None
        namespace, _, target = _where(raw)
        marked = [dataclasses.replace(lease, pending=True) for lease in issued]
        self.secrets.replace(
            namespace, lease_plan.with_leases(existing, self.held(existing) + marked)
        )
        fresh = self.secrets.get(namespace, target)
        version = ((fresh or {}).get("metadata") or {}).get("resourceVersion")
        if fresh is None or fresh.get("data") != existing.get("data") or not version:
            raise SecretSyncError(
                f"Secret {namespace}/{target} changed while its new credential was recorded; "
                "retrying"
            )
        return str(version)

    def recorded(
        self,
        existing: Mapping[str, Any] | None,
        issued: Sequence[Lease],
        data_hash: str,
        overlap_on: bool,
        body: Mapping[str, Any] | None = None,
    ) -> tuple[list[Lease], list[Lease]]:
        """The leases to write with new data (issued, plus the retiring ones under overlap) and
        those revoked once it is written (overlap.written decides). `body`: the Secret about to
        be written, whose whole data a rollback would restore."""
        whole = data_hash_of(writes.decode_data(body)) if body is not None else ""
        return overlap.written(self.held(existing), issued, data_hash, overlap_on, whole)

    @staticmethod
    def body(
        body: Mapping[str, Any], recorded: Sequence[Lease], version: str | None = None
    ) -> dict[str, Any]:
        """The Secret to write with its leases; `version`: the resourceVersion the pending
        record left it at."""
        out = lease_plan.with_leases(body, recorded)
        if version is not None:
            out["metadata"]["resourceVersion"] = version
        return out

    def after_write(
        self, raw: Mapping[str, Any], recorded: Sequence[Lease], gone: Sequence[Lease]
    ) -> None:
        """The Secret now holds `recorded`: revoke what it let go of, and drop the finalizer
        when nothing left needs it."""
        self._revoke(raw, gone, "superseded")
        retiring = [lease for lease in recorded if lease.retiring]
        if retiring:
            message = (
                f"new credential written; {len(retiring)} previous lease(s) of "
                f"{_generators(retiring)} stay valid until every consumer is healthy on it "
                "and the grace has passed"
            )
            self.events.record(raw, "ExternalSecret", "LeaseRetiring", message)
            self._show(raw, overlap.decide(recorded, None, self.clock(), 0.0))
        if (
            self.finalizers is not None
            and lease_plan.FINALIZER in _finalizers(raw)
            and not lease_plan.wants_finalizer(recorded)
        ):
            namespace, name, _ = _where(raw)
            try:
                self.finalizers.remove(namespace, name, lease_plan.FINALIZER)
            except SecretSyncError as exc:
                log.warning(
                    "finalizer not removed",
                    extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
                )

    def unwatched(self, raw: Mapping[str, Any], grace: float) -> None:
        """No rollout was started for the data just written (nothing to restart): the retiring
        leases are not waiting for consumers, only for the grace."""
        namespace, name, target = _where(raw)
        try:
            secret = self.secrets.get(namespace, target)
            held = self.held(secret)
            if secret is None or not any(lease.retiring for lease in held):
                return
            timed = overlap.settle_now(held, self.clock(), grace)
            if timed == held:
                return
            self.secrets.replace(namespace, lease_plan.with_leases(secret, timed))
        except SecretSyncError as exc:
            # They wait for their expiry instead: late, never early.
            log.warning(
                "retiring leases not scheduled",
                extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
            )

    def discard(self, raw: Mapping[str, Any], issued: Issued) -> None:
        """What a sync issued and did not write: revoked, so nothing leaks."""
        if not issued.written:
            self._revoke(raw, issued.leases, "unwritten")
            issued.leases.clear()

    def unrecorded(self, raw: Mapping[str, Any], existing: Mapping[str, Any] | None) -> bool:
        """Whether retiring leases wait for a rollout that status.rollout does not show."""
        plan = overlap.decide(self.held(existing), overlap.view(raw.get("status")), self.clock(), 0)
        return plan.unrecorded

    def next_step(
        self, raw: Mapping[str, Any], leases: Sequence[Lease], grace: float
    ) -> Step | None:
        """The leases' next step, including the retiring ones' (a rotation waiting for its
        consumers is looked at again soon)."""
        plan = overlap.decide(leases, overlap.view(raw.get("status")), self.clock(), grace)
        return lease_plan.next_step(leases, plan.wake_at)

    def kept(self, existing: Mapping[str, Any] | None, issued: Issued) -> list[Lease]:
        """The leases the Secret holds after the sync."""
        return issued.recorded if issued.written else self.held(existing)

    def _revoke(self, raw: Mapping[str, Any], leases: Sequence[Lease], why: str) -> None:
        namespace, name, _ = _where(raw)
        failed: list[Lease] = []
        for lease in leases:
            try:
                self.resolver.lease_ops(namespace, self.lookup).revoke(lease)
            except SecretSyncError as exc:
                failed.append(lease)
                log.warning(
                    "lease revocation failed",
                    extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
                )
        if leases and not failed:
            log.info(f"{why} leases revoked", extra={"object": f"{namespace}/{name}"})
        if failed:
            message = (
                f"could not revoke {len(failed)} {why} lease(s) of {_generators(failed)}; "
                "they end with their TTL"
            )
            self.events.record(raw, "ExternalSecret", "LeaseRevokeFailed", message, warning=True)

    # --- on deletion -------------------------------------------------------------------------

    def finalize(self, raw: Mapping[str, Any]) -> Result:
        """A deleted ExternalSecret: revoke its leases (revokeOnDelete), then let it go. A
        revocation that fails is retried with backoff until lease_plan.give_up says stop."""
        if self.finalizers is None or lease_plan.FINALIZER not in _finalizers(raw):
            return Result(next_refresh=None)
        namespace, name, target = _where(raw)
        try:
            held = _recorded(self.secrets.get(namespace, target))
        except SecretSyncError as exc:
            return self._not_revoked(raw, [], exc)
        leases = lease_plan.revoked_on_delete(held)
        for lease in leases:
            try:
                self.resolver.lease_ops(namespace, self.lookup).revoke(lease)
            except SecretSyncError as exc:
                return self._not_revoked(raw, leases, exc)
        if leases:
            message = f"revoked {len(leases)} lease(s) of {_generators(leases)} on deletion"
            self.events.record(raw, "ExternalSecret", "LeasesRevoked", message)
            log.info("leases revoked on deletion", extra={"object": f"{namespace}/{name}"})
        return self._release(raw)

    def _not_revoked(
        self, raw: Mapping[str, Any], leases: Sequence[Lease], exc: SecretSyncError
    ) -> Result:
        namespace, name, _ = _where(raw)
        extra = {"object": f"{namespace}/{name}", "reason": type(exc).__name__}
        if not lease_plan.give_up(exc, _since(raw), self.clock()):
            log.warning("lease revocation on deletion failed; retrying", extra=extra)
            return Result(next_refresh=None, failed=True)
        which = f" of {_generators(leases)}" if leases else ""
        message = f"could not revoke the leases{which} on deletion ({exc}); they end with their TTL"
        self.events.record(raw, "ExternalSecret", "LeasesNotRevoked", message, warning=True)
        log.warning("lease revocation on deletion abandoned", extra=extra)
        return self._release(raw)

    def _release(self, raw: Mapping[str, Any]) -> Result:
        assert self.finalizers is not None
        namespace, name, _ = _where(raw)
        try:
            self.finalizers.remove(namespace, name, lease_plan.FINALIZER)
        except SecretSyncError as exc:
            log.warning(
                "finalizer not removed; retrying",
                extra={"object": f"{namespace}/{name}", "reason": type(exc).__name__},
            )
            return Result(next_refresh=None, failed=True)
        return Result(next_refresh=None)
