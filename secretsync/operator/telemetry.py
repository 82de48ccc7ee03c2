"""The operator's metrics, and the endpoint that serves them with the health probes.

The ExternalSecret, store and ClusterExternalSecret metrics are ESO's (docs/api/metrics.md and
pkg/controllers/*/…metrics in external-secrets 2.9): the same names, types, label names and
units, so ESO's dashboards and alerts work unchanged:

- `externalsecret_sync_calls_total{name,namespace}`: every reconcile; `…_sync_calls_error`
  those that failed and will be retried;
- `externalsecret_reconcile_duration{name,namespace}`: a gauge of the last reconcile, in
  nanoseconds (ESO sets it to a Go time.Duration);
- `externalsecret_status_condition{name,namespace,condition,status}`: 1 for the current status
  of the Ready condition, 0 for the other one; likewise `secretstore_…`,
  `clustersecretstore_…` and `clusterexternalsecret_…` (namespace "" for cluster objects);
- `externalsecret_provider_api_calls_count{provider,call,status}`;
- controller-runtime's `controller_runtime_reconcile_total{controller,result}`,
  `…_reconcile_errors_total` and `…_reconcile_time_seconds` (controller = the lowercase kind)
  and `workqueue_depth{name}` (one queue, name "secretsync"), which ESO's dashboard and SLI
  examples are built on;
- our `secretsync_leader`: 1 while this replica syncs (it holds the Lease, or runs without
  leader election), 0 while it stands by, so "no replica leads" is an alert;
- with --enable-extended-metric-labels, the per-object series also carry the object's
  app.kubernetes.io/{name,instance,version,component,part-of,managed-by} labels, named as ESO
  names them (app_kubernetes_io_name, ...).

Where ESO leaks series we do not follow it: a deleted object's series are all removed (ESO keeps
its counters and a `condition="Deleted"` gauge), and a ClusterExternalSecret that turns not
Ready flips its gauges (ESO leaves the Ready/True series at 1). Our own metrics are prefixed
secretsync_; a store there is named by kind, namespace and name, so same-named SecretStores in
two namespaces stay apart.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from secretsync.metrics import (
    Counter,
    Family,
    Gauge,
    GaugeFunc,
    Histogram,
    ProcessMetrics,
    exposition,
)

OBJECT = ("name", "namespace")
CONDITION = ("name", "namespace", "condition", "status")
EXTENDED = (
    "app_kubernetes_io_name",
    "app_kubernetes_io_instance",
    "app_kubernetes_io_version",
    "app_kubernetes_io_component",
    "app_kubernetes_io_part_of",
    "app_kubernetes_io_managed_by",
)
"""ESO's --enable-extended-metric-labels: the object's recommended labels, as label names."""
STORE = ("store_kind", "store_namespace", "store")
NANOSECONDS = 1e9
CONDITION_KINDS = {
    "ExternalSecret": "externalsecret",
    "SecretStore": "secretstore",
    "ClusterSecretStore": "clustersecretstore",
    "ClusterExternalSecret": "clusterexternalsecret",
}
_READABLE = {
    "externalsecret": "External Secret",
    "secretstore": "Secret Store",
    "clustersecretstore": "Cluster Secret Store",
    "clusterexternalsecret": "Cluster External Secret",
}
_NOT_ALNUM = re.compile(r"[^a-zA-Z0-9 ]+")
ObjectKey = tuple[str, str]
"""(namespace, name); namespace "" for a cluster-scoped object."""


def extended_values(labels: Mapping[str, str]) -> tuple[str, ...]:
    """The EXTENDED label values from an object's labels, keys cleaned as ESO's RefineLabels
    does (every run of characters other than letters and digits becomes one underscore)."""
    found = {_NOT_ALNUM.sub("_", key): value for key, value in labels.items()}
    return tuple(found.get(name, "") for name in EXTENDED)


class ObjectMetrics:
    """ESO's status_condition and reconcile_duration gauges of one kind."""

    def __init__(self, prefix: str, extended: bool) -> None:
        readable = _READABLE[prefix]
        extra = EXTENDED if extended else ()
        self.condition = Gauge(
            f"{prefix}_status_condition",
            f"The status condition of a specific {readable}",
            (*CONDITION, *extra),
        )
        self.duration = Gauge(
            f"{prefix}_reconcile_duration",
            f"The duration time to reconcile the {readable}",
            (*OBJECT, *extra),
        )

    def ready(self, key: ObjectKey, extra: tuple[str, ...], ready: bool) -> None:
        (namespace, name), (current, other) = key, ("True", "False") if ready else ("False", "True")
        self.condition.set(name, namespace, "Ready", current, *extra, value=1.0)
        self.condition.set(name, namespace, "Ready", other, *extra, value=0.0)

    def reconciled(self, key: ObjectKey, extra: tuple[str, ...], seconds: float) -> None:
        namespace, name = key
        self.duration.set(name, namespace, *extra, value=round(seconds * NANOSECONDS))

    def forget(self, key: ObjectKey, extra: tuple[str, ...]) -> None:
        namespace, name = key
        for status in ("True", "False"):
            self.condition.remove(name, namespace, "Ready", status, *extra)
        self.duration.remove(name, namespace, *extra)

    @property
    def families(self) -> tuple[Family, ...]:
        return (self.condition, self.duration)


class Metrics:
    """Implements the domain's SyncMetrics and the providers' Telemetry.

    With `extended_labels` (ESO's --enable-extended-metric-labels) the per-object series also
    carry the object's app.kubernetes.io/* labels; `labels()` tells them, and a change of them
    replaces the object's series.
    """

    def __init__(self, *, extended_labels: bool = False) -> None:
        extra = EXTENDED if extended_labels else ()
        self._extended = extended_labels
        self._extra: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._extra_lock = threading.Lock()
        self.sync_calls = Counter(
            "externalsecret_sync_calls_total",
            "Total number of the External Secret sync calls",
            (*OBJECT, *extra),
        )
        self.sync_errors = Counter(
            "externalsecret_sync_calls_error",
            "Total number of the External Secret sync errors",
            (*OBJECT, *extra),
        )
        self.provider_calls = Counter(
            "externalsecret_provider_api_calls_count",
            "Number of API calls towards the secret provider",
            ("provider", "call", "status"),
        )
        self.objects = {
            kind: ObjectMetrics(prefix, extended_labels) for kind, prefix in CONDITION_KINDS.items()
        }
        self.store_syncs = Counter(
            "secretsync_store_sync_calls_total",
            "Syncs of ExternalSecrets by the store they read and their result.",
            (*STORE, "result"),
        )
        self.store_errors = Counter(
            "secretsync_store_sync_errors_total",
            "Failed syncs by store and error class (AccessDenied, Unavailable, ...).",
            (*STORE, "reason"),
        )
        # Client-side rate limits per store (secretsync.resolve.ratelimit, docs/limits.md).
        self.rate_limited_seconds = Counter(
            "secretsync_store_rate_limited_seconds_total",
            "Seconds provider calls waited for their store's rate limit (token bucket or a "
            "pause after the store throttled us).",
            STORE,
        )
        self.throttled_calls = Counter(
            "secretsync_store_throttled_total",
            "Provider calls the store answered with a throttling error (HTTP 429, "
            "ThrottlingException), after the client's own retries.",
            STORE,
        )
        self.rate_tokens = Gauge(
            "secretsync_store_rate_limit_tokens",
            "Calls the store's token bucket allowed at once at its last call (below 0: "
            "calls queue for the rate).",
            STORE,
        )
        self.sync_seconds = Histogram(
            "secretsync_sync_duration_seconds", "Time one sync took, by store.", STORE
        )
        # controller-runtime's reconcile metrics, which ESO's dashboard and SLIs are built on.
        self.reconciles = Counter(
            "controller_runtime_reconcile_total",
            "Total number of reconciliations per controller",
            ("controller", "result"),
        )
        self.reconcile_errors = Counter(
            "controller_runtime_reconcile_errors_total",
            "Total number of reconciliation errors per controller",
            ("controller",),
        )
        self.reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            ("controller",),
        )
        self.drift = Counter(
            "secretsync_drift_corrections_total",
            "Managed Secrets edited or deleted by hand, then restored.",
            ("namespace",),
        )
        self.extra: list[Family] = []
        self._process = ProcessMetrics()

    # --- object labels (extended labels only) -----------------------------------------------

    def labels(
        self, kind: str, namespace: str | None, name: str, labels: Mapping[str, str]
    ) -> None:
        """The object's current labels, before its metrics are set."""
        if not self._extended:
            return
        values = extended_values(labels)
        ident = (kind, namespace or "", name)
        with self._extra_lock:
            previous = self._extra.get(ident)
        if previous is not None and previous != values:
            self._forget(kind, (namespace or "", name))  # the old label values' series go
        with self._extra_lock:
            self._extra[ident] = values

    def _values(self, kind: str, key: ObjectKey) -> tuple[str, ...]:
        if not self._extended:
            return ()
        with self._extra_lock:
            return self._extra.get((kind, *key), ("",) * len(EXTENDED))

    def _forget(self, kind: str, key: ObjectKey) -> None:
        extra = self._values(kind, key)
        self.objects[kind].forget(key, extra)
        if kind == "ExternalSecret":
            self.sync_calls.remove(key[1], key[0], *extra)
            self.sync_errors.remove(key[1], key[0], *extra)

    # --- ExternalSecrets (SyncMetrics) ------------------------------------------------------

    def reconciled(self, namespace: str, name: str, failed: bool, seconds: float) -> None:
        """One reconcile of an ExternalSecret ran (ESO counts every one, due or not)."""
        extra = self._values("ExternalSecret", (namespace, name))
        self.sync_calls.inc(name, namespace, *extra)
        if failed:
            self.sync_errors.inc(name, namespace, *extra)
        self.object_reconciled("ExternalSecret", namespace, name, seconds, failed=failed)

    def synced(self, store: tuple[str, str, str], ok: bool, reason: str, seconds: float) -> None:
        """A sync that read its store ran: `store` is (kind, namespace, name), namespace ""
        for a ClusterSecretStore."""
        self.store_syncs.inc(*store, "success" if ok else "error")
        if not ok:
            self.store_errors.inc(*store, reason)
        self.sync_seconds.observe(seconds, *store)

    def condition(self, namespace: str, name: str, ready: bool) -> None:
        self.object_condition("ExternalSecret", namespace, name, ready)

    def forget(self, namespace: str, name: str) -> None:
        """The ExternalSecret is gone (or no longer ours): drop every series it had."""
        self.forget_object("ExternalSecret", namespace, name)

    # --- every kind -------------------------------------------------------------------------

    def object_condition(self, kind: str, namespace: str | None, name: str, ready: bool) -> None:
        key = (namespace or "", name)
        self.objects[kind].ready(key, self._values(kind, key), ready)

    def object_reconciled(
        self, kind: str, namespace: str | None, name: str, seconds: float, *, failed: bool = False
    ) -> None:
        key = (namespace or "", name)
        self.objects[kind].reconciled(key, self._values(kind, key), seconds)
        controller = CONDITION_KINDS[kind]
        self.reconciles.inc(controller, "error" if failed else "success")
        if failed:
            self.reconcile_errors.inc(controller)
        self.reconcile_time.observe(seconds, controller)

    def forget_object(self, kind: str, namespace: str | None, name: str) -> None:
        key = (namespace or "", name)
        self._forget(kind, key)
        with self._extra_lock:
            self._extra.pop((kind, *key), None)

    # --- providers (Telemetry) ---------------------------------------------------------------

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.provider_calls.inc(provider, operation, "success" if ok else "error")

    # --- rate limits (LimitTelemetry) -------------------------------------------------------

    def rate_limited(self, store: tuple[str, str, str], seconds: float) -> None:
        self.rate_limited_seconds.inc(*store, amount=seconds)

    def throttled(self, store: tuple[str, str, str]) -> None:
        self.throttled_calls.inc(*store)

    def rate_limit_tokens(self, store: tuple[str, str, str], tokens: float) -> None:
        self.rate_tokens.set(*store, value=tokens)

    def families(self) -> list[Family]:
        return [
            self.sync_calls,
            self.sync_errors,
            *(f for kind in self.objects.values() for f in kind.families),
            self.provider_calls,
            self.store_syncs,
            self.store_errors,
            self.sync_seconds,
            self.rate_limited_seconds,
            self.throttled_calls,
            self.rate_tokens,
            self.reconciles,
            self.reconcile_errors,
            self.reconcile_time,
            self.drift,
            *self.extra,
            self._process,
        ]

    def text(self) -> str:
        return exposition(self.families())


class Health:
    """Liveness: the process and its watch loop are making progress. Readiness: this replica
    is either syncing (it leads) or standing by healthily."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._beat = clock()
        self.ready = False
        self.leading = False

    def beat(self) -> None:
        self._beat = self._clock()

    def alive(self, stall_seconds: float = 120.0) -> bool:
        return self._clock() - self._beat < stall_seconds

    @property
    def syncing(self) -> bool:
        """This replica writes: it holds the Lease, or runs without leader election (the
        operator turns `ready` on only once it may sync)."""
        return self.leading or self.ready


def leader_gauge(health: Health) -> GaugeFunc:
    return GaugeFunc(
        "secretsync_leader",
        "1 while this replica syncs (it holds the leader Lease, or leader election is off), "
        "0 while it stands by.",
        lambda: 1.0 if health.syncing else 0.0,
    )


def serve(address: str, metrics: Metrics, health: Health) -> ThreadingHTTPServer:
    host, _, port = address.rpartition(":")
    leader = leader_gauge(health)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            routes = {
                "/metrics": (200, exposition((*metrics.families(), leader))),
                "/healthz": (200, "ok\n") if health.alive() else (503, "stalled\n"),
                "/readyz": (200, "ok\n") if health.ready else (503, "not ready\n"),
            }
            code, body = routes.get(self.path, (404, "not found\n"))
            payload = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return  # scrapes every few seconds would drown the operator's own logs

    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)  # noqa: S104
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server
