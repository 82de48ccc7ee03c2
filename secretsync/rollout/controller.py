"""The rollout engine's shell: select, restart, watch health in the background, roll back.

The sync loop calls on_data_changed right after it wrote new data into a target Secret. A
background thread polls the restarted workloads about once a second and acts on the verdicts
(secretsync.rollout.flight). Durable state lives in the cluster, so another operator process can
resume: status.rollout on the ExternalSecret, the change token on each workload's pod template,
and the previous data in a companion Secret owned by the ExternalSecret (never in annotations).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from secretsync.api.objects import ExternalSecret, parse_external_secret
from secretsync.api.rollout import OnFailure, WorkloadKind
from secretsync.errors import AccessDenied, NotFound, SecretSyncError
from secretsync.resolve.secret import data_hash
from secretsync.rollout import argo, consumers, flight, health, record, restart
from secretsync.rollout.flight import EsRef, Flight
from secretsync.rollout.ports import Events, RolloutMetrics, Secrets, Workloads
from secretsync.rollout.recovery import Recovery
from secretsync.rollout.workload import LISTED_KINDS, Workload

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 300.0


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def stamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


DEBOUNCE_SECONDS = 0.25
"""How long a change waits before its first restart, so that the changes of other
ExternalSecrets read by the same workload (one upstream rotation seen by several) go out in
the same patch. It is all latency for a lone change: 1 s made rotation to healthy a tie with
ESO + Reloader, which restarts at once."""
POLL_SECONDS = 0.5
"""How often restarted workloads' health is read. Each one found healthy lets the next wave
go (flight.window), so this is paid once per wave; one GET per unsettled workload (at most
50) per poll."""


class RolloutController:
    def __init__(
        self,
        workloads: Workloads,
        secrets: Secrets,
        events: Events,
        metrics: RolloutMetrics,
        *,
        max_concurrent: int = 10,
        debounce_seconds: float = DEBOUNCE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime.datetime] = _now,
    ) -> None:
        # Every read and restart goes through the view, so a Rollout that borrows a Deployment's
        # template is seen with that template, here and when resuming.
        resolving = argo.ResolvingWorkloads(workloads)
        self._workloads, self._secrets, self._events = resolving, secrets, events
        self._metrics = metrics
        self._max, self._debounce, self._poll = max_concurrent, debounce_seconds, poll_seconds
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._flights: dict[tuple[str, str], Flight] = {}
        self._held: dict[tuple[str, str], str | None] = {}
        self._conditions: dict[tuple[str, str], dict[str, Any]] = {}
        self._recovery = Recovery(resolving, secrets, events, self._log)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollouts", daemon=True)
        self._thread.start()

    # -- the sync loop's side ---------------------------------------------------------------

    def on_data_changed(
        self,
        es: ExternalSecret,
        raw_es: Mapping[str, Any],
        previous: Mapping[str, bytes] | None,
        current: Mapping[str, bytes],
    ) -> str | None:
        new_hash = data_hash(current)
        if previous is None or data_hash(previous) == new_hash:
            return None  # a new Secret: its consumers were waiting for it and start by themselves
        ref = _es_ref(es, raw_es)
        key = (ref.namespace, ref.name)
        with self._lock:
            self._held[key] = None  # the source moved on: nothing is held any more
        selected = self._select(es, ref)
        if not selected:
            self._log("nothing to restart", ref, "-")
            return None
        with self._lock:
            superseded = self._flights.get(key)
        if superseded is None:
            # The last good data is what was there before the first unverified change.
            self._recovery.keep_previous(raw_es, previous)
        now = self._clock()
        new = Flight(
            es=ref,
            target=es.target_name,
            token=restart.new_token(new_hash),
            phase=record.Phase.PROGRESSING,
            workloads=tuple(s.workload for s in selected),
            data_hash=new_hash,
            on_failure=_on_failure(es),
            timeout=_timeout(es),
            started=now,
            started_at=stamp(self._wall()),
            changed=now,
            not_before=now + self._debounce,
        )
        self._write_record(new)
        with self._lock:
            self._flights[key] = new
        self._metrics.started()
        why = ", ".join(f"{s.workload} ({s.why})" for s in selected)
        superseding = f"; supersedes {superseded.token}" if superseded else ""
        self._log(f"rollout started for {why}{superseding}", ref, new.token)
        self._wake.set()
        return new.token

    def prepare(
        self, es: ExternalSecret, raw_es: Mapping[str, Any], previous: Mapping[str, bytes]
    ) -> None:
        """Keep `previous` as the last good data before the target Secret is overwritten, when
        no rollout of this ExternalSecret is in flight (one that is keeps the older good data).
        A process killed between that write and on_data_changed then leaves a rollout that
        recover() can still start, with the data to roll back to (overlap rotation)."""
        ref = _es_ref(es, raw_es)
        with self._lock:
            if (ref.namespace, ref.name) in self._flights:
                return
        self._recovery.keep_previous(raw_es, previous)

    def recover(
        self, es: ExternalSecret, raw_es: Mapping[str, Any], current: Mapping[str, bytes]
    ) -> str | None:
        """Start the rollout of the data the target Secret holds when none was recorded (the
        process that wrote it died first). The new token; "" when there is nothing to restart;
        None when nothing was lost."""
        ref = _es_ref(es, raw_es)
        with self._lock:
            if (ref.namespace, ref.name) in self._flights:
                return None
        fresh = self._workloads.get_external_secret(ref.namespace, ref.name) or {}
        stored = record.parse_record(ref.namespace, fresh.get("status") or {})
        new_hash = data_hash(current)
        if stored is not None and new_hash in (stored.data_hash, stored.held_hash):
            return None
        kept = self._secrets.get(ref.namespace, record.companion_name(ref.name))
        if kept is None or data_hash(record.decode(kept)) == new_hash:
            return None
        self._log("the written data's rollout was not recorded; starting it", ref, "-")
        return self.on_data_changed(es, fresh or raw_es, record.decode(kept), current) or ""

    def held_hash(self, raw_es: Mapping[str, Any]) -> str | None:
        meta = raw_es.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        with self._lock:
            if key in self._held:
                return self._held[key]
        stored = record.parse_record(key[0], raw_es.get("status") or {})
        return stored.held_hash if stored else None

    def conditions(self, raw_es: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The RolloutFailed condition as this process last wrote it: the sync loop's cached copy
        of the ExternalSecret may predate it, and must not put an older one back."""
        meta = raw_es.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        with self._lock:
            mine = self._conditions.get(key)
        return [dict(mine)] if mine else []

    def resume(self, namespaces: Collection[str] = ()) -> None:
        """Watch in-flight rollouts again after a restart, in the namespaces this operator
        serves (all of them when none are given)."""
        for raw in self._workloads.list_external_secrets():
            namespace = str((raw.get("metadata") or {}).get("namespace"))
            if namespaces and namespace not in namespaces:
                continue
            stored = record.parse_record(namespace, raw.get("status") or {})
            if stored is None or not stored.phase.in_flight:
                continue  # finished rollouts are never started again
            try:
                es = parse_external_secret(raw)
            except SecretSyncError:
                continue
            resumed = self._recovery.resume(es, raw, stored, self._clock(), self._wall())
            resumed.on_failure, resumed.timeout = _on_failure(es), _timeout(es)
            with self._lock:
                self._flights.setdefault((resumed.es.namespace, resumed.es.name), resumed)
            self._log(f"resumed {stored.phase.value} rollout", resumed.es, resumed.token)
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    # -- selection ----------------------------------------------------------------------------

    def _select(self, es: ExternalSecret, ref: EsRef) -> list[consumers.Selected]:
        secret = self._secrets.get(ref.namespace, es.target_name) or {}
        annotations = (secret.get("metadata") or {}).get("annotations") or {}
        listed: list[dict[str, Any]] = []
        unlisted: dict[WorkloadKind, type[SecretSyncError]] = {}
        for kind in LISTED_KINDS:
            try:
                listed += self._workloads.list_kind(ref.namespace, kind.value)
            except (NotFound, AccessDenied) as exc:
                if kind is not WorkloadKind.ROLLOUT:
                    raise
                # Argo's CRD not installed, or RBAC trimmed where Argo is not used: either way
                # the built-in kinds must still roll.
                unlisted[kind] = type(exc)
        listed = argo.resolve_listed(listed)
        chosen = consumers.select(
            es.spec.rollout, ref.namespace, es.target_name, annotations, listed
        )
        present = {
            Workload.parse(ref.namespace, f"{w['kind']}/{w['metadata']['name']}") for w in listed
        }
        for missing in [s for s in chosen if s.workload not in present]:
            why = unlisted.get(missing.workload.kind)
            message = consumers.missing_message(missing.workload, why)
            self._events.record(
                ref.involved(), "ExternalSecret", "RolloutTargetMissing", message, warning=True
            )
        return [s for s in chosen if s.workload in present]

    # -- the background side ------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # one bad tick (API server away) must not end health watching
                log.exception("rollout tick failed")
            self._wake.wait(self._poll)
            self._wake.clear()

    def _tick(self) -> None:
        now = self._clock()
        with self._lock:
            flights = list(self._flights.values())
            due = flight.restartable(flights, now, self._max)
        for workload, wanting in due.items():
            self._restart(workload, wanting)
        for current in flights:
            if current.patched:
                self._judge(current)

    def _restart(self, workload: Workload, wanting: list[Flight]) -> None:
        tokens = [f.token for f in wanting]
        patch = restart.restart_patch(tokens, self._wall())
        try:
            self._workloads.patch(workload.namespace, workload.kind.value, workload.name, patch)
        except SecretSyncError as exc:
            log.warning("restart failed", extra={"object": str(workload), "reason": str(exc)})
            return
        with self._lock:
            for wanted in wanting:
                if wanted.token in tokens:
                    wanted.patched.add(workload)
        for wanted in wanting:
            self._log(f"restarted {workload}", wanted.es, wanted.token)

    def _judge(self, current: Flight) -> None:
        verdicts = {w: self._verdict(w, current.token) for w in sorted(current.patched)}
        with self._lock:
            for workload, verdict in verdicts.items():
                if verdict.state is health.State.DONE:
                    current.healthy.add(workload)
                else:
                    current.waiting[workload] = verdict.message
            result = flight.outcome(current, verdicts, self._clock())
            if self._flights.get((current.es.namespace, current.es.name)) is not current:
                return  # superseded by a newer change meanwhile
        if result.state is health.State.DONE:
            self._succeed(current)
        elif result.state is health.State.FAILED:
            self._fail(current, result)

    def _verdict(self, workload: Workload, token: str) -> health.Verdict:
        raw = self._workloads.get(workload.namespace, workload.kind.value, workload.name)
        if raw is None:
            return health.Verdict(health.State.FAILED, "NotFound", "the workload was deleted")
        verdict = health.judge(workload.kind, raw, [], token)
        if verdict.state is not health.State.WAIT:
            return verdict
        selector = ((raw.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        pods = self._workloads.pods(workload.namespace, selector) if selector else []
        return health.judge(workload.kind, raw, pods, token)

    def _succeed(self, done: Flight) -> None:
        rolled_back = done.phase is record.Phase.ROLLING_BACK
        done.phase = record.Phase.ROLLED_BACK if rolled_back else record.Phase.SUCCEEDED
        self._finish(done)
        if rolled_back:
            # RolloutFailed stays True: the change itself failed, and its data is held.
            self._metrics.rolled_back()
            message = "rolled back: every workload is healthy on the previous data"
            self._write_record(done, message)
        else:
            self._metrics.succeeded(self._clock() - done.changed)
            message = "rollout succeeded: every workload is healthy"
            self._write_record(done, message, failed=False)
        involved = done.es.involved()
        event = f"{message} (change {done.token})"
        self._events.record(involved, "ExternalSecret", done.phase.value, event)
        self._log(f"rollout {done.phase.value}", done.es, done.token)

    def _fail(self, failed: Flight, result: flight.Outcome) -> None:
        what = f"{result.workload}: {result.reason}: {result.message}"
        self._metrics.failed(result.reason)
        self._events.record(
            failed.es.involved(),
            "ExternalSecret",
            "RolloutFailed",
            f"rollout of change {failed.token} failed: {what}",
            warning=True,
        )
        self._log(f"rollout failed: {what}", failed.es, failed.token)
        rollback = failed.phase is record.Phase.PROGRESSING
        if rollback and failed.on_failure is OnFailure.ROLLBACK and self._rollback(failed, what):
            return
        failed.phase = (
            record.Phase.ROLLBACK_FAILED
            if failed.phase is record.Phase.ROLLING_BACK
            else record.Phase.FAILED
        )
        self._finish(failed)
        self._write_record(failed, what, failed=True, reason=result.reason)

    def _rollback(self, failed: Flight, what: str) -> bool:
        previous_hash = self._recovery.restore(failed.es, failed.target)
        if previous_hash is None:
            return False
        now = self._clock()
        with self._lock:
            failed.held_hash = failed.data_hash
            self._held[(failed.es.namespace, failed.es.name)] = failed.data_hash
            failed.phase, failed.data_hash = record.Phase.ROLLING_BACK, previous_hash
            failed.token = restart.new_token(previous_hash)
            failed.started, failed.not_before = now, now
            failed.patched, failed.healthy, failed.waiting = set(), set(), {}
        self._write_record(failed, f"rolling back: {what}", failed=True, reason="RolledBack")
        self._log("rolling back to the previous data", failed.es, failed.token)
        self._wake.set()
        return True

    def _finish(self, done: Flight) -> None:
        with self._lock:
            key = (done.es.namespace, done.es.name)
            if self._flights.get(key) is done:
                del self._flights[key]

    def _write_record(
        self, current: Flight, message: str = "", *, failed: bool | None = None, reason: str = ""
    ) -> None:
        written = current.record(message)
        if not current.phase.in_flight:
            written = dataclasses.replace(written, finished_at=stamp(self._wall()))
        status: dict[str, Any] = {"rollout": written.to_status()}
        es = current.es
        try:
            if failed is not None:
                raw = self._workloads.get_external_secret(es.namespace, es.name) or {}
                existing = (raw.get("status") or {}).get("conditions") or []
                reason = reason or ("RolloutSucceeded" if not failed else "RolloutFailed")
                status["conditions"] = record.conditions(
                    existing, failed, reason, message, stamp(self._wall())
                )
                mine = next(c for c in status["conditions"] if c["type"] == record.CONDITION)
                with self._lock:  # known before it is written, so no sync writes an older one
                    self._conditions[(es.namespace, es.name)] = mine
            self._workloads.patch_external_secret_status(es.namespace, es.name, status)
        except SecretSyncError as exc:
            log.warning("rollout status not written", extra={"object": str(es), "reason": str(exc)})

    def _log(self, what: str, es: EsRef, token: str) -> None:
        log.info(what, extra={"object": str(es), "token": token})


def _es_ref(es: ExternalSecret, raw: Mapping[str, Any]) -> EsRef:
    meta = raw.get("metadata") or {}
    return EsRef(
        namespace=es.metadata.namespace or "default",
        name=es.metadata.name,
        api_version=str(raw.get("apiVersion") or es.api_version),
        uid=meta.get("uid") or es.metadata.uid,
    )


def _on_failure(es: ExternalSecret) -> OnFailure:
    # Reloader never rolls back: a workload that only opted in by annotation is held, not reverted.
    return es.spec.rollout.on_failure if es.spec.rollout else OnFailure.HOLD


def _timeout(es: ExternalSecret) -> float:
    rollout = es.spec.rollout
    return rollout.health_timeout.total_seconds() if rollout else DEFAULT_TIMEOUT
