"""Converge N ExternalSecrets from creation to Ready with the real operator, then measure one
refresh cycle in which nothing changed.

The operator runs as its own process with its ServiceAccount's kubeconfig, on a private test
bed. Provider calls come from the operator's /metrics; Secret writes from the apiserver's own
request counters; peak RSS from the operator's VmHWM; CPU seconds (user + system) from
/proc/<pid>/stat.

    python bench/operator_bench.py --provider vault --count 1000
    python bench/operator_bench.py --provider vault --count 1000 --profile /tmp/prof

With --profile, py-spy (`pip install py-spy`) records the operator's GIL-holding thread from the
first create until all are Ready, as a raw collapsed-stack file and a summary of the hottest frames.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import hvac
from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docs_section import write_section
from tests.operator import harness
from tests.testbed import cluster, stack

NAMESPACE = "bench"


def refresh_seconds(count: int) -> int:
    """The refresh interval: long enough that a cycle is not dominated by convergence."""
    return max(45, count // 40)


def _seed_vault(testbed: stack.Testbed, count: int) -> dict[str, Any]:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: vault.secrets.kv.v2.create_or_update_secret(
                    f"bench/key-{i}", secret={"password": f"value-{i}"}
                ),
                range(count),
            )
        )
    vault.sys.create_or_update_policy(
        "bench", 'path "secret/data/bench/*" { capabilities = ["read"] }'
    )
    vault.write("auth/approle/role/bench", token_policies=["bench"], token_ttl="1h")
    role_id = vault.read("auth/approle/role/bench/role-id")["data"]["role_id"]
    secret_id = vault.write("auth/approle/role/bench/secret-id")["data"]["secret_id"]
    return {
        "secret": {"secret-id": secret_id},
        "provider": {
            "vault": {
                "server": testbed.VAULT_ADDR,
                "path": "secret",
                "version": "v2",
                "auth": {
                    "appRole": {
                        "path": "approle",
                        "roleId": role_id,
                        "secretRef": {"name": "creds", "key": "secret-id"},
                    }
                },
            }
        },
    }


def _seed_aws(testbed: stack.Testbed, count: int) -> dict[str, Any]:
    sm = boto3.client(
        "secretsmanager",
        endpoint_url=testbed.AWS_ENDPOINT_URL,
        region_name=testbed.AWS_DEFAULT_REGION,
        aws_access_key_id=testbed.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=testbed.AWS_SECRET_ACCESS_KEY,
    )
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: sm.create_secret(Name=f"bench/key-{i}", SecretString=f"value-{i}"),
                range(count),
            )
        )
    return {
        "secret": {"id": testbed.AWS_ACCESS_KEY_ID, "key": testbed.AWS_SECRET_ACCESS_KEY},
        "provider": {
            "aws": {
                "service": "SecretsManager",
                "region": testbed.AWS_DEFAULT_REGION,
                "auth": {
                    "secretRef": {
                        "accessKeyIDSecretRef": {"name": "creds", "key": "id"},
                        "secretAccessKeySecretRef": {"name": "creds", "key": "key"},
                    }
                },
            }
        },
    }


def _create(api: client.ApiClient, store: dict[str, Any], count: int) -> None:
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    core.create_namespaced_secret(
        NAMESPACE,
        client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data=store["secret"]),
    )
    custom.create_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        NAMESPACE,
        "secretstores",
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "store"},
            "spec": {"provider": store["provider"]},
        },
    )

    def one(i: int) -> None:
        custom.create_namespaced_custom_object(
            "external-secrets.io",
            "v1",
            NAMESPACE,
            "externalsecrets",
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": f"es-{i}"},
                "spec": {
                    "refreshInterval": f"{refresh_seconds(count)}s",
                    "secretStoreRef": {"name": "store"},
                    "data": [{"secretKey": "password", "remoteRef": {"key": f"bench/key-{i}"}}],
                },
            },
        )

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(count)))


def _ready(api: client.ApiClient) -> int:
    custom = client.CustomObjectsApi(api)
    ready, token = 0, None
    while True:
        page = custom.list_namespaced_custom_object(
            "external-secrets.io", "v1", NAMESPACE, "externalsecrets", limit=2000, _continue=token
        )
        for item in page["items"]:
            conditions = (item.get("status") or {}).get("conditions") or []
            ready += any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        token = page["metadata"].get("continue")
        if not token:
            return ready


def _apiserver_writes(testbed: stack.Testbed) -> dict[str, int]:
    """Mutating requests the apiserver served for Secrets and ExternalSecret status."""
    text = subprocess.run(
        [testbed.KUBECTL_BIN, "get", "--raw", "/metrics"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": testbed.KUBECONFIG},
    ).stdout
    totals = {"secrets": 0, "externalsecrets": 0}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        verb = re.search(r'verb="(\w+)"', line)
        resource = re.search(r'resource="(\w+)"', line)
        if (
            verb
            and resource
            and verb.group(1) in ("POST", "PUT", "PATCH", "DELETE")
            and resource.group(1) in totals
        ):
            totals[resource.group(1)] += int(float(line.rsplit(" ", 1)[1]))
    return totals


def _provider_calls(operator: harness.Operator) -> dict[str, int]:
    calls: dict[str, int] = {}
    for line in operator.metrics().splitlines():
        if line.startswith("externalsecret_provider_api_calls_count{"):
            call = re.search(r'call="(\w+)"', line)
            if call:
                calls[call.group(1)] = calls.get(call.group(1), 0) + int(float(line.split()[-1]))
    return calls


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis
    # start at field 3, so utime and stime (fields 14 and 15) are at 11 and 12 there.
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _settle(pid: int, timeout: float = 120.0) -> None:
    """Wait until the operator idles (under 2% of a CPU over a second), so its start-up (the
    imports it makes on first use, kopf's first lists) is not counted as syncing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu_seconds(pid)
        time.sleep(1.0)
        if _cpu_seconds(pid) - before < 0.02:
            return


def _start_profile(pid: int, folder: Path | None) -> subprocess.Popen[bytes] | None:
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [
            *(str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "100"),
            # --gil: only the thread holding the GIL, so the samples are the Python CPU that
            # workers contend for, not threads blocked in a socket read.
            *("--nonblocking", "--gil", "-o", str(folder / "operator.raw")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_profile(profiler: subprocess.Popen[bytes] | None, folder: Path | None) -> None:
    if profiler is None or folder is None:
        return
    profiler.send_signal(signal.SIGINT)
    profiler.wait(timeout=60)
    (folder / "summary.txt").write_text(summarise_profile(folder / "operator.raw"))


def summarise_profile(raw: Path, top: int = 25) -> str:
    """The frames with the most samples of their own (self) and on the stack (cumulative)."""
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            under[frame] = under.get(frame, 0) + count
    lines = [f"samples: {total}", "", "self:"]
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * n / max(total, 1):6.1f}%  {frame}")
    lines += ["", "cumulative:"]
    for frame, n in sorted(under.items(), key=lambda kv: -kv[1])[: top * 2]:
        lines.append(f"{100 * n / max(total, 1):6.1f}%  {frame}")
    return "\n".join(lines) + "\n"


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {
        k: after.get(k, 0) - before.get(k, 0)
        for k in sorted(set(after) | set(before))
        if after.get(k, 0) - before.get(k, 0)
    }


def run(provider: str, count: int, concurrency: int, profile: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="secretsync-bench-") as folder:
        state = Path(folder) / "stack"
        testbed = stack.up(state, log=lambda _: None)
        try:
            harness.install(testbed)
            api = cluster.api(Path(testbed.KUBECONFIG))
            store = (_seed_vault if provider == "vault" else _seed_aws)(testbed, count)
            kubeconfig = harness.operator_kubeconfig(testbed, Path(folder))
            operator = harness.start(
                kubeconfig,
                Path(folder) / "operator.log",
                "--namespace",
                NAMESPACE,
                "--no-leader-elect",
                "--concurrency",
                str(concurrency),
                "--log-level",
                "WARNING",
                env={"AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL},
            )
            try:
                return _measure(testbed, api, operator, store, count, profile=profile)
            finally:
                operator.stop()
                if profile is not None:  # its warnings beside the profile they explain
                    shutil.copy(Path(folder) / "operator.log", profile)
        finally:
            stack.down(state)


def _measure(
    testbed: stack.Testbed,
    api: client.ApiClient,
    operator: harness.Operator,
    store: dict[str, Any],
    count: int,
    *,
    profile: Path | None = None,
) -> dict[str, Any]:
    pid = operator.process.pid
    _settle(pid)
    writes0 = _apiserver_writes(testbed)
    cpu0 = _cpu_seconds(pid)
    profiler = _start_profile(pid, profile)
    started = time.monotonic()
    _create(api, store, count)
    created = time.monotonic() - started
    while _ready(api) < count:
        time.sleep(0.5)
    converged = time.monotonic() - started
    cpu1 = _cpu_seconds(pid)
    _stop_profile(profiler, profile)
    writes1, calls1 = _apiserver_writes(testbed), _provider_calls(operator)
    # One full refresh cycle with nothing changed at the source. Refreshes are spread over the
    # interval at a fixed slot per object (reconcile/spread.py), so a window of exactly one
    # interval holds each object's refresh once; a longer one would count some twice.
    time.sleep(refresh_seconds(count))
    writes2, calls2 = _apiserver_writes(testbed), _provider_calls(operator)
    cpu2 = _cpu_seconds(pid)
    converge_writes = _diff(writes1, writes0)
    # The benchmark's own creates (N ExternalSecrets, one credentials Secret) are not the
    # operator's writes.
    converge_writes["externalsecrets"] -= count
    converge_writes["secrets"] -= 1
    return {
        "count": count,
        "create_s": round(created, 1),
        "ready_s": round(converged, 1),
        "converge_writes": converge_writes,
        "converge_calls": calls1,
        "refresh_writes": _diff(writes2, writes1),
        "refresh_calls": _diff(calls2, calls1),
        "peak_rss_mb": round(_peak_rss_mb(pid), 1),
        "converge_cpu_s": round(cpu1 - cpu0, 1),
        "converge_cpu_ms_per_es": round(1000 * (cpu1 - cpu0) / count, 1),
        "refresh_cpu_s": round(cpu2 - cpu1, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--provider", choices=["vault", "aws"], default="vault")
    parser.add_argument("--count", type=int, action="append")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--profile", type=Path, help="record the operator with py-spy into this folder"
    )
    args = parser.parse_args()
    results = [
        run(args.provider, n, args.concurrency, args.profile and args.profile / str(n))
        for n in args.count or [100, 1000]
    ]
    print(json.dumps(results, indent=2))
    out = Path(__file__).resolve().parent / f"operator_{args.provider}.json"
    out.write_text(json.dumps(results, indent=2))
    if args.write:
        write_section("## Operator", _report())


def _report() -> str:
    rows = []
    for provider in ("vault", "aws"):
        path = Path(__file__).resolve().parent / f"operator_{provider}.json"
        if not path.exists():
            continue
        for r in json.loads(path.read_text()):
            rows.append(
                f"| {provider} | {r['count']:,} | {r['ready_s']} s | {r['create_s']} s | "
                f"{r['converge_calls']} | {r['converge_writes']} | {r['refresh_calls']} | "
                f"{r['refresh_writes']} | {r['peak_rss_mb']} MB | "
                f"{r.get('converge_cpu_ms_per_es', '-')} ms |"
            )
    return "\n".join(
        [
            "`bench/operator_bench.py`: the operator as a process with its own ServiceAccount, on "
            "a private test bed; N ExternalSecrets (one key each, distinct remote keys) created "
            "with 16 client threads, then one refresh cycle with nothing changed. Provider calls "
            "from the operator's /metrics, writes from the apiserver's `apiserver_request_total`, "
            "peak RSS from VmHWM, CPU (user + system, from /proc/<pid>/stat) from the first "
            "create to all Ready, per ExternalSecret.",
            "",
            "| provider | N | created → all Ready | (of which creating) | provider calls | "
            "apiserver writes | no-change refresh: provider calls | no-change refresh: writes | "
            "peak RSS | CPU per ExternalSecret |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


if __name__ == "__main__":
    main()
