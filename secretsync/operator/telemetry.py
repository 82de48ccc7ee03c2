"""The operator's metrics, and the endpoint that serves them with the health probes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from secretsync.metrics import Counter, Gauge, Histogram, exposition


class Metrics:
    """Implements the domain's SyncMetrics and the providers' Telemetry."""

    def __init__(self) -> None:
        self.sync_calls = Counter(
            "externalsecret_sync_calls_total",
            "Syncs of ExternalSecrets, by store and result.",
            ("store", "result"),
        )
        self.sync_errors = Counter(
            "externalsecret_sync_calls_error",
            "Failed syncs of ExternalSecrets, by store and reason.",
            ("store", "reason"),
        )
        self.duration = Histogram(
            "externalsecret_reconcile_duration_seconds", "Time one sync took.", ("store",)
        )
        self.provider_calls = Counter(
            "externalsecret_provider_api_calls_count",
            "Provider API calls, by provider, call and status.",
            ("provider", "call", "status"),
        )
        self.condition_gauge = Gauge(
            "externalsecret_status_condition",
            "The Ready condition of each ExternalSecret.",
            ("namespace", "name", "condition", "status"),
        )
        self.drift = Counter(
            "secretsync_drift_corrections_total",
            "Managed Secrets edited or deleted by hand, then restored.",
            ("namespace",),
        )
        self.extra: list[Counter | Histogram] = []

    def synced(self, store: str, ok: bool, reason: str, seconds: float) -> None:
        self.sync_calls.inc(store, "success" if ok else "error")
        if not ok:
            self.sync_errors.inc(store, reason)
        self.duration.observe(seconds, store)

    def condition(self, namespace: str, name: str, ready: bool) -> None:
        self.condition_gauge.set(namespace, name, "Ready", "True", value=1.0 if ready else 0.0)
        self.condition_gauge.set(namespace, name, "Ready", "False", value=0.0 if ready else 1.0)

    def forget(self, namespace: str, name: str) -> None:
        for status in ("True", "False"):
            self.condition_gauge.remove(namespace, name, "Ready", status)

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.provider_calls.inc(provider, operation, "success" if ok else "error")

    def text(self) -> str:
        return exposition(
            [
                self.sync_calls,
                self.sync_errors,
                self.duration,
                self.provider_calls,
                self.condition_gauge,
                self.drift,
                *self.extra,
            ]
        )


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
