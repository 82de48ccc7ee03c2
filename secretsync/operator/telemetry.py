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
- `externalsecret_provider_api_calls_count{provider,call,status}`.

Where ESO leaks series we do not follow it: a deleted object's series are all removed (ESO keeps
its counters and a `condition="Deleted"` gauge), and a ClusterExternalSecret that turns not
Ready flips its gauges (ESO leaves the Ready/True series at 1). Our own metrics are prefixed
secretsync_; a store there is named by kind, namespace and name, so same-named SecretStores in
two namespaces stay apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from secretsync.metrics import Counter, Family, Gauge, Histogram, ProcessMetrics, exposition

OBJECT = ("name", "namespace")
CONDITION = ("name", "namespace", "condition", "status")
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


class ObjectMetrics:
    """ESO's status_condition and reconcile_duration gauges of one kind."""

    def __init__(self, prefix: str) -> None:
        readable = _READABLE[prefix]
        self.condition = Gauge(
            f"{prefix}_status_condition",
            f"The status condition of a specific {readable}",
            CONDITION,
        )
        self.duration = Gauge(
            f"{prefix}_reconcile_duration", f"The duration time to reconcile the {readable}", OBJECT
        )

    def ready(self, namespace: str, name: str, ready: bool) -> None:
        current, other = ("True", "False") if ready else ("False", "True")
        self.condition.set(name, namespace, "Ready", current, value=1.0)
        self.condition.set(name, namespace, "Ready", other, value=0.0)

    def reconciled(self, namespace: str, name: str, seconds: float) -> None:
        self.duration.set(name, namespace, value=round(seconds * NANOSECONDS))

    def forget(self, namespace: str, name: str) -> None:
        for status in ("True", "False"):
            self.condition.remove(name, namespace, "Ready", status)
        self.duration.remove(name, namespace)

    @property
    def families(self) -> tuple[Family, ...]:
        return (self.condition, self.duration)


class Metrics:
    """Implements the domain's SyncMetrics and the providers' Telemetry."""

    def __init__(self) -> None:
        self.sync_calls = Counter(
            "externalsecret_sync_calls_total",
            "Total number of the External Secret sync calls",
            OBJECT,
        )
        self.sync_errors = Counter(
            "externalsecret_sync_calls_error",
            "Total number of the External Secret sync errors",
            OBJECT,
        )
        self.provider_calls = Counter(
            "externalsecret_provider_api_calls_count",
            "Number of API calls towards the secret provider",
            ("provider", "call", "status"),
        )
        self.objects = {kind: ObjectMetrics(prefix) for kind, prefix in CONDITION_KINDS.items()}
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
        self.sync_seconds = Histogram(
            "secretsync_sync_duration_seconds", "Time one sync took, by store.", STORE
        )
        self.drift = Counter(
            "secretsync_drift_corrections_total",
            "Managed Secrets edited or deleted by hand, then restored.",
            ("namespace",),
        )
        self.extra: list[Family] = []
        self._process = ProcessMetrics()

    # --- ExternalSecrets (SyncMetrics) ------------------------------------------------------

    def reconciled(self, namespace: str, name: str, failed: bool, seconds: float) -> None:
        """One reconcile of an ExternalSecret ran (ESO counts every one, due or not)."""
        self.sync_calls.inc(name, namespace)
        if failed:
            self.sync_errors.inc(name, namespace)
        self.objects["ExternalSecret"].reconciled(namespace, name, seconds)

    def synced(self, store: tuple[str, str, str], ok: bool, reason: str, seconds: float) -> None:
        """A sync that read its store ran: `store` is (kind, namespace, name), namespace ""
        for a ClusterSecretStore."""
        self.store_syncs.inc(*store, "success" if ok else "error")
        if not ok:
            self.store_errors.inc(*store, reason)
        self.sync_seconds.observe(seconds, *store)

    def condition(self, namespace: str, name: str, ready: bool) -> None:
        self.objects["ExternalSecret"].ready(namespace, name, ready)

    def forget(self, namespace: str, name: str) -> None:
        """The ExternalSecret is gone (or no longer ours): drop every series it had."""
        self.objects["ExternalSecret"].forget(namespace, name)
        self.sync_calls.remove(name, namespace)
        self.sync_errors.remove(name, namespace)

    # --- stores and ClusterExternalSecrets ---------------------------------------------------

    def object_condition(self, kind: str, namespace: str | None, name: str, ready: bool) -> None:
        self.objects[kind].ready(namespace or "", name, ready)

    def object_reconciled(
        self, kind: str, namespace: str | None, name: str, seconds: float
    ) -> None:
        self.objects[kind].reconciled(namespace or "", name, seconds)

    def forget_object(self, kind: str, namespace: str | None, name: str) -> None:
        self.objects[kind].forget(namespace or "", name)

    # --- providers (Telemetry) ---------------------------------------------------------------

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.provider_calls.inc(provider, operation, "success" if ok else "error")

    def families(self) -> list[Family]:
        return [
            self.sync_calls,
            self.sync_errors,
            *(f for kind in self.objects.values() for f in kind.families),
            self.provider_calls,
            self.store_syncs,
            self.store_errors,
            self.sync_seconds,
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


def serve(address: str, metrics: Metrics, health: Health) -> ThreadingHTTPServer:
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            routes = {
                "/metrics": (200, metrics.text()),
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
