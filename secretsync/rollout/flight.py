"""One rollout in flight and the decisions about it (pure): which workloads may be restarted
now, and what the workloads' verdicts add up to."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from secretsync.api.rollout import OnFailure
from secretsync.rollout.health import State, Verdict
from secretsync.rollout.record import Phase, Record
from secretsync.rollout.workload import Workload

HEALTH_TIMEOUT = "HealthTimeout"


@dataclasses.dataclass(frozen=True)
class EsRef:
    """Enough of the ExternalSecret to post Events and patch status after a restart."""

    namespace: str
    name: str
    api_version: str
    uid: str | None

    def involved(self) -> dict[str, object]:
        meta = {"name": self.name, "namespace": self.namespace, "uid": self.uid}
        return {"apiVersion": self.api_version, "kind": "ExternalSecret", "metadata": meta}

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclasses.dataclass
class Flight:
    """Mutable, and only touched under the controller's lock."""

    es: EsRef
    target: str
    token: str
    phase: Phase
    workloads: tuple[Workload, ...]
    data_hash: str
    on_failure: OnFailure
    timeout: float
    started: float
    """Monotonic time the current attempt (rollout or rollback) began; the deadline's origin."""

    started_at: str
    changed: float
    """Monotonic time of the data change, for the change-to-healthy histogram."""

    not_before: float
    """Debounce: no workload is restarted before this."""

    held_hash: str | None = None
    patched: set[Workload] = dataclasses.field(default_factory=set)
    healthy: set[Workload] = dataclasses.field(default_factory=set)
    waiting: dict[Workload, str] = dataclasses.field(default_factory=dict)

    def record(self, message: str = "") -> Record:
        return Record(
            token=self.token,
            phase=self.phase,
            started_at=self.started_at,
            workloads=self.workloads,
            data_hash=self.data_hash,
            held_hash=self.held_hash,
            message=message,
        )


SLOW_START_CEILING = 5
"""The window grows to at most this many times `max_concurrent`."""


def window(flights: Iterable[Flight], max_concurrent: int) -> int:
    """How many workloads may be unsettled at once: `max_concurrent`, plus one for each workload
    already healthy on a value still rolling out, up to SLOW_START_CEILING times it. As TCP's
    slow start (and the ReplicaSet controller's batches), the window doubles with each wave that
    comes up healthy and stays at its first size while nothing has: a bad value stops after the
    first wave, a good one reaches 50 workloads in three waves instead of five."""
    proven = sum(len(f.healthy & f.patched) for f in flights if f.phase.in_flight)
    return min(max_concurrent * SLOW_START_CEILING, max_concurrent + proven)


def restartable(
    flights: Iterable[Flight], now: float, max_concurrent: int
) -> dict[Workload, list[Flight]]:
    """Workloads to restart now, each with the flights whose tokens its patch carries. A workload
    waits while another ExternalSecret's rollout on it is unsettled (one in flight per
    workload), and only `window` workloads are unsettled at once cluster-wide."""
    flights = list(flights)
    max_concurrent = window(flights, max_concurrent)
    unsettled = {w for f in flights for w in f.patched - f.healthy}
    wanted: dict[Workload, list[Flight]] = {}
    for flight in flights:
        if flight.phase.in_flight and now >= flight.not_before:
            for workload in flight.workloads:
                if workload not in flight.patched:
                    wanted.setdefault(workload, []).append(flight)
    chosen: dict[Workload, list[Flight]] = {}
    for workload in sorted(wanted):
        if workload in unsettled:
            continue
        if len(unsettled) >= max_concurrent:
            break
        unsettled.add(workload)
        chosen[workload] = wanted[workload]
    return chosen


@dataclasses.dataclass(frozen=True)
class Outcome:
    state: State
    workload: Workload | None = None
    reason: str = ""
    message: str = ""


def outcome(flight: Flight, verdicts: Mapping[Workload, Verdict], now: float) -> Outcome:
    """The first failure decides; all done is success; past the deadline is failure."""
    for workload in flight.workloads:
        verdict = verdicts.get(workload)
        if verdict is not None and verdict.state is State.FAILED:
            return Outcome(State.FAILED, workload, verdict.reason, verdict.message)
    pending = [w for w in flight.workloads if w not in flight.healthy]
    if not pending:
        return Outcome(State.DONE)
    if now - flight.started > flight.timeout:
        workload = pending[0]
        last = flight.waiting.get(workload) or "not restarted yet"
        message = f"not healthy within {flight.timeout:.0f}s: {last}"
        return Outcome(State.FAILED, workload, HEALTH_TIMEOUT, message)
    return Outcome(State.WAIT)
