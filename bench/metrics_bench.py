"""The metrics registry: secretsync.metrics (standard library) against prometheus_client, for
the series ESO's metrics give 10,000 ExternalSecrets (sync_calls_total, status_condition x2,
reconcile_duration each; sync_calls_error for the 10% that fail): 41,000 series.

Each registry runs in a fresh process of its own, so import cost and memory are its alone:
- CPU per reconcile's updates (the counter, the two condition gauges, the duration gauge);
- CPU to write the whole exposition (what a scrape costs), median of 5;
- resident memory the series add, and the import itself.

prometheus_client is not a dependency: point PROMETHEUS_CLIENT_PATH at a folder it is
installed into (pip install --target DIR prometheus_client) to compare; without it only our
registry is measured. Run: .venv/bin/python bench/metrics_bench.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docs_section import write_section

OBJECTS = 10_000
PASSES = 5
FAILING_EVERY = 10


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _ours() -> tuple[Any, Any]:
    from secretsync.metrics import Counter, Gauge, exposition  # noqa: PLC0415

    calls = Counter("externalsecret_sync_calls_total", "calls", ("name", "namespace"))
    errors = Counter("externalsecret_sync_calls_error", "errors", ("name", "namespace"))
    condition = Gauge(
        "externalsecret_status_condition", "c", ("name", "namespace", "condition", "status")
    )
    duration = Gauge("externalsecret_reconcile_duration", "d", ("name", "namespace"))

    def update(name: str, namespace: str, ready: bool, nanos: float) -> None:
        calls.inc(name, namespace)
        if not ready:
            errors.inc(name, namespace)
        condition.set(name, namespace, "Ready", "True", value=1.0 if ready else 0.0)
        condition.set(name, namespace, "Ready", "False", value=0.0 if ready else 1.0)
        duration.set(name, namespace, value=nanos)

    def expose() -> str:
        return exposition([calls, errors, condition, duration])

    return update, expose


def _prometheus_client() -> tuple[Any, Any]:
    import prometheus_client as pc  # noqa: PLC0415

    registry = pc.CollectorRegistry()
    calls = pc.Counter(
        "externalsecret_sync_calls", "calls", ("name", "namespace"), registry=registry
    )
    errors = pc.Counter(
        "externalsecret_sync_calls_error", "errors", ("name", "namespace"), registry=registry
    )
    condition = pc.Gauge(
        "externalsecret_status_condition",
        "c",
        ("name", "namespace", "condition", "status"),
        registry=registry,
    )
    duration = pc.Gauge(
        "externalsecret_reconcile_duration", "d", ("name", "namespace"), registry=registry
    )

    def update(name: str, namespace: str, ready: bool, nanos: float) -> None:
        calls.labels(name, namespace).inc()
        if not ready:
            errors.labels(name, namespace).inc()
        condition.labels(name, namespace, "Ready", "True").set(1.0 if ready else 0.0)
        condition.labels(name, namespace, "Ready", "False").set(0.0 if ready else 1.0)
        duration.labels(name, namespace).set(nanos)

    def expose() -> str:
        return pc.generate_latest(registry).decode()

    return update, expose


def measure(which: str) -> dict[str, float]:
    """In this process: one registry, OBJECTS objects, PASSES reconciles each."""
    rss_start = _rss()
    started = time.process_time()
    update, expose = _ours() if which == "ours" else _prometheus_client()
    import_cpu = time.process_time() - started
    rss_imported = _rss()
    names = [(f"app-{i:05d}", f"team-{i % 200:03d}") for i in range(OBJECTS)]
    cpu = time.process_time()
    for round_ in range(PASSES):
        for i, (name, namespace) in enumerate(names):
            update(name, namespace, i % FAILING_EVERY != 0, 1e6 + round_)
    per_update = (time.process_time() - cpu) / (OBJECTS * PASSES)
    rss_full = _rss()
    scrapes = []
    text = ""
    for _ in range(5):
        cpu = time.process_time()
        text = expose()
        scrapes.append(time.process_time() - cpu)
    return {
        "import_ms": import_cpu * 1000,
        "import_rss_mb": (rss_imported - rss_start) / 2**20,
        "update_us": per_update * 1e6,
        "series": float(sum(1 for line in text.splitlines() if not line.startswith("#"))),
        "series_rss_mb": (rss_full - rss_imported) / 2**20,
        "expose_ms": statistics.median(scrapes) * 1000,
        "expose_kb": len(text) / 1024,
    }


def _run(which: str) -> dict[str, float] | None:
    env = dict(os.environ)
    if which == "prometheus_client":
        path = env.get("PROMETHEUS_CLIENT_PATH")
        if not path:
            return None
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, __file__, "--one", which],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(sys.argv[2])))
        return
    rows = {which: _run(which) for which in ("ours", "prometheus_client")}
    header = (
        "| registry | import CPU | import RSS | CPU per reconcile's updates | RSS of the series "
        "| exposition CPU | exposition size |\n|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for which, row in rows.items():
        if row is None:
            continue
        label = "secretsync.metrics" if which == "ours" else "prometheus_client 0.26"
        lines.append(
            f"| {label} | {row['import_ms']:.0f} ms | {row['import_rss_mb']:.1f} MB "
            f"| {row['update_us']:.1f} µs | {row['series_rss_mb']:.1f} MB "
            f"| {row['expose_ms']:.0f} ms | {row['expose_kb']:.0f} KiB |"
        )
    ours = rows["ours"]
    assert ours is not None
    intro = (
        "`bench/metrics_bench.py`: the series ESO's ExternalSecret metrics give "
        f"{OBJECTS:,} ExternalSecrets ({ours['series']:,.0f} series: sync_calls_total, "
        "status_condition True and False, reconcile_duration each, sync_calls_error for the "
        f"{100 // FAILING_EVERY}% that fail), each registry in a fresh process; "
        f"{PASSES} reconciles per ExternalSecret, exposition median of 5."
    )
    body = textwrap.fill(intro, 100) + "\n\n" + "\n".join(lines)
    theirs = rows["prometheus_client"]
    if theirs is not None:
        decision = (
            "Decision: keep the standard-library registry (secretsync/metrics.py). "
            f"prometheus_client costs {theirs['update_us'] / ours['update_us']:.0f}x the CPU "
            f"per update, {theirs['series_rss_mb'] / ours['series_rss_mb']:.1f}x the memory "
            f"for the series (an object and a lock per label set), "
            f"{theirs['expose_ms'] / ours['expose_ms']:.0f}x the CPU per scrape and "
            f"{theirs['import_rss_mb']:.0f} MB at import, for nothing the operator needs: the "
            "process_* metrics it would add are written from /proc by "
            "secretsync.metrics.ProcessMetrics."
        )
        body += "\n\n" + textwrap.fill(decision, 100)
    print(body)
    write_section("## Metrics registry", body)


if __name__ == "__main__":
    main()
