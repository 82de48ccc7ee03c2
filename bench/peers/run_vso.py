"""HashiCorp's Vault Secrets Operator (v0.10.0, tests/testbed/vso.py), out of cluster on the
bed's admin kubeconfig, confined to the benchmark's namespace: VaultStaticSecrets through one
VaultConnection and one AppRole VaultAuth."""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.peers import measure, workload
from bench.peers.workload import ROTATION_REFRESH
from tests.testbed import stack, vso

NAME = "VSO v0.10.0"
GROUP, VERSION = "secrets.hashicorp.com", "v1beta1"
SETTINGS: dict[str, tuple[str, list[str]]] = {
    "default": ("defaults (--max-concurrent-reconciles 100, its default client QPS)", []),
    "16": ("--max-concurrent-reconciles 16, client QPS 500 / burst 1000", []),
}
CONCURRENCY = {"default": None, "16": 16}
CLIENT_LIMITS = {"16": {"VSO_KUBE_CLIENT_QPS": "500", "VSO_KUBE_CLIENT_BURST": "1000"}}
"""VSO reads its client rate limit from these (internal/options/env.go), as from its flags."""


def vault_static_secret(i: int, path: str, refresh: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VaultStaticSecret",
        "metadata": {"name": f"vss-{i}"},
        "spec": {
            "vaultAuthRef": "auth",
            "mount": "secret",
            "type": "kv-v2",
            "path": path,
            "refreshAfter": refresh,
            "destination": {"name": f"vss-{i}", "create": True},
        },
    }


def synced(item: dict[str, Any]) -> bool:
    """VSO v0.10 has no Ready condition: it records the MAC of the data it wrote and the
    generation it wrote it for."""
    status = item.get("status") or {}
    return bool(status.get("secretMAC")) and status.get("lastGeneration") == item.get(
        "metadata", {}
    ).get("generation")


KIND = workload.Kind(GROUP, VERSION, "vaultstaticsecrets", vault_static_secret, synced)


def install(testbed: stack.Testbed, folder: Path) -> None:
    vso.install_crds(Path(testbed.KUBECONFIG), folder / "vso")


def prepare(b: workload.Bed) -> collections.Counter[measure.Write]:
    """The AppRole's secret-id (VSO reads key `id`), a VaultConnection and a VaultAuth."""
    workload.create_secret(b, "creds", {"id": b.secret_id})
    for plural, kind, spec in (
        ("vaultconnections", "VaultConnection", {"address": b.vault.addr}),
        (
            "vaultauths",
            "VaultAuth",
            {
                "vaultConnectionRef": "bao",
                "method": "appRole",
                "mount": "approle",
                "appRole": {"roleId": b.role_id, "secretRef": "creds"},
            },
        ),
    ):
        name = "bao" if kind == "VaultConnection" else "auth"
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": kind,
            "metadata": {"name": name},
            "spec": spec,
        }
        b.custom.create_namespaced_custom_object(GROUP, VERSION, workload.NAMESPACE, plural, body)
    return collections.Counter(
        {
            ("secrets", "", "POST"): 1,
            ("vaultconnections", "", "POST"): 1,
            ("vaultauths", "", "POST"): 1,
        }
    )


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The test bed starts VSO with our environment; set its client limits there for the
    start only."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start(b: workload.Bed, setting: str) -> workload.Operator:
    with _environment(CLIENT_LIMITS.get(setting, {})):
        running = vso.start(
            Path(b.testbed.KUBECONFIG),
            b.folder / "vso",
            namespace=workload.NAMESPACE,
            concurrency=CONCURRENCY[setting],
            # Its own default; the test bed's start() asks for debug.
            extra_args=["-zap-log-level=info"],
        )
    return workload.Operator(running.pid, lambda: vso.stop(running))


ROTATION_NAME = "VSO v0.10.0 (`rolloutRestartTargets`), defaults"
DEPLOYMENT_ANNOTATIONS: dict[str, str] = {}


def rotation_object(name: str, path: str, deployments: list[str]) -> dict[str, Any]:
    """VSO restarts only the workloads the object names."""
    body = vault_static_secret(0, path, ROTATION_REFRESH)
    body["metadata"]["name"] = name
    body["spec"]["destination"]["name"] = name
    body["spec"]["rolloutRestartTargets"] = [{"kind": "Deployment", "name": d} for d in deployments]
    return body


def start_rotation(b: workload.Bed) -> workload.Operator:
    return start(b, "default")
