"""The real HashiCorp Vault Secrets Operator (v0.10.0, the newest the Go module proxy serves,
built from it), started on demand against the test bed or a private apiserver: never part of
the shared stack's `up`.

It runs out of cluster with a kubeconfig (the admin one: it is a third party here, not the code
under test), without leader election, with its metrics and health probes on free loopback ports.
VSO 0.10 has no flag to watch one namespace: it reconciles every VaultStaticSecret (and its
other kinds) in the cluster, and only those, so it never writes another operator's objects; two
VSOs on one apiserver would share the work, which is why the tests that start it share one
xdist group. `namespace` is its "operator namespace" (OPERATOR_NAMESPACE, which it otherwise
reads from an in-cluster ServiceAccount mount): where it looks for default VaultConnection and
VaultAuth objects and keeps its own state.

Its CRDs ship only in its Go module (config/crd/bases, copied beside the binary when it is
built); they are server-side applied only when the apiserver lacks them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from tests.testbed import binaries, cluster, peer, procs

NAME = "vault-secrets-operator"
CRD_FOLDER = "bases"
"""config/crd/bases of the module, copied beside the binary (binaries.VSO.files)."""


@dataclasses.dataclass(frozen=True)
class Vso:
    folder: Path
    process: procs.Daemon
    namespace: str | None
    metrics_url: str
    probe_url: str
    crds: tuple[str, ...]
    """Every CRD of VSO's, all present on the apiserver while it runs."""
    created_crds: tuple[str, ...]
    """Those of `crds` that this start created (the apiserver lacked them)."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return peer.log(self.folder, NAME)

    def metrics(self) -> str:
        return peer.metrics(self.metrics_url)


def binary() -> Path:
    """The built operator; a TestbedError naming the install command when it is not built."""
    return binaries.require(binaries.VSO)


def crd_documents() -> list[dict[str, Any]]:
    """VSO's CRDs as shipped in its module, one document per file."""
    folder = binaries.module_files(binaries.VSO, CRD_FOLDER)
    documents = []
    for path in sorted(folder.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                documents.append(document)
    if not documents:
        raise procs.TestbedError(f"no CRDs in {folder}; rebuild VSO: {binaries.INSTALL_HINT}")
    return documents


def install_crds(kubeconfig: Path, folder: Path) -> list[str]:
    """Server-side apply VSO's CRDs the apiserver lacks and wait until they are Established;
    returns the names it applied (an existing CRD is never touched)."""
    folder.mkdir(parents=True, exist_ok=True)
    api = cluster.api(kubeconfig)
    listed = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    present = {crd.metadata.name for crd in listed if crd.metadata is not None}
    missing = [d for d in crd_documents() if d["metadata"]["name"] not in present]
    if missing:
        cluster.apply_crds(api, missing)
    return [d["metadata"]["name"] for d in missing]


def start(
    kubeconfig: Path,
    folder: Path,
    *,
    namespace: str | None = None,
    concurrency: int | None = None,
    extra_args: Sequence[str] = (),
) -> Vso:
    """Install VSO's CRDs if needed, start it, and wait until its VaultStaticSecret workers run.
    `concurrency` is its -max-concurrent-reconciles (VSO's default is 100)."""
    exe = binary()
    created = install_crds(kubeconfig, folder)
    metrics_port, probe_port = procs.free_port(), procs.free_port()
    argv = [
        str(exe),
        f"-kubeconfig={kubeconfig}",
        "-leader-elect=false",
        f"-metrics-bind-address=127.0.0.1:{metrics_port}",
        f"-health-probe-bind-address=127.0.0.1:{probe_port}",
        "-zap-log-level=debug",
        "-zap-time-encoding=iso8601",
    ]
    if concurrency is not None:
        argv.append(f"-max-concurrent-reconciles={concurrency}")
    argv += extra_args
    env = {"OPERATOR_NAMESPACE": namespace or "default"}
    proc = procs.start(folder, NAME, argv, env=env)
    vso = Vso(
        folder,
        proc,
        namespace,
        f"http://127.0.0.1:{metrics_port}",
        f"http://127.0.0.1:{probe_port}",
        tuple(sorted(d["metadata"]["name"] for d in crd_documents())),
        tuple(created),
    )

    def running() -> bool:
        # controller-runtime logs this per controller once its caches have synced.
        return any(
            "Starting workers" in line and '"vaultstaticsecret"' in line
            for line in vso.log().splitlines()
        )

    try:
        procs.wait_for(folder, NAME, running, timeout=120, proc=proc)
    except procs.TestbedError:
        stop(vso)
        raise
    return vso


def stop(vso: Vso) -> None:
    procs.stop(vso.folder, NAME)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(vso.pid, 0)
    with contextlib.suppress(FileNotFoundError):
        (vso.folder / "pids" / f"{NAME}.pid").unlink()
