"""One sync of one ExternalSecret: the thin shell around the pure decisions.

Read the target Secret, decide whether a sync is due, resolve, decide the write, do it, then
record status and Events. On any failure before the write the existing Secret is untouched.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.objects import ExternalSecret, parse_external_secret
from secretsync.api.sources import StoreKind
from secretsync.api.target import CreationPolicy
from secretsync.errors import ConfigError, Conflict, SecretSyncError, Unsupported
from secretsync.generators.leases import Action
from secretsync.reconcile import classes, generic, lease_plan, refresh, status, writes
from secretsync.reconcile.lease_keeper import Finalizers, Issued, LeaseKeeper, deleting
from secretsync.reconcile.ports import Events, Result, Rollouts, Secrets, StatusWriter, SyncMetrics
from secretsync.reconcile.report import Reporter, failure, object_key, ready_condition
from secretsync.redact import Redactor
from secretsync.resolve.resolver import Resolver, StoreLookup
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL, data_hash

log = logging.getLogger(__name__)


_EVENTS = {
    writes.Action.CREATE: "Created",
    writes.Action.UPDATE: "Updated",
    writes.Action.DELETE: "Deleted",
}


class _Exists(Exception):
    """A first sync's create found the Secret there: a signal between two methods of
    Syncer, never raised out of it."""


def creates_unread(es: ExternalSecret, raw: Mapping[str, Any], state: refresh.SyncState) -> bool:
    """Whether this sync may create the target Secret without reading it first: an
    ExternalSecret nobody has reported on yet (no status at all: not ours, not ESO's before a
    migration) whose policy creates the Secret. Nearly always it does not exist yet, and the
    read was one of a first sync's four apiserver requests; when it does exist the create
    answers Conflict and the sync runs again with a read. Merge needs the Secret as it is."""
    return (
        not raw.get("status")
        and state.refresh_time is None
        and es.spec.target.creation_policy in (CreationPolicy.OWNER, CreationPolicy.ORPHAN)
    )


def target_state(secret: Mapping[str, Any] | None) -> refresh.TargetState:
    if secret is None:
        return refresh.TargetState(exists=False)
    meta = secret.get("metadata") or {}
    return refresh.TargetState(
        exists=True,
        managed=(meta.get("labels") or {}).get(MANAGED_LABEL) == "true",
        hash_annotation=(meta.get("annotations") or {}).get(DATA_HASH_ANNOTATION),
        data_hash=data_hash(writes.decode_data(secret)),
    )


@dataclasses.dataclass
class Syncer:
    secrets: Secrets
    statuses: StatusWriter
    events: Events
    resolver: Resolver
    lookup: StoreLookup
    metrics: SyncMetrics
    rollouts: Rollouts | None = None
    clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
    targets: generic.Targets | None = None
    """ConfigMaps and custom resources, for spec.target.manifest."""
    allow_generic_targets: bool = False
    """--unsafe-allow-generic-targets: without it a target.manifest is refused, as in ESO."""
    finalizers: Finalizers | None = None
    """Our finalizer on ExternalSecrets whose leases are revoked on deletion."""
    refresh_time_resolution: datetime.timedelta = datetime.timedelta(0)
    """--refresh-time-resolution (Reporter.resolution)."""
    report: Reporter = dataclasses.field(init=False)
    """Status, Events, metrics and logs, shared with the generic-target path."""
    leases: LeaseKeeper = dataclasses.field(init=False)
    """Issued credentials' leases: renewal, revocation (lease_keeper.py)."""

    def __post_init__(self) -> None:
        self.report = Reporter(
            self.statuses,
            self.events,
            self.metrics,
            self.rollouts,
            self.clock,
            self.refresh_time_resolution,
        )
        self.leases = LeaseKeeper(
            self.secrets,
            self.events,
            self.resolver,
            self.lookup,
            self.finalizers,
            statuses=self.statuses,
        )

    def sync(self, raw: Mapping[str, Any], *, source_moved: bool = False) -> Result:
        if deleting(raw):
            # Nothing is written for an ExternalSecret on its way out; its leases are revoked.
            return self.leases.finalize(raw)
        try:
            return self._sync(raw, source_moved=source_moved)
        except _Exists:
            # The Secret taken to be absent exists (someone else's, or ours from before a
            # restart that lost our status): the sync again, reading it this time.
            return self._sync(raw, source_moved=source_moved, read=True)

    def _sync(self, raw: Mapping[str, Any], *, source_moved: bool, read: bool = False) -> Result:
        """`read`: read the target Secret even on a first sync (a create found it there)."""
        started = time.monotonic()
        admitted = self._admit(raw)
        if isinstance(admitted, Result):
            return admitted
        es = admitted
        # Unsupported until now (its store was fixed, say): due now, not at its next refresh.
        was_unsupported = (ready_condition(raw) or {}).get(
            "reason"
        ) == status.Reason.UNSUPPORTED.value
        source_moved = source_moved or was_unsupported
        if es.spec.target.generic is not None:
            # A ConfigMap or custom resource instead of a Secret: its own path (generic.py).
            shell = generic.GenericSync(self, self.targets, self.allow_generic_targets)
            return shell.sync(es, raw, source_moved=source_moved)
        store = es.spec.secret_store_ref.name if es.spec.secret_store_ref else ""
        state = self.report.last_sync(raw, es.spec.refresh_interval)
        unread = not read and creates_unread(es, raw, state)
        existing = (
            None if unread else self.secrets.get(es.metadata.namespace or "default", es.target_name)
        )
        now = self.clock()
        due = refresh.should_refresh(es.spec, es.metadata, state, now, source_moved=source_moved)
        if not due and refresh.secret_valid(target_state(existing), es.spec.target.creation_policy):
            # Between refreshes the leases are renewed; one due for re-issue makes a sync.
            step, renewed = self.leases.tend(raw, existing, _grace(es))
            if _overlap(es) and self.leases.unrecorded(raw, existing):
                self._recover(es, raw, existing)
            if lease_plan.due(step, self.leases.clock()) is not Action.REISSUE:
                wait = refresh.seconds_until_due(es.spec, state, now, uid=es.metadata.uid)
                return Result(next_refresh=lease_plan.wake_in(wait, step, self.leases.clock()))
            if renewed:
                existing = self.secrets.get(es.metadata.namespace or "default", es.target_name)
        redact = Redactor(writes.decode_data(existing or {}).values())
        issued = Issued()
        try:
            outcome = self._converge(es, raw, existing, redact, issued)
        except Unsupported as exc:
            self.leases.discard(raw, issued)
            return self.report.unsupported(raw, es, exc)
        except SecretSyncError as exc:
            self.leases.discard(raw, issued)
            if unread and isinstance(exc, Conflict):
                raise _Exists from exc
            return self.report.failed(raw, es, exc, redact(str(exc)), started, store=store)
        except Exception:
            self.leases.discard(raw, issued)
            raise
        result = self.report.succeeded(es, True, outcome.reason, started, now)
        step = self.leases.next_step(raw, self.leases.kept(existing, issued), _grace(es))
        wake = lease_plan.wake_in(result.next_refresh, step, self.leases.clock())
        return dataclasses.replace(result, next_refresh=wake)

    def _admit(self, raw: Mapping[str, Any]) -> ExternalSecret | Result:
        """The parsed ExternalSecret, or the Result of refusing it: a spec the apiserver
        accepted but we cannot use, or a store we cannot serve. Nothing to retry until the spec
        or the store changes (either brings it back here)."""
        try:
            es = parse_external_secret(raw)
        except Unsupported as exc:
            return self.report.unsupported(raw, None, exc)
        except ConfigError as exc:
            self.report.record(raw, None, failure(str(exc)), "InvalidSpec")
            return Result(next_refresh=None)
        # Before the refresh check: a store that cannot be served is news now, not at the
        # next refresh (an ExternalSecret that ESO synced may not be due for an hour).
        unsupported = self._unsupported_store(raw, es)
        return es if unsupported is None else self.report.unsupported(raw, es, unsupported)

    def _unsupported_store(self, raw: Mapping[str, Any], es: ExternalSecret) -> Unsupported | None:
        namespace = es.metadata.namespace or "default"
        for kind, _, name in classes.store_refs(raw):
            try:
                self.lookup.store(StoreKind(kind), namespace, name)
            except Unsupported as exc:
                return exc
            except (SecretSyncError, ValueError):
                continue  # anything else is the sync's to report
        return None

    def _converge(
        self,
        es: ExternalSecret,
        raw: Mapping[str, Any],
        existing: Mapping[str, Any] | None,
        redact: Redactor,
        issued: Issued,
    ) -> status.Outcome:
        want, resolved = self.resolver.resolve(es, self.lookup, issued.add)
        redact.add(want.data.values())
        if self.rollouts is not None and self.rollouts.held_hash(raw) == data_hash(want.data):
            # The source still serves the data whose rollout failed and was rolled back: the
            # last good data stays until the source changes again, with no flapping.
            held = failure(
                "the source still serves data whose rollout failed; keeping the "
                "last good data until the source changes"
            )
            self.report.record(raw, es, held, None)
            self.leases.discard(raw, issued)
            return held
        write = writes.plan(es, want, resolved, existing)
        for cause in resolved.missing:
            # ESO's Normal event: the entry was skipped (deletionPolicy Delete or Merge).
            self.events.record(raw, "ExternalSecret", "MissingProviderSecret", redact(cause))
        namespace = es.metadata.namespace or "default"
        if write.body is not None and write.action in (writes.Action.CREATE, writes.Action.UPDATE):
            # The finalizer before the credential it protects; the lease in the same request.
            # Under overlap the superseded leases are recorded as retiring in the same request.
            self.leases.before_write(raw, issued.leases)
            # The issued leases recorded as pending first: a kill before the write leaks none.
            version = self.leases.pending(raw, existing, issued.leases)
            overlap_on = _overlap(es)
            if overlap_on and write.action is writes.Action.UPDATE:
                self._prepare(es, raw, existing)
            recorded, gone = self.leases.recorded(
                existing, issued.leases, data_hash(want.data), overlap_on, write.body
            )
            body = self.leases.body(write.body, recorded, version)
            if write.action is writes.Action.CREATE:
                self.secrets.create(namespace, body)
            else:
                self.secrets.replace(namespace, body)
            issued.written, issued.recorded = True, recorded
            self.leases.after_write(raw, recorded, gone)
            rolled = self._roll(es, raw, existing, want.data)
            if rolled is False and any(lease.retiring for lease in recorded):
                self.leases.unwatched(raw, _grace(es))
        elif write.action is writes.Action.DELETE:
            self.secrets.delete(namespace, es.target_name)
            self.leases.after_write(raw, [], self.leases.held(existing))
        self.leases.discard(raw, issued)
        outcome = _outcome(write)
        event = _EVENTS.get(write.action)
        if write.action is writes.Action.REFUSE:
            self.report.record(raw, es, outcome, "UpdateFailed")
            return outcome
        self.report.record(raw, es, outcome, event)
        if event:
            log.info("secret written", extra={"object": object_key(es), "reason": event})
        return outcome

    def _roll(
        self,
        es: ExternalSecret,
        raw: Mapping[str, Any],
        existing: Mapping[str, Any] | None,
        current: Mapping[str, bytes],
    ) -> bool | None:
        """Whether a rollout of the consumers started (False: none was needed; None: starting
        one failed, so whether consumers use the old data is unknown)."""
        if self.rollouts is None or existing is None:
            return False
        previous = writes.decode_data(existing)
        try:
            token = self.rollouts.on_data_changed(es, raw, previous, current)
        except SecretSyncError as exc:
            # The data is written; failing to restart consumers is reported, not retried as
            # a sync (that would write nothing new and restart nothing either).
            log.warning(
                "rollout not started",
                extra={"object": object_key(es), "reason": type(exc).__name__},
            )
            return None
        if token:
            log.info("rollout started", extra={"object": object_key(es), "token": token})
        return bool(token)

    def _prepare(
        self, es: ExternalSecret, raw: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> None:
        """Overlap: the data about to be overwritten is kept for a rollback before the write, so
        that a rollout lost to a kill right after the write can still be started (_recover)."""
        if self.rollouts is None or existing is None:
            return
        try:
            self.rollouts.prepare(es, raw, writes.decode_data(existing))
        except SecretSyncError as exc:
            log.warning(
                "previous data not kept before the write",
                extra={"object": object_key(es), "reason": type(exc).__name__},
            )

    def _recover(
        self, es: ExternalSecret, raw: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> None:
        """Retiring leases wait for a rollout that was never recorded: start it (or, with
        nothing to restart, let them go after the grace)."""
        if self.rollouts is None or existing is None:
            return
        try:
            token = self.rollouts.recover(es, raw, writes.decode_data(existing))
        except SecretSyncError as exc:
            log.warning(
                "lost rollout not started",
                extra={"object": object_key(es), "reason": type(exc).__name__},
            )
            return
        if token == "":
            self.leases.unwatched(raw, _grace(es))
        elif token:
            log.info("lost rollout started", extra={"object": object_key(es), "token": token})


def _overlap(es: ExternalSecret) -> bool:
    return es.spec.rollout is not None and es.spec.rollout.overlap is not None


def _grace(es: ExternalSecret) -> float:
    """spec.rollout.overlap.grace in seconds (0 without overlap: leases still retiring when it
    was switched off wait only for the consumers)."""
    rollout = es.spec.rollout
    if rollout is None or rollout.overlap is None:
        return 0.0
    return max(0.0, rollout.overlap.grace.total_seconds())


def _outcome(write: writes.Write) -> status.Outcome:
    if write.action is writes.Action.REFUSE:
        return failure(write.reason)
    if write.action is writes.Action.DELETE or (
        write.action is writes.Action.NOTHING and write.reason
    ):
        return status.Outcome(True, status.Reason.DELETED, write.reason, synced=True)
    if write.action is writes.Action.WAIT:
        return status.Outcome(True, status.Reason.MISSING, write.reason, synced=True)
    return status.Outcome(True, status.Reason.SYNCED, "secret synced", synced=True)
