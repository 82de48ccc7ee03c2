"""What each run is judged by, read from outside the operator: the apiserver's own request
counters, OpenBao's audit log, and the kernel's accounting of the operator's process."""

from __future__ import annotations

import collections
import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tests.testbed import bao, procs

WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE", "APPLY"})
Write = tuple[str, str, str]
"""(resource, subresource, verb), as apiserver_request_total labels them."""

BED_OWN = frozenset({"leases", "nodes", "endpoints", "endpointslices"})
"""Written by the bed's own heartbeats and the apiserver's endpoint reconciler."""
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def parse_writes(metrics: str) -> collections.Counter[Write]:
    """Mutating requests the apiserver served, summed over response codes and groups."""
    totals: collections.Counter[Write] = collections.Counter()
    for line in metrics.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels_text, _, value = line.rpartition(" ")
        labels = dict(_LABEL.findall(labels_text))
        if labels.get("verb") in WRITE_VERBS:
            key = (labels.get("resource", ""), labels.get("subresource", ""), labels["verb"])
            totals[key] += int(float(value))
    return totals


def apiserver_writes(kubectl: str, kubeconfig: str) -> collections.Counter[Write]:
    text = subprocess.run(
        [kubectl, "get", "--raw", "/metrics"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": kubeconfig},
    ).stdout
    return parse_writes(text)


def operator_writes(
    before: collections.Counter[Write],
    after: collections.Counter[Write],
    own: collections.Counter[Write],
) -> dict[str, int]:
    """The writes in the window that the benchmark did not make itself, by resource (a
    subresource as `resource/sub`), leaving out the bed's own (BED_OWN)."""
    delta = after.copy()
    delta.subtract(before)
    delta.subtract(own)
    out: collections.Counter[str] = collections.Counter()
    for (resource, sub, _verb), n in delta.items():
        if resource in BED_OWN or n <= 0:
            continue
        out[f"{resource}/{sub}" if sub else resource] += n
    return dict(sorted(out.items()))


def start_audited_bao(state: Path, audit: Path) -> bao.Bao:
    """The bed's own OpenBao dev server, with a file audit device: OpenBao's record of every
    request, a provider-side count that does not depend on any operator's own metrics. OpenBao
    2.x takes audit devices from its configuration only (the API refuses to enable one), so
    this server is started here with one declared, beside the stack's unaudited servers, and
    stopped with the stack. Dev mode mounts KV v2 at secret/; AppRole is enabled here."""
    config = state / "openbao-bench.hcl"
    config.write_text(
        f'audit "file" "bench" {{\n  options {{\n    file_path = "{audit}"\n  }}\n}}\n'
    )
    port, token = procs.free_port(), "root-" + secrets.token_hex(8)
    argv = [*bao.dev_argv(port, token), f"-config={config}"]
    proc = procs.start(state, "openbao-bench", argv)
    vault = bao.Bao(addr=f"http://127.0.0.1:{port}", token=token)
    procs.wait_for(
        state,
        "openbao-bench",
        lambda: bao.request(vault, "GET", "sys/health", token=False).get("sealed") is False,
        timeout=60,
        proc=proc,
    )
    bao.request(vault, "POST", "sys/auth/approle", {"type": "approle"})
    return vault


def audit_offset(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def classify(path: str) -> str:
    if path.startswith("auth/") and path.endswith("/login"):
        return "logins"
    if path.startswith(("secret/data/", "secret/metadata/")):
        return "reads"
    return "other"


def count_requests(lines: Iterable[str]) -> dict[str, int]:
    """Requests in audit lines by kind (logins, KV reads, other), leaving out the benchmark's own
    root-token calls."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("type") != "request":
            continue
        policies = (entry.get("auth") or {}).get("policies") or []
        if "root" in policies:
            continue
        counts[classify(entry["request"]["path"])] += 1
    return {k: counts.get(k, 0) for k in ("logins", "reads", "other")}


def provider_requests(path: Path, start: int, end: int | None = None) -> dict[str, int]:
    with path.open("rb") as f:
        f.seek(start)
        data = f.read() if end is None else f.read(end - start)
    return count_requests(data.decode(errors="replace").splitlines())


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def parse_cpu_seconds(stat: str, ticks: int) -> float:
    """utime + stime + cutime + cstime from a /proc/<pid>/stat line (fields 14-17; the command
    name in field 2 may hold spaces, so count from its closing parenthesis)."""
    fields = stat.rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:15]) / ticks


def cpu_seconds(pid: int) -> float:
    return parse_cpu_seconds(
        Path(f"/proc/{pid}/stat").read_text(), os.sysconf(os.sysconf_names["SC_CLK_TCK"])
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
