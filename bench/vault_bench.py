"""Read 1,000 distinct keys through the Vault provider, cold and warm, and count the calls.

Uses the OpenBao of a running test bed (`make testbed-up`) when there is one, else starts a
throwaway `bao server -dev` of its own. Credentials come from manifests (no cluster needed):
AppRole, so logins are real and counted. Writes the "Vault / OpenBao provider" section of
docs/benchmarks.md.

    .venv/bin/python bench/vault_bench.py [--keys 1000] [--no-write]
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hvac

from bench import docs_section
from secretsync.api.objects import parse_store
from secretsync.api.sources import RemoteRef
from secretsync.providers import vault
from secretsync.providers.base import Provider, StoreContext
from secretsync.providers.offline import ManifestCredentials
from tests.testbed import bao, binaries, paths, procs, stack

SECTION = "## Vault / OpenBao provider"


class Calls:
    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.counts[operation if ok else f"{operation} (failed)"] += 1

    def take(self) -> dict[str, int]:
        taken = dict(self.counts)
        self.counts.clear()
        return taken


@contextlib.contextmanager
def openbao() -> Iterator[tuple[bao.Bao, str]]:
    if stack.is_running(paths.DEFAULT_STATE_DIR):
        testbed = stack.read_env(paths.DEFAULT_STATE_DIR)
        yield bao.Bao(testbed.VAULT_ADDR, testbed.VAULT_TOKEN), "the running test bed's OpenBao"
        return
    port, token = procs.free_port(), f"root-{uuid.uuid4().hex[:8]}"
    argv = [str(binaries.bao_path()), "server", "-dev", f"-dev-root-token-id={token}"]
    argv += [f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = bao.Bao(f"http://127.0.0.1:{port}", token)
    try:
        for _ in range(150):
            with contextlib.suppress(OSError):
                bao.request(server, "GET", "sys/health", token=False)
                break
            time.sleep(0.2)
        yield server, "a throwaway `bao server -dev`"
    finally:
        proc.kill()
        proc.wait()


def seed(server: bao.Bao, prefix: str, keys: int) -> tuple[str, str, str]:
    """Write the keys and an AppRole that may read them: (mount, role_id, secret_id)."""
    root = hvac.Client(url=server.addr, token=server.token)
    for index in range(keys):
        root.secrets.kv.v2.create_or_update_secret(
            f"{prefix}/{index}", secret={"password": f"value-{index}", "n": index}
        )
    policy = f"bench-{prefix}"
    root.sys.create_or_update_policy(policy, 'path "secret/*" { capabilities = ["read"] }')
    mount = f"approle-{prefix}"
    root.sys.enable_auth_method("approle", path=mount)
    approle = root.auth.approle
    approle.create_or_update_approle("bench", token_policies=[policy], mount_point=mount)
    role_id = approle.read_role_id("bench", mount_point=mount)["data"]["role_id"]
    secret_id = approle.generate_secret_id("bench", mount_point=mount)["data"]["secret_id"]
    return mount, role_id, secret_id


def provider(server: bao.Bao, approle: tuple[str, str, str], calls: Calls) -> Provider:
    mount, role_id, secret_id = approle
    secret = {
        "kind": "Secret",
        "metadata": {"name": "approle", "namespace": "bench"},
        "data": {"secret-id": base64.b64encode(secret_id.encode()).decode()},
    }
    auth = {"path": mount, "roleId": role_id, "secretRef": {"name": "approle", "key": "secret-id"}}
    store = parse_store(
        {
            "kind": "SecretStore",
            "metadata": {"name": "bench", "namespace": "bench"},
            "spec": {
                "provider": {
                    "vault": {"server": server.addr, "path": "secret", "auth": {"appRole": auth}}
                }
            },
        }
    )
    credentials = ManifestCredentials([secret], default_namespace="bench")
    return vault.factory(StoreContext(store, "bench", credentials, calls))


def timed(label: str, action: Any, calls: Calls) -> dict[str, Any]:
    started = time.perf_counter()
    action()
    return {"label": label, "seconds": time.perf_counter() - started, "calls": calls.take()}


def run(keys: int) -> tuple[list[dict[str, Any]], str]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    refs = [RemoteRef(key=f"{prefix}/{i}", property="password") for i in range(keys)]
    with openbao() as (server, where):
        approle = seed(server, prefix, keys)
        calls = Calls()
        client = provider(server, approle, calls)
        rows = [
            timed(
                "cold: new provider, read every key", lambda: [client.get(r) for r in refs], calls
            ),
            timed(
                "warm: same provider, read every key again",
                lambda: [client.get(r) for r in refs],
                calls,
            ),
            timed(
                "warm: version probe of every key", lambda: [client.version(r) for r in refs], calls
            ),
            timed("close (revoke our token)", client.close, calls),
        ]
    return rows, where


def table(rows: list[dict[str, Any]], keys: int) -> str:
    lines = ["| phase | time | per key | HTTP calls |", "|---|---|---|---|"]
    for row in rows:
        counts = ", ".join(f"{op} {n}" for op, n in sorted(row["calls"].items())) or "none"
        per_key = f"{row['seconds'] / keys * 1000:.2f} ms" if "close" not in row["label"] else "—"
        lines.append(f"| {row['label']} | {row['seconds']:.2f} s | {per_key} | {counts} |")
    return "\n".join(lines)


def section(rows: list[dict[str, Any]], keys: int, where: str) -> str:
    return f"""{SECTION}

`bench/vault_bench.py` seeds {keys:,} KV v2 secrets and reads each one with a property
through `secretsync.providers.vault` (AppRole login, credentials from manifests), against
{where}. Counts are the provider's own telemetry, one per HTTP call.

{table(rows, keys)}

- One login per provider for the whole run (DESIGN.md §6: ≤ 1 per store and identity per token
  lifetime), and exactly one HTTP call per distinct key read or probed.
- The version probe reads KV v2 metadata (`current_version`), never the value.
- Reads are sequential on one keep-alive connection; "cold" includes the login.

Machine: the shared 2-core test bed ({platform.machine()}, CPython
{platform.python_version()}), with other engineers' builds and tests running alongside.
"""


def write(text: str) -> None:
    docs_section.write(text)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    rows, where = run(args.keys)
    text = section(rows, args.keys, where)
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
